"""What a live session shows: the :class:`View` protocol, its two implementations and the text of
reps, sets and events.

:class:`PlainView` prints one line per event (scripts, pipes and tests); :class:`RichView` is a
live terminal panel.  :func:`event_to_dict` is the JSON line of ``imurep live --events``.
"""

from __future__ import annotations

import sys
from typing import Any, Protocol, TextIO

from imurep.coaching.cues import rep_cues
from imurep.coaching.exercises import ExerciseProfile
from imurep.model.codes import FAULT_LABELS, tempo_line
from imurep.model.events import Event, RepCompleted, SetDiscarded, SetStarted
from imurep.model.results import RepResult, SetResult


def tempo_text(rep: RepResult) -> str:
    """``"up 1.1 s · hold 1.2 s · down 2.3 s"`` (for a lower-first rep ``"down … · bottom … · up …"``)."""
    return tempo_line(rep.phase_order, rep.concentric_s, rep.top_hold_s, rep.eccentric_s)


def level_indicator(tilt_deg: float | None, threshold_deg: float, width: int = 11) -> str:
    """A small bar showing the pelvis tilt against the threshold, e.g. ``[-----|--*--]``."""
    if tilt_deg is None:
        return ""
    half = width // 2
    pos = int(round(max(-1.0, min(1.0, tilt_deg / (2 * threshold_deg))) * half)) + half
    cells = ["-"] * width
    cells[half] = "|"
    cells[pos] = "*"
    return "[" + "".join(cells) + "]"


def rep_line(rep: RepResult, threshold_deg: float, profile: ExerciseProfile | None = None) -> str:
    """One line describing a rep and its faults, with the coaching cue of each fault (worded for
    ``profile`` when given)."""
    tilt = ""
    if rep.peak_tilt_deg is not None:
        tilt = f" · tilt {rep.peak_tilt_deg:.1f}° {level_indicator(rep.peak_tilt_deg, threshold_deg)}"
    verdict = " · good" if not rep.faults else ""
    if rep.side is not None:  # a leg lift: which foot, and how high the bridge is held
        what = "bridge" if rep.peak_tilt_deg is not None else "thigh"  # pelvis sensor / thigh sensor
        line = f"lift {rep.index} ({rep.side}): {tempo_text(rep)} · {what} {rep.rom_deg:.0f}°{tilt}{verdict}"
    else:
        line = f"rep {rep.index}: {tempo_text(rep)} · ROM {rep.rom_deg:.0f}°{tilt}{verdict}"
    for f, cue in rep_cues(rep.faults, profile).items():
        line += f"\n  ! {FAULT_LABELS[f]}: {cue}"
    return line


def set_summary_lines(result: SetResult) -> list[str]:
    """Summary of a finished set (reps, tempo, faults, time under tension)."""
    s = result.summary
    word = "lift" if s.reps_by_side else "rep"
    reps = f"{s.reps} {word}" + ("" if s.reps == 1 else "s")
    lines = [
        f"set {result.index} ({result.side or 'side unknown'}) done: {reps}, {s.clean_reps} clean, "
        f"time under tension {s.time_under_tension_s:.0f} s"
    ]
    if s.mean_concentric_s is not None:
        tempo = tempo_line(result.phase_order, s.mean_concentric_s, s.mean_top_hold_s, s.mean_eccentric_s)
        lines.append(f"  mean tempo: {tempo}")
    faults = [f"{FAULT_LABELS[k]} ×{n}" for k, n in s.fault_counts.items() if n]
    lines.append("  faults: " + (", ".join(faults) if faults else "none"))
    return lines


def event_to_dict(e: Event, profile: ExerciseProfile | None = None) -> dict[str, Any]:
    """JSON view of a pipeline event (``imurep live --events``).

    Parameters
    ----------
    e
        The event.
    profile
        The session's exercise: a rep event carries ``"cues": {code: cue}`` for the rep's faults
        worded for it (the default cues when None; ``{}`` for a clean rep).
    """
    if isinstance(e, SetStarted):
        return {"event": "set_started", "set": e.set_index, "start_s": e.start_s}
    if isinstance(e, RepCompleted):
        return {
            "event": "rep",
            "set": e.set_index,
            "t_emit_s": e.t_emit_s,
            "rep": e.rep.to_dict(),
            "cues": rep_cues(e.rep.faults, profile),
        }
    if isinstance(e, SetDiscarded):
        return {"event": "set_discarded", "set": e.set_index, "reason": e.reason}
    return {"event": "set_ended", "set": e.result.to_dict()}


class View(Protocol):
    """What a live view shows."""

    def status(self, text: str) -> None:
        """Show a state/status message."""

    def rep(
        self, rep: RepResult, set_index: int, threshold_deg: float, profile: ExerciseProfile | None = None
    ) -> None:
        """Show a completed rep (cues worded for ``profile`` when given)."""

    def set_ended(self, lines: list[str]) -> None:
        """Show a set summary."""

    def squeeze(self, target_s: float | None) -> None:
        """The lifter reached the top of a rep and squeezes (count down ``target_s``, s); None: the
        squeeze ended."""

    def alert(self) -> None:
        """Audible alert (terminal bell) on a fault, when enabled."""

    def close(self) -> None:
        """Release the terminal."""


class PlainView:
    """One line per event on a text stream (no terminal control): scripts, pipes and tests."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout

    def _print(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def status(self, text: str) -> None:  # noqa: D102
        self._print(text)

    def rep(  # noqa: D102
        self, rep: RepResult, set_index: int, threshold_deg: float, profile: ExerciseProfile | None = None
    ) -> None:
        self._print(f"[set {set_index}] " + rep_line(rep, threshold_deg, profile))

    def set_ended(self, lines: list[str]) -> None:  # noqa: D102
        for line in lines:
            self._print(line)

    def squeeze(self, target_s: float | None) -> None:
        """Nothing: a countdown needs a screen (one line per event stays one line per event)."""

    def alert(self) -> None:  # noqa: D102
        self.out.write("\a")
        self.out.flush()

    def close(self) -> None:  # noqa: D102
        self.out.flush()


_INFO_PREFIXES = ("connected to", "calibrated", "voice:")
"""Status messages the live screen keeps on show (the others replace the state line)."""


def squeeze_text(left_s: float) -> str:
    """The line above the squeeze countdown: hold on, or held long enough."""
    return "squeeze — hold it" if left_s > 0 else "squeeze held ✓ — now lower slowly"


def summary_style(line: str) -> str:
    """Colour of a set-summary line: a warning (struggling, a cue) never shows green."""
    low = line.lower()
    if "struggling" in low or "stepping back" in low or line.lstrip().startswith("!"):
        return "yellow bold"
    if "faults: none" in low or "progression:" in low or "ready to progress" in low:
        return "green"
    return ""


class RichView:
    """The live screen, readable from the bench: state, a big rep count against the target, the
    set's reps as a strip (tempo and faults), the tilt gauge, the last rep's cues, the set summary
    and, between sets, a big rest timer (see :mod:`imurep.live.screen`)."""

    def __init__(self, console: Any = None) -> None:
        from rich.console import Console
        from rich.live import Live

        self.console = console if console is not None else Console()
        self._state = "connecting"
        self._info = ""
        self._infos: dict[str, str] = {}
        self._set = 0
        self._reps: list[RepResult] = []
        self._target = ""
        self._gauge = ""
        self._cues: list[str] = []
        self._summary: list[str] = []
        self._rest_since: float | None = None
        self._squeeze: tuple[float, float] | None = None  # (monotonic start, target s)
        self._live = Live(
            console=self.console, refresh_per_second=4, transient=False, get_renderable=self._render
        )
        self._live.start()

    def _render(self) -> Any:
        import time

        from rich.panel import Panel
        from rich.text import Text

        from imurep.live.screen import big_text, clock_text, rep_strip

        body = Text()
        body.append(f"{self._state}\n", style="bold cyan")
        if self._info:
            body.append(f"{self._info}\n", style="dim")
        if self._rest_since is not None:
            body.append("\nrest\n", style="bold")
            for row in big_text(clock_text(time.monotonic() - self._rest_since)):
                body.append(row + "\n", style="bold green")
        elif self._squeeze is not None:  # at the top: count the squeeze down
            left = self._squeeze[1] - (time.monotonic() - self._squeeze[0])
            body.append(f"\n{squeeze_text(left)}\n", style="bold")
            for row in big_text(f"{max(left, 0.0):.1f}"):
                body.append(row + "\n", style="bold yellow" if left > 0 else "bold green")
            rep = self._reps[-1].index + 1 if self._reps else 1  # the rep under way
            body.append(
                f"rep {rep} at the top · hold {self._squeeze[1]:g} s · set {self._set}\n", style="bold"
            )
        elif self._reps:
            body.append("\n")
            for row in big_text(str(self._reps[-1].index)):
                body.append(row + "\n", style="bold")
            body.append(f"{self._target}\n", style="bold")
        if self._reps:
            body.append("\n")
            for line in rep_strip(self._reps):
                body.append(line + "\n", style="" if line.endswith(" ok") else "yellow")
        if self._gauge:
            body.append(self._gauge + "\n", style="red" if "over the limit" in self._gauge else "green")
        for line in self._cues:
            body.append(line + "\n", style="red bold")
        for line in self._summary:
            body.append(line + "\n", style=summary_style(line))
        body.append("\nkeys: n new set · s switch side · q quit", style="dim")
        return Panel(body, title="imurep live")

    def status(self, text: str) -> None:  # noqa: D102
        if text.startswith("saved "):  # the end
            self._state, self._info, self._rest_since = "session ended", text, None
        elif text.startswith(_INFO_PREFIXES):  # stays visible: device, battery, rate, calibration, voice
            kind = next(p for p in _INFO_PREFIXES if text.startswith(p))
            self._infos[kind] = text.split(" · waiting")[0]
            self._info = "\n".join(self._infos.values())
        else:
            self._state = text

    def rep(  # noqa: D102
        self, rep: RepResult, set_index: int, threshold_deg: float, profile: ExerciseProfile | None = None
    ) -> None:
        from imurep.live.screen import counter_text, tilt_gauge

        if set_index != self._set:
            self._set, self._reps, self._summary = set_index, [], []
        self._rest_since = None
        self._reps.append(rep)
        word = "lift" if rep.side else "rep"
        target = (
            counter_text(rep.index, profile.rep_range, word) if profile is not None else f"{word} {rep.index}"
        )
        self._target = f"{target} · set {set_index}"
        self._gauge = tilt_gauge(rep.peak_tilt_deg, threshold_deg)
        self._cues = [
            line for line in rep_line(rep, threshold_deg, profile).splitlines() if line.startswith("  !")
        ]

    def squeeze(self, target_s: float | None) -> None:  # noqa: D102
        import time

        self._squeeze = None if target_s is None else (time.monotonic(), target_s)

    def set_ended(self, lines: list[str]) -> None:  # noqa: D102
        import time

        self._squeeze = None
        self._summary = lines
        self._cues = []
        self._rest_since = time.monotonic()

    def alert(self) -> None:  # noqa: D102
        self.console.bell()

    def close(self) -> None:  # noqa: D102
        self._rest_since = None
        self._live.stop()
