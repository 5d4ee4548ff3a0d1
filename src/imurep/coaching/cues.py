"""Coaching cues: the short instruction shown for each fault, live, in tables and in reports.

:data:`FAULT_CUES` holds the default cue of each fault; an exercise profile
(:mod:`imurep.coaching.exercises`) may word a cue for its movement (``ExerciseProfile.cues``).
:func:`set_cues` lists the faults seen in a set with their reps and cue, :func:`cue_lines` prints
them and :func:`rep_cues` gives the cues of one rep.  Pure functions: no I/O, the profile is passed
in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from imurep.model.codes import FAULT_LABELS, FAULTS, OVER_EXTENSION
from imurep.model.results import SetResult

if TYPE_CHECKING:  # exercises imports FAULT_CUES from here
    from imurep.coaching.exercises import ExerciseProfile

FAULT_CUES: Final[dict[str, str]] = {
    "hip_tilt": "brace the core, squeeze both glutes and keep the hips level",
    "rushed_lowering": "lower under control, for a slow count of two",
    "short_hold": "squeeze the glutes for about a second at the top",
    "partial_rom": "drive up until shoulders, hips and knee form a straight line",
    OVER_EXTENSION: "ribs down: stop when hips line up with knees and shoulders",
}
"""Short coaching cue for each fault and coaching observation."""


def cue_of(code: str, profile: ExerciseProfile | None = None) -> str:
    """The cue of fault ``code``: as ``profile`` words it (``ExerciseProfile.cues``), else the
    default of :data:`FAULT_CUES` (``""`` for an unknown code)."""
    worded = profile.cues.get(code) if profile is not None else None
    return worded or FAULT_CUES.get(code, "")


def _rep_list(indices: Sequence[int], word: str = "rep") -> str:
    return (word if len(indices) == 1 else word + "s") + " " + ", ".join(str(i) for i in indices)


@dataclass(frozen=True)
class FaultCue:
    """One fault seen in a set: which reps showed it, and the cue that fixes it.

    Attributes
    ----------
    fault
        Fault code (one of :data:`~imurep.model.codes.FAULTS`, or :data:`OVER_EXTENSION`).
    label
        How the fault is shown, e.g. ``"hips not level"``.
    reps
        Indices of the reps with the fault, in order.
    cue
        The coaching cue, worded for the exercise.
    word
        What the reps are called: ``"rep"``, or ``"lift"`` for leg lifts.
    """

    fault: str
    label: str
    reps: tuple[int, ...]
    cue: str
    word: str = "rep"

    @property
    def text(self) -> str:
        """``"hips not level (reps 3, 7): brace the core, squeeze both glutes and keep the hips level"``."""
        return f"{self.label} ({_rep_list(self.reps, self.word)}): {self.cue}"

    def to_dict(self) -> dict[str, object]:
        """JSON view: ``{"fault", "label", "reps", "cue"}``."""
        return {"fault": self.fault, "label": self.label, "reps": list(self.reps), "cue": self.cue}


def set_cues(
    s: SetResult,
    profile: ExerciseProfile | None = None,
    *,
    over_extended: Sequence[int] = (),
) -> list[FaultCue]:
    """The faults seen in set ``s``, in display order, each with its reps and cue.

    Parameters
    ----------
    s
        The set.
    profile
        The exercise the cues are worded for (the default cues of :data:`FAULT_CUES` when None).
    over_extended
        Indices of the set's over-extended reps
        (:func:`imurep.coaching.advice.over_extended_reps`); when any, they come last, with the
        code :data:`OVER_EXTENSION`.

    Returns
    -------
    list of FaultCue
        One entry per fault that at least one rep showed (empty for a clean set).
    """
    out = []
    word = "lift" if any(r.side is not None for r in s.reps) else "rep"
    for code in FAULTS:
        reps = tuple(r.index for r in s.reps if code in r.faults)
        if reps:
            out.append(FaultCue(code, FAULT_LABELS.get(code, code), reps, cue_of(code, profile), word))
    if over_extended:
        cue = cue_of(OVER_EXTENSION, profile)
        out.append(FaultCue(OVER_EXTENSION, FAULT_LABELS[OVER_EXTENSION], tuple(over_extended), cue))
    return out


def cue_lines(
    s: SetResult, profile: ExerciseProfile | None = None, *, over_extended: Sequence[int] = ()
) -> list[str]:
    """One line per fault seen in set ``s``: the reps and the cue, e.g.
    ``"hips not level (reps 3, 7): brace the core, squeeze both glutes and keep the hips level"``
    (the :attr:`FaultCue.text` of :func:`set_cues`)."""
    return [c.text for c in set_cues(s, profile, over_extended=over_extended)]


def rep_cues(faults: Sequence[str], profile: ExerciseProfile | None = None) -> dict[str, str]:
    """The cue of each fault of one rep, ``{code: cue}`` in the rep's order (worded for
    ``profile``; the default cues when None)."""
    return {code: cue_of(code, profile) for code in faults}
