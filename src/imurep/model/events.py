"""Events of the streaming pipeline and the lifter's markers.

The pipeline emits :data:`Event` values as they happen (live) or all at once (offline); the same
events drive the live screen, the recording's event log and the offline result.
"""

from __future__ import annotations

from dataclasses import dataclass

from imurep.model.errors import SettingsError
from imurep.model.results import RepResult, SetResult


@dataclass(frozen=True)
class SetStarted:
    """A set began (its first rep started at ``start_s``)."""

    set_index: int
    start_s: float


@dataclass(frozen=True)
class RepCompleted:
    """A rep was completed (emitted as soon as its ``end_s`` is decided).

    ``rep`` holds the values known at that moment; faults judged against the whole set (partial
    range) and the tilt reference may still be refined when the set ends (see :class:`SetEnded`).
    """

    set_index: int
    rep: RepResult
    t_emit_s: float
    """Time (recording time base) of the newest sample processed when the event was emitted."""


@dataclass(frozen=True)
class SetEnded:
    """A set ended; ``result`` is final and equals what offline analysis reports."""

    result: SetResult


@dataclass(frozen=True)
class SetDiscarded:
    """A set that had started turned out to be a lone movement, not a set; its reps do not count.

    The next set gets the same index.
    """

    set_index: int
    reason: str


Event = SetStarted | RepCompleted | SetEnded | SetDiscarded
"""Anything the pipeline emits."""


@dataclass(frozen=True)
class Marker:
    """A lifter's input during a live session, kept with the recording.

    Attributes
    ----------
    t_s
        Time of the newest sample when the lifter pressed the key, s (recording time base).
    kind
        ``"new_set"`` (end the current set) or ``"side"`` (switch the working side; also ends
        the current set).
    side
        The new side for ``"side"`` markers.
    """

    t_s: float
    kind: str
    side: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("new_set", "side"):
            raise SettingsError(f"marker kind must be 'new_set' or 'side', got {self.kind!r}")
        if self.kind == "side" and self.side not in ("left", "right"):
            raise SettingsError(f"a side marker needs side 'left' or 'right', got {self.side!r}")

    def to_dict(self) -> dict[str, object]:
        """JSON view."""
        return {"t_s": self.t_s, "kind": self.kind, "side": self.side}
