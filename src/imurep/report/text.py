"""Wording of the plot reports: labels, verdicts, names and the number format of table cells."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from imurep.model.codes import FAULT_LABELS, FAULTS, METRICS, PHASE_METRIC, phase_short
from imurep.model.results import SessionResult, SetResult
from imurep.report.stats import SideStats, has_both_sides, session_totals, side_stats

MISSING = "–"
"""Text of a missing value in the report tables."""


def label(key: str) -> str:
    """Axis label of a metric with its unit, from :data:`imurep.model.codes.METRICS`."""
    return METRICS[key].header


def phase_label(phase: str, order: str = "lift_first") -> str:
    """Display name of a measured phase for the phase order ``order`` (``"concentric"`` → ``"Up"``
    lifting first, ``"Down"`` lowering first; see :data:`imurep.model.codes.PHASE_NAMES`)."""
    return phase_short(phase, order)


def phase_metric_label(key: str, order: str = "lift_first") -> str:
    """Axis label of a metric with its unit; a phase duration (``"concentric_s"`` …) is named for
    the phase order ``order``."""
    phase = next((p for p, k in PHASE_METRIC.items() if k == key), None)
    if phase is None:
        return label(key)
    m = METRICS[key]
    return f"{phase_short(phase, order)} ({m.unit})"


def fmt(value: float | int | None, key: str) -> str:
    """``value`` in the format of metric ``key`` (:data:`MISSING` for None)."""
    return MISSING if value is None else format(value, METRICS[key].fmt)


def plural(n: int, word: str) -> str:
    """``"1 rep"``, ``"2 reps"``; a word ending in *s* takes *es*."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s" if not word.endswith("s") else f"{n} {word}es"


def _rep_list(indices: Sequence[int]) -> str:
    return ("rep " if len(indices) == 1 else "reps ") + ", ".join(str(i) for i in indices)


def _fault_phrase(code: str, reps: Sequence[int]) -> str:
    """E.g. ``"2 rushed lowerings (reps 9, 11)"`` or ``"hips not level in 1 rep (rep 3)"``."""
    n = len(reps)
    name = FAULT_LABELS.get(code, code)
    if code == "hip_tilt":
        return f"{name} in {plural(n, 'rep')} ({_rep_list(reps)})"
    return f"{plural(n, name)} ({_rep_list(reps)})"


def set_verdict(
    s: SetResult, placement: str, tilt_threshold_deg: float | None = None, *, tilt_judged: bool = True
) -> str:
    """One-line verdict of a set, e.g. ``"11 reps · 2 rushed lowerings (reps 9, 11) · hips level"``.

    Parameters
    ----------
    s
        The set.
    placement
        ``"hip"`` or ``"thigh"`` (tilt is only judged with the sensor on the hip).
    tilt_threshold_deg
        Shown with the largest tilt when the hips stayed level (optional).
    tilt_judged
        Whether ``hip_tilt`` is judged (False: the exercise does not, e.g. a two-leg squat; the
        largest tilt is shown without a verdict).
    """
    parts = [plural(len(s.reps), "rep")]
    faulty = False
    for code in FAULTS:
        reps = [r.index for r in s.reps if code in r.faults]
        if reps:
            parts.append(_fault_phrase(code, reps))
            faulty = True
    if not faulty and s.reps:
        parts.append("all reps clean")
    if placement == "hip":
        tilts = [r.peak_tilt_deg for r in s.reps if r.peak_tilt_deg is not None]
        if tilts and not tilt_judged:
            parts.append(f"pelvis tilt max {max(tilts):.1f}° (not judged)")
        elif tilts and not any("hip_tilt" in r.faults for r in s.reps):
            limit = f" ≤ {tilt_threshold_deg:g}°" if tilt_threshold_deg is not None else ""
            parts.append(f"hips level (max {max(tilts):.1f}°{limit})")
    else:
        parts.append("tilt not measured (thigh)")
    return " · ".join(parts)


def session_verdict(result: SessionResult) -> str:
    """One line about the whole session, e.g. ``"2 sets · 21 reps (13 clean) · left and right"``."""
    n_reps, clean = session_totals(result)
    sides = [s for s in side_stats(result) if s != "unknown"]
    if "left" in sides and "right" in sides:
        side_text = "left and right compared"
    elif sides:
        side_text = f"{sides[0]} side only — no left/right comparison"
    else:
        side_text = "sides unknown — no left/right comparison (use --side or the sidecar's sides)"
    if not result.sets:
        return "no sets found"
    return f"{plural(len(result.sets), 'set')} · {plural(n_reps, 'rep')} ({clean} clean) · {side_text}"


def no_sets_hint(result: SessionResult) -> str:
    """What to check when a recording holds no sets (the table and the report say the same)."""
    return (
        "no sets found — no reps were detected. Check that the recording contains hip thrusts, "
        f"that the sensor placement is right (now {result.placement}; use --placement hip|thigh), "
        "and rerun with -v for details."
    )


def set_name(s: SetResult) -> str:
    """Title of a set, e.g. ``"Set 2 · right leg"``."""
    return f"Set {s.index} · {s.side} leg" if s.side else f"Set {s.index} · side unknown"


def sides_heading(stats: Mapping[str, SideStats]) -> str:
    """Heading of the left-vs-right part of the session page."""
    if has_both_sides(stats):
        return "Left vs right"
    present = [s for s in stats if s != "unknown"]
    if present:
        return f"{present[0].capitalize()} side only (no left/right comparison)"
    return "Sides unknown (no left/right comparison)"


def baseline_text(source: str, hip: bool) -> str:
    """How the tilt baseline of a set was found (``SetResult.baseline_source``), in words."""
    if not hip:
        return "– (thigh)"
    return {
        "start_position": "start position",
        "first_rep_bottom": "first rep's bottom (no quiet start)",
    }.get(source, source)
