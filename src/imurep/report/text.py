"""Wording of the plot reports: labels, verdicts, names and the number format of table cells."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from imurep.model.codes import FAULT_LABELS, FAULTS, METRICS, PHASE_METRIC, phase_short
from imurep.model.results import SessionResult, SetResult
from imurep.report.stats import (
    SideStats,
    dropped_hips,
    has_both_sides,
    is_lift_set,
    session_totals,
    side_stats,
)

if TYPE_CHECKING:
    from imurep.coaching.advice import Coaching

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


def _rep_list(indices: Sequence[int], word: str = "rep") -> str:
    return (f"{word} " if len(indices) == 1 else f"{word}s ") + ", ".join(str(i) for i in indices)


def _fault_phrase(code: str, reps: Sequence[int], word: str = "rep") -> str:
    """E.g. ``"2 rushed lowerings (reps 9, 11)"`` or ``"hips not level in 1 rep (rep 3)"``."""
    n = len(reps)
    name = FAULT_LABELS.get(code, code)
    if code == "hip_tilt":
        return f"{name} in {plural(n, word)} ({_rep_list(reps, word)})"
    return f"{plural(n, name)} ({_rep_list(reps, word)})"


def hip_drop_phrase(s: SetResult) -> str:
    """Which hip dropped in the tilted reps of ``s``, e.g. ``"the right hip drops"`` ("" when unknown)."""
    sides = [side for side in dropped_hips(s).values() if side]
    if not sides:
        return ""
    left, right = sides.count("left"), sides.count("right")
    if left and right:
        return f"the left hip drops in {left}, the right in {right}"
    return f"the {'left' if left else 'right'} hip drops"


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
    word = "lift" if is_lift_set(s) else "rep"
    parts = [plural(len(s.reps), word)]
    if s.summary.reps_by_side:
        parts[0] += " (" + " · ".join(f"{k} {v}" for k, v in s.summary.reps_by_side.items()) + ")"
    faulty = False
    for code in FAULTS:
        reps = [r.index for r in s.reps if code in r.faults]
        if reps:
            phrase = _fault_phrase(code, reps, word)
            if code == "hip_tilt" and (drop := hip_drop_phrase(s)):
                phrase += f": {drop}"
            parts.append(phrase)
            faulty = True
    if not faulty and s.reps:
        parts.append(f"all {word}s clean")
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
    """Title of a set, e.g. ``"Set 2 · right leg"`` or ``"Set 1 · leg lifts"``."""
    if s.side:
        return f"Set {s.index} · {s.side} leg"
    return f"Set {s.index} · leg lifts" if is_lift_set(s) else f"Set {s.index} · side unknown"


def clock(seconds: float) -> str:
    """``"43:11"`` or ``"1:02:05"`` (h:mm:ss from 1 h on)."""
    total = round(max(seconds, 0.0))
    h, rest = divmod(total, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def started_at(result: SessionResult) -> datetime | None:
    """When the recording started, from the sidecar's ``started_unix_s`` (or ISO ``recorded_at``),
    in the machine's local time zone; None when the recording does not say."""
    meta = result.metadata
    t: datetime | None = None
    if isinstance(meta.get("started_unix_s"), int | float) and not isinstance(
        meta.get("started_unix_s"), bool
    ):
        t = datetime.fromtimestamp(float(meta["started_unix_s"]), UTC)
    elif isinstance(meta.get("recorded_at"), str):
        try:
            t = datetime.fromisoformat(meta["recorded_at"])
        except ValueError:
            return None
        t = t if t.tzinfo else t.replace(tzinfo=UTC)
    return t.astimezone() if t is not None else None


def _when(t: datetime) -> str:
    zone = t.strftime("%Z") or t.strftime("%z")
    return f"{t.strftime('%a')} {t.day} {t.strftime('%b %Y, %H:%M')} {zone}".rstrip()


def exercise_title(result: SessionResult) -> str:
    """Display name of the recording's exercise (``metadata["exercise"]``; the default profile's)."""
    from imurep.coaching.exercises import load_catalog
    from imurep.model.errors import SettingsError

    name = result.metadata.get("exercise")
    try:
        return load_catalog().get(name if isinstance(name, str) else None).title
    except SettingsError:
        return str(name)


def lifter(result: SessionResult) -> str:
    """The lifter's name from the sidecar's ``lifter`` key ("" when not given)."""
    name = result.metadata.get("lifter")
    return name.strip() if isinstance(name, str) else ""


def context_line(result: SessionResult) -> str:
    """Who, what, when and how, e.g. ``"Ana · Single-leg hip thrust · Wed 2 Dec 2026, 10:32 CET ·
    sensor on the hip · demo.csv, 3.8 min at 104 Hz"`` (the date when the sidecar has it)."""
    parts = [p for p in (lifter(result), exercise_title(result)) if p]
    t = started_at(result)
    parts.append(_when(t) if t is not None else "date not recorded")
    parts.append(f"sensor on the {result.placement}")
    q = result.quality
    parts.append(
        f"{Path(result.source).name or 'recording'}, {q.duration_s / 60:.1f} min at {q.sample_rate_hz:.0f} Hz"
    )
    return " · ".join(parts)


def set_time_text(result: SessionResult, s: SetResult) -> str:
    """When set ``s`` was done, e.g. ``"10:35–10:36, 43:11 into the recording, 1:12 long"``
    (clock times when the recording's start is known; times from the recording's first sample)."""
    first = (
        float(result.metadata.get("t0_s", 0.0))
        if isinstance(result.metadata.get("t0_s"), int | float)
        else 0.0
    )
    into = s.start_s - first
    length = f"{clock(s.end_s - s.start_s)} long"
    t = started_at(result)
    if t is None:
        return f"{clock(into)} into the recording, {length}"
    a, b = t + timedelta(seconds=into), t + timedelta(seconds=s.end_s - first)
    return f"{a:%H:%M:%S}–{b:%H:%M:%S}, {clock(into)} into the recording, {length}"


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
        "start_position": "the still start position",
        "first_rep_bottom": "bottom of the first rep (no still start)",
    }.get(source, source)


def advice_lines(coaching: Coaching) -> list[str]:
    """The progression advice as list items: the headline, each reason and the focus."""
    return [line.strip().removeprefix("·").strip() for line in coaching.advice.lines()]
