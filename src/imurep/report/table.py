"""The terminal view of an analysis: per-set rep tables and summaries, printed with rich."""

from __future__ import annotations

from typing import Final

from rich.console import Console
from rich.table import Table
from rich.text import Text

from imurep.model.codes import FAULT_LABELS, FAULTS, METRICS, PHASE_METRIC, phase_short, tempo_line
from imurep.model.results import RepResult, SessionResult, SetResult
from imurep.report.stats import is_uncertain
from imurep.report.text import no_sets_hint

_TABLE_COLUMNS: Final = (
    "index",
    "start_s",
    "concentric_s",
    "top_hold_s",
    "eccentric_s",
    "bottom_pause_s",
    "rom_deg",
    "peak_tilt_deg",
)
_MISSING: Final = "—"


def _fmt(value: float | int | None, key: str) -> str:
    if value is None:
        return _MISSING
    return format(value, METRICS[key].fmt)


def _rep_value(rep: RepResult, key: str, set_start_s: float = 0.0) -> float | int | None:
    """A rep's value in the table; ``start_s`` counts from the set's start (a coach's stopwatch)."""
    value = getattr(rep, key)
    if value is None:
        return None
    if key == "index":
        return int(value)
    return float(value) - set_start_s if key == "start_s" else float(value)


def _fault_text(codes: tuple[str, ...] | list[str], uncertain: bool = False) -> Text:
    notes = [FAULT_LABELS.get(c, c) for c in codes] + (["uncertain"] if uncertain else [])
    if not notes:
        return Text("ok", style="green")
    return Text(", ".join(notes), style="yellow")


def _is_lift_set(s: SetResult) -> bool:
    """Whether the set's movements are leg lifts (glute bridge with leg lift)."""
    return bool(s.summary.reps_by_side)


def _set_header(result: SessionResult, s: SetResult) -> str:
    from imurep.report.text import set_time_text

    side = s.side if s.side else ("both legs" if _is_lift_set(s) else "side unknown")
    kind = " · leg lifts" if _is_lift_set(s) else ""
    return f"Set {s.index} · {side}{kind} · {set_time_text(result, s)}"


def _summary_line(s: SetResult) -> Text:
    m = s.summary
    line = Text()
    word = "lift" if _is_lift_set(s) else "rep"
    line.append(f"{m.reps} {word}{'s' if m.reps != 1 else ''}", style="bold")
    if m.reps_by_side:
        line.append(" (" + " · ".join(f"{side} {n}" for side, n in m.reps_by_side.items()) + ")")
    line.append(f" · {m.clean_reps} clean · time under tension {m.time_under_tension_s:.1f} s")
    if m.mean_rom_deg is not None:
        line.append(f" · mean {'bridge height' if _is_lift_set(s) else 'ROM'} {m.mean_rom_deg:.1f}°")
    line.append(
        "\ntempo " + tempo_line(s.phase_order, m.mean_concentric_s, m.mean_top_hold_s, m.mean_eccentric_s)
    )
    order = [c for c in FAULTS if c in m.fault_counts] + [c for c in m.fault_counts if c not in FAULTS]
    counts = [(c, m.fault_counts[c]) for c in order if m.fault_counts[c]]
    if counts:
        line.append(" · faults: ")
        line.append(", ".join(f"{FAULT_LABELS.get(c, c)} ×{n}" for c, n in counts), style="yellow")
    else:
        line.append(" · no faults", style="green")
    if s.mounting_changes_s:
        at = ", ".join(f"{t - s.start_s:.0f} s" for t in s.mounting_changes_s)
        line.append(f"\nstrap slipped or re-fitted at {at} into the set (re-levelled there)", style="yellow")
    if any(is_uncertain(r) for r in s.reps):
        line.append("\n? = uncertain: maybe not one rep (low confidence)", style="dim")
    return line


def _rep_table(s: SetResult) -> Table:
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    lifts = _is_lift_set(s)
    phase_of = {k: p for p, k in PHASE_METRIC.items()}
    for key in _TABLE_COLUMNS:
        m = METRICS[key]
        label = "Lift" if lifts and key == "index" else m.label
        if key in phase_of:  # named for the set's phase order (a squat's first phase is Down)
            label = phase_short(phase_of[key], s.phase_order)
        # Unit on a second header line keeps the table within 80 columns.
        table.add_column(f"{label}\n({m.unit})" if m.unit else label, justify="right", no_wrap=True)
        if lifts and key == "index":
            table.add_column("Side", justify="left", no_wrap=True)
    table.add_column("Faults", justify="left", min_width=8, overflow="fold")
    for rep in s.reps:
        cells: list[str | Text] = [_fmt(_rep_value(rep, key, s.start_s), key) for key in _TABLE_COLUMNS]
        uncertain = is_uncertain(rep)
        if uncertain:  # the analysis is unsure this is one rep (issue 12's confidence)
            cells[0] = f"{cells[0]}?"
        if lifts:
            cells.insert(_TABLE_COLUMNS.index("index") + 1, rep.side or _MISSING)
        cells.append(_fault_text(rep.faults, uncertain))
        table.add_row(*cells)
    return table


def render_table(result: SessionResult, console: Console) -> None:
    """Print the per-set rep tables and summaries of ``result``.

    Parameters
    ----------
    result
        The analysis.
    console
        Where to print (use ``Console(stderr=True)`` to keep standard output free).
    """
    q = result.quality
    console.print(
        Text.assemble(
            (result.source or "recording", "bold"),
            f" · {result.placement} · {q.sample_rate_hz:.1f} Hz · {q.duration_s / 60:.1f} min"
            f" · {q.n_samples} samples",
        )
    )
    if q.n_gaps:
        console.print(
            Text(
                f"{q.n_gaps} gap{'s' if q.n_gaps != 1 else ''} in the data ({q.gap_total_s:.2f} s in total)",
                style="yellow",
            )
        )
    if not result.sets:
        console.print(Text(no_sets_hint(result), style="yellow"))
        return
    for s in result.sets:
        console.print()
        console.print(Text(_set_header(result, s), style="bold cyan"))
        if s.reps:
            console.print(_rep_table(s))
        else:
            console.print(Text("no reps in this set", style="yellow"))
        console.print(_summary_line(s))
