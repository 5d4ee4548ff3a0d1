"""Progression advice (move on, stay, or step back), and the coaching of an analysed recording.

The rules (thresholds in ``imurep/data/exercises.toml``, ``[progression]``):

* A set **qualifies** when it has at least the bottom of the exercise's rep range (12–15 for the
  single-leg hip thrust) of reps and at most ``max_faulty_reps`` (0) reps with a fault: every rep
  controlled, with the squeeze held, full range and level hips.  More reps than the range also
  qualify (the variation is too easy).
* A leg is **ready** in a session with ``sets_required`` (3) qualifying sets; the lifter is ready
  to **progress** (next harder variation) when every leg trained in the latest session is ready.
* A set **struggles** when it has fewer than ``struggle_min_clean_reps`` (6) clean reps, hips not
  level on more than ``struggle_tilt_fraction`` (½) of its reps, or rushed lowering on at least
  ``struggle_rushed_fraction`` (80 %) of them.  A leg struggles in a session when at least
  ``struggle_sets_fraction`` (½) of its sets struggle; after ``struggle_sessions`` (2) consecutive
  struggling sessions of a leg (or in the only session there is) the advice is to **step back**
  to the next easier variation.
* Otherwise **stay**; when the clean reps per set have not grown by ``plateau_min_gain`` (1) over
  the last ``plateau_sessions`` (3) sessions, the advice says so (a plateau) and names the cue of
  the most frequent fault.

Every advice carries its reasons: which sets met or missed the rule and why.

:func:`coach` puts together the cues of every set (:mod:`imurep.coaching.cues`, with the
over-extended reps of :func:`over_extended_reps`) and the advice.  No I/O: the exercise catalog
(profiles and rules) is passed in by the caller (:func:`imurep.coaching.exercises.load_catalog`).
"""

from __future__ import annotations

import logging
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from imurep.coaching.cues import FaultCue, set_cues
from imurep.coaching.exercises import Catalog, ExerciseProfile, ProgressionRules
from imurep.model.codes import FAULT_LABELS, FAULTS
from imurep.model.results import SessionResult, SetResult

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SetStats:
    """What the coaching needs of one set (from a :class:`SetResult` or the history database)."""

    index: int
    side: str | None
    reps: int
    clean_reps: int
    fault_counts: dict[str, int] = field(default_factory=dict)
    mean_concentric_s: float | None = None
    mean_top_hold_s: float | None = None
    mean_eccentric_s: float | None = None
    mean_rom_deg: float | None = None
    max_peak_tilt_deg: float | None = None

    @classmethod
    def from_set(cls, s: SetResult) -> SetStats:
        """The statistics of an analysed set."""
        m = s.summary
        return cls(
            index=s.index,
            side=s.side,
            reps=m.reps,
            clean_reps=m.clean_reps,
            fault_counts=dict(m.fault_counts),
            mean_concentric_s=m.mean_concentric_s,
            mean_top_hold_s=m.mean_top_hold_s,
            mean_eccentric_s=m.mean_eccentric_s,
            mean_rom_deg=m.mean_rom_deg,
            max_peak_tilt_deg=m.max_peak_tilt_deg,
        )


def leg_of(side: str | None, profile: ExerciseProfile) -> str:
    """The leg a set counts for: ``"both"`` for two-leg exercises, else its side (or ``"unknown"``)."""
    if not profile.single_leg:
        return "both"
    return side or "unknown"


@dataclass(frozen=True)
class SetAssessment:
    """A set judged against the progression rules."""

    stats: SetStats
    leg: str
    qualifies: bool
    struggling: bool
    reasons: tuple[str, ...]

    @property
    def text(self) -> str:
        """``"set 2: 13 reps, all controlled — meets the rule"``."""
        return f"set {self.stats.index}: " + "; ".join(self.reasons)


def _faults_text(counts: dict[str, int]) -> str:
    order = [c for c in FAULTS if counts.get(c)] + [c for c in counts if c not in FAULTS and counts[c]]
    return ", ".join(f"{FAULT_LABELS.get(c, c)} ×{counts[c]}" for c in order)


def assess_set(stats: SetStats, profile: ExerciseProfile, rules: ProgressionRules) -> SetAssessment:
    """Judge one set: does it meet the progression rule, does it show the lifter struggling?"""
    lo, hi = profile.rep_range
    faulty = stats.reps - stats.clean_reps
    reasons: list[str] = []
    enough = stats.reps >= lo
    controlled = faulty <= rules.max_faulty_reps
    qualifies = enough and controlled and stats.reps > 0
    rep_word = "lift" if profile.kind == "leg_lift" else "rep"
    if qualifies:
        extra = f" (above {hi}: too easy)" if stats.reps > hi else ""
        reasons.append(
            f"{stats.reps} {rep_word}s{extra}, {stats.clean_reps} controlled — meets the rule "
            f"({lo}–{hi} controlled {rep_word}s)"
        )
    else:
        why = []
        if not enough:
            why.append(f"{stats.reps} {rep_word}s, fewer than {lo}")
        if not controlled:
            why.append(f"{faulty} with a fault ({_faults_text(stats.fault_counts)})")
        reasons.append("misses the rule: " + "; ".join(why))
    struggle: list[str] = []
    if stats.reps:
        if stats.clean_reps < rules.struggle_min_clean_reps:
            struggle.append(f"only {stats.clean_reps} clean {rep_word}s (< {rules.struggle_min_clean_reps})")
        tilt = stats.fault_counts.get("hip_tilt", 0)
        if tilt > rules.struggle_tilt_fraction * stats.reps:
            struggle.append(f"hips not level on {tilt} of {stats.reps}")
        rushed = stats.fault_counts.get("rushed_lowering", 0)
        if rushed >= rules.struggle_rushed_fraction * stats.reps:
            struggle.append(f"lowering rushed on {rushed} of {stats.reps}")
    if struggle:
        reasons.append("struggling: " + ", ".join(struggle))
    return SetAssessment(stats, leg_of(stats.side, profile), qualifies, bool(struggle), tuple(reasons))


@dataclass(frozen=True)
class LegStatus:
    """One leg in one session: its sets judged, and the verdict."""

    leg: str
    assessments: tuple[SetAssessment, ...]
    ready: bool
    struggling: bool
    mean_clean_reps: float

    @property
    def qualifying(self) -> int:
        """Number of qualifying sets."""
        return sum(a.qualifies for a in self.assessments)


def leg_statuses(
    sets: Sequence[SetStats], profile: ExerciseProfile, rules: ProgressionRules
) -> dict[str, LegStatus]:
    """The status of each leg trained in ``sets`` (one session), in order of first appearance."""
    by_leg: dict[str, list[SetAssessment]] = {}
    for s in sets:
        a = assess_set(s, profile, rules)
        by_leg.setdefault(a.leg, []).append(a)
    out: dict[str, LegStatus] = {}
    for leg, items in by_leg.items():
        n_struggling = sum(a.struggling for a in items)
        out[leg] = LegStatus(
            leg=leg,
            assessments=tuple(items),
            ready=sum(a.qualifies for a in items) >= rules.sets_required,
            struggling=n_struggling > 0 and n_struggling >= rules.struggle_sets_fraction * len(items),
            mean_clean_reps=statistics.fmean(a.stats.clean_reps for a in items),
        )
    return out


@dataclass(frozen=True)
class Advice:
    """Progression advice for one exercise.

    Attributes
    ----------
    exercise
        Profile name the advice is about.
    action
        ``"progress"`` (move to ``suggestion``), ``"regress"`` (step back to ``suggestion``) or
        ``"stay"``.
    suggestion
        Profile name of the variation to move to (None: stay, or the end of the ladder).
    headline
        One sentence for the lifter.
    reasons
        Why: which sets met or missed the rule, per leg.
    plateau
        The clean reps per set have stopped growing.
    focus
        Cue of the most frequent fault of the latest session ("" when none).
    """

    exercise: str
    action: str
    suggestion: str | None
    headline: str
    reasons: tuple[str, ...]
    plateau: bool = False
    focus: str = ""

    def lines(self) -> list[str]:
        """The advice as text lines (headline, then indented reasons)."""
        out = [self.headline]
        out.extend(f"  · {r}" for r in self.reasons)
        if self.focus:
            out.append(f"  focus: {self.focus}")
        return out

    def to_dict(self) -> dict[str, object]:
        """JSON view."""
        return {
            "exercise": self.exercise,
            "action": self.action,
            "suggestion": self.suggestion,
            "headline": self.headline,
            "reasons": list(self.reasons),
            "plateau": self.plateau,
            "focus": self.focus,
        }


def _title(catalog: Catalog, name: str | None) -> str:
    return catalog.profiles[name].title.lower() if name and name in catalog.profiles else str(name)


def _most_frequent_fault(sets: Sequence[SetStats]) -> str | None:
    counts: Counter[str] = Counter()
    for s in sets:
        counts.update({k: v for k, v in s.fault_counts.items() if v})
    return counts.most_common(1)[0][0] if counts else None


def advise(
    sessions: Sequence[Sequence[SetStats]],
    profile: ExerciseProfile,
    *,
    catalog: Catalog,
) -> Advice:
    """Progression advice from the sessions of one exercise, oldest first (the last is the latest).

    Parameters
    ----------
    sessions
        The sets of each session of ``profile``'s exercise, in time order.  One session (e.g. the
        recording just analysed, or a live session) is enough.
    profile
        The exercise.
    catalog
        Profiles (names of the next variations) and rules.
    """
    rules = catalog.rules
    sessions = [list(s) for s in sessions if len(s)]
    if not sessions:
        return Advice(profile.name, "stay", None, f"{profile.title}: no sets recorded yet.", ())
    latest = leg_statuses(sessions[-1], profile, rules)
    reasons: list[str] = []
    for st in latest.values():
        prefix = "" if st.leg == "both" else f"{st.leg} leg: "
        reasons.append(
            f"{prefix}{st.qualifying} of {rules.sets_required} qualifying sets needed — "
            + "; ".join(a.text for a in st.assessments)
        )
    legs = set(latest)
    missing_leg = profile.single_leg and len(legs & {"left", "right"}) == 1
    if missing_leg:
        other = ({"left", "right"} - legs).pop()
        reasons.append(f"no sets of the {other} leg in this session: both legs must meet the rule")
    focus_code = _most_frequent_fault(sessions[-1])
    focus = ""
    if focus_code:
        focus = f"{FAULT_LABELS.get(focus_code, focus_code)} — {profile.cue(focus_code)}"

    if all(st.ready for st in latest.values()) and not missing_leg:
        nxt = profile.harder
        where = (
            f"move on to the {_title(catalog, nxt)}"
            if nxt
            else "add load (a heavier band or a weight on the hips) — this is the hardest variation"
        )
        headline = (
            f"Ready to progress: {rules.sets_required} sets of {profile.rep_range[0]}–{profile.rep_range[1]} "
            f"controlled reps{' per leg' if profile.single_leg else ''} — {where}."
        )
        return Advice(profile.name, "progress", nxt, headline, tuple(reasons), focus=focus)

    # Struggling: in each of the last `struggle_sessions` sessions in which the leg trained.
    history: dict[str, list[LegStatus]] = {}
    for sets in sessions:
        for leg, st in leg_statuses(sets, profile, rules).items():
            history.setdefault(leg, []).append(st)
    struggling_legs = []
    for leg in latest:
        recent = history[leg][-rules.struggle_sessions :]
        if all(st.struggling for st in recent):
            struggling_legs.append((leg, len(recent)))
    if struggling_legs:
        nxt = profile.easier
        names = ", ".join("both legs" if leg == "both" else f"the {leg} leg" for leg, _ in struggling_legs)
        n = max(k for _, k in struggling_legs)
        span = "this session" if n == 1 else f"the last {n} sessions"
        where = (
            f"step back to the {_title(catalog, nxt)} for now"
            if nxt
            else "reduce the range or hold the bridge for fewer reps — this is the easiest variation"
        )
        reasons.append(
            f"struggling on {names} in {span} (fewer than {rules.struggle_min_clean_reps} clean reps, "
            "hips not level on most reps or lowering rushed throughout, in at least half of the sets)"
        )
        headline = f"Too hard for now: {where}, and build up again."
        return Advice(profile.name, "regress", nxt, headline, tuple(reasons), focus=focus)

    plateau = False
    if len(sessions) >= rules.plateau_sessions:
        window = sessions[-rules.plateau_sessions :]
        gains = []
        for leg in latest:
            values = [
                leg_statuses(s, profile, rules)[leg].mean_clean_reps
                for s in window
                if leg in leg_statuses(s, profile, rules)
            ]
            if len(values) == rules.plateau_sessions:
                gains.append(values[-1] - values[0])
        if gains and max(gains) < rules.plateau_min_gain:
            plateau = True
            reasons.append(
                f"plateau: clean reps per set grew by less than {rules.plateau_min_gain:g} over the last "
                f"{rules.plateau_sessions} sessions"
            )
    if plateau:
        headline = f"Stay with the {profile.title.lower()}: progress has stalled — " + (
            f"work on the main fault ({focus})." if focus else "add a set or slow the lowering."
        )
    else:
        headline = f"Stay with the {profile.title.lower()} and keep building towards the rule."
    return Advice(profile.name, "stay", None, headline, tuple(reasons), plateau=plateau, focus=focus)


def over_extended_reps(s: SetResult, threshold_deg: float) -> tuple[int, ...]:
    """Reps driven past the set's typical top (hips over the line, lower back arching).

    A **relative** criterion: a rep is over-extended when its top angle (``RepResult.top_deg``)
    is more than ``threshold_deg`` (``progression.over_extension_deg``, 8°) above the median top
    of the set's reps.  It needs at least 3 reps with a top angle; it cannot see a lifter who
    over-extends on every rep.

    Parameters
    ----------
    s
        The set.
    threshold_deg
        How far above the median top a rep's top may be, degrees
        (``ProgressionRules.over_extension_deg``).

    Returns
    -------
    tuple of int
        The indices of the over-extended reps (none for a lower-first set: its far side is the
        bottom of a squat, where going deeper is no over-extension).
    """
    if s.phase_order == "lower_first":
        return ()
    tops = [(r.index, r.top_deg) for r in s.reps if r.top_deg is not None]
    if len(tops) < 3:
        return ()
    median = statistics.median(t for _, t in tops)
    return tuple(i for i, t in tops if t - median > threshold_deg)


@dataclass(frozen=True)
class SetCoaching:
    """The coaching of one set: the cues of its faults (over-extension included)."""

    index: int
    side: str | None
    cues: tuple[FaultCue, ...]
    over_extended_reps: tuple[int, ...]

    def to_dict(self) -> dict[str, object]:
        """JSON view: ``{"set", "side", "cues": [FaultCue...], "over_extended_reps"}``."""
        return {
            "set": self.index,
            "side": self.side,
            "cues": [c.to_dict() for c in self.cues],
            "over_extended_reps": list(self.over_extended_reps),
        }


@dataclass(frozen=True)
class Coaching:
    """The coaching of an analysed recording: cues per set and the progression advice."""

    exercise: str
    exercise_title: str
    sets: tuple[SetCoaching, ...]
    advice: Advice
    left_right: dict[str, object] = field(default_factory=dict)
    """The left-vs-right figures (:func:`imurep.coaching.trends.left_right`)."""

    def to_dict(self) -> dict[str, object]:
        """JSON view (the ``"coaching"`` key of ``imurep analyze --json``)."""
        return {
            "exercise": self.exercise,
            "exercise_title": self.exercise_title,
            "sets": [s.to_dict() for s in self.sets],
            "advice": self.advice.to_dict(),
            "left_right": self.left_right,
        }


def coach(
    result: SessionResult,
    profile: ExerciseProfile,
    sessions: Sequence[Sequence[SetStats]] | None = None,
    *,
    catalog: Catalog,
) -> Coaching:
    """The cues of every set of ``result`` and the progression advice (no I/O).

    Parameters
    ----------
    result
        The analysis.
    profile
        The exercise (wording of the cues, rules of the advice).
    sessions
        The sessions the advice is based on, oldest first (e.g. the training history of the
        exercise, this recording included).  None or empty: this result only.
    catalog
        Profiles and rules (e.g. :func:`imurep.coaching.exercises.load_catalog`).
    """
    threshold = catalog.rules.over_extension_deg
    sets = []
    for s in result.sets:
        over = over_extended_reps(s, threshold)
        cues = set_cues(s, profile, over_extended=over)
        sets.append(SetCoaching(s.index, s.side, tuple(cues), over))
    from imurep.coaching.trends import left_right  # trends imports this module

    sessions = sessions or [[SetStats.from_set(s) for s in result.sets]]
    advice = advise(sessions, profile, catalog=catalog)
    return Coaching(profile.name, profile.title, tuple(sets), advice, left_right(result))


def coaching_dict(
    result: SessionResult,
    profile: ExerciseProfile,
    sessions: Sequence[Sequence[SetStats]] | None = None,
    *,
    catalog: Catalog,
) -> dict[str, object]:
    """The coaching of ``result`` as plain JSON types (see :func:`coach`), e.g.::

    {"exercise": "single_leg_hip_thrust", "exercise_title": "Single-leg hip thrust",
     "sets": [{"set": 1, "side": "left", "over_extended_reps": [9],
               "cues": [{"fault": "hip_tilt", "label": "hips not level", "reps": [3, 7],
                         "cue": "brace the core, ..."},
                        {"fault": "over_extension", "label": "over-extension", "reps": [9],
                         "cue": "ribs down: ..."}]}],
     "advice": {"exercise": ..., "action": "stay", "suggestion": null, "headline": ...,
                "reasons": [...], "plateau": false, "focus": ""}}
    """
    return coach(result, profile, sessions, catalog=catalog).to_dict()
