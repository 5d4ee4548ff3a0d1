"""Voice cues for a live session: the lifter on the bench hears the rep count and each fault's cue.

A :class:`Speaker` says a phrase without blocking the session.  :class:`CommandSpeaker` runs the
platform's offline speech engine as a child process — ``espeak-ng`` (Linux; ``espeak`` too),
``say`` (macOS) or Windows' own ``System.Speech`` through PowerShell — and interrupts a phrase still
being spoken when the next one comes, so the voice never lags behind the set.  :class:`BellSpeaker`
is the fallback when none is installed: it rings the terminal bell on faults (and says so once).
:class:`VoiceCues` turns the pipeline's events into phrases (``"4"``, ``"4. lower under control"``,
``"set 1 done: 11 reps, 8 clean"``).  :func:`find_speaker` picks the engine.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

from imurep.coaching.cues import cue_of
from imurep.coaching.exercises import ExerciseProfile
from imurep.model.events import Event, RepCompleted, SetEnded

logger = logging.getLogger(__name__)

SPEECH_RATE_WPM = 185
"""Words per minute of the spoken cues (quick: the next rep is coming)."""


class Speaker(Protocol):
    """Says a phrase without blocking."""

    @property
    def name(self) -> str:
        """What speaks (shown to the lifter)."""

    def say(self, text: str) -> None:
        """Start saying ``text`` (interrupting any phrase still being said)."""

    def close(self) -> None:
        """Stop speaking and release the engine."""


def speech_command(engine: str, text: str) -> list[str]:
    """The command line that makes ``engine`` (an executable path or name) say ``text``.

    ``espeak-ng`` / ``espeak``: ``-s`` words per minute; ``say``: ``-r`` words per minute;
    ``powershell``/``pwsh``: Windows' ``System.Speech`` synthesizer.
    """
    base = engine.replace("\\", "/").rsplit("/", 1)[-1].lower().removesuffix(".exe")
    if base in ("espeak-ng", "espeak"):
        return [engine, "-s", str(SPEECH_RATE_WPM), "--", text]
    if base == "say":
        return [engine, "-r", str(SPEECH_RATE_WPM), "--", text]
    if base in ("powershell", "pwsh"):
        quoted = text.replace("'", "''")
        script = (
            "Add-Type -AssemblyName System.Speech; "
            f"(New-Object System.Speech.Synthesis.SpeechSynthesizer).Speak('{quoted}')"
        )
        return [engine, "-NoProfile", "-Command", script]
    raise ValueError(f"unknown speech engine {engine!r}")


@dataclass
class CommandSpeaker:
    """Speaks with an offline speech engine run as a child process (one per phrase).

    Parameters
    ----------
    engine
        The engine's executable (see :func:`speech_command`).
    extra_args
        Arguments put after the engine's own (e.g. ``["-w", "out.wav"]`` for espeak-ng to write
        the audio to a file instead of the sound card).
    stdout
        Where the engine's standard output goes (default: discarded).
    """

    engine: str
    extra_args: Sequence[str] = ()
    stdout: int | IO[Any] | None = subprocess.DEVNULL
    spoken: list[str] = field(default_factory=list)
    _proc: subprocess.Popen[bytes] | None = None

    @property
    def name(self) -> str:  # noqa: D102
        return self.engine.replace("\\", "/").rsplit("/", 1)[-1]

    def command(self, text: str) -> list[str]:
        """The command line that says ``text``."""
        cmd = speech_command(self.engine, text)
        at = cmd.index("--") if "--" in cmd else len(cmd) - 1  # options go before the phrase
        return [*cmd[:at], *self.extra_args, *cmd[at:]]

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        """The engine's process saying the latest phrase (None before the first)."""
        return self._proc

    def say(self, text: str) -> None:
        """Start saying ``text`` (the previous phrase is cut short)."""
        self._stop()
        self._proc = subprocess.Popen(
            self.command(text), stdin=subprocess.DEVNULL, stdout=self.stdout, stderr=subprocess.DEVNULL
        )
        self.spoken.append(text)

    def _stop(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def wait(self, timeout: float = 10.0) -> None:
        """Wait until the current phrase is said (tests, the end of a session)."""
        if self._proc is not None:
            self._proc.wait(timeout=timeout)

    def close(self) -> None:  # noqa: D102
        try:
            self.wait(timeout=3.0)
        except subprocess.TimeoutExpired:
            self._stop()


@dataclass
class BellSpeaker:
    """The fallback without a speech engine: the terminal bell on a phrase with a fault cue."""

    bell: Callable[[], None]
    name: str = "bell"

    def say(self, text: str) -> None:  # noqa: D102
        if "." in text or ":" in text:  # a cue or a set summary: worth a bell, a bare count is not
            self.bell()

    def close(self) -> None:  # noqa: D102
        pass


def find_speaker(platform: str | None = None) -> CommandSpeaker | None:
    """The platform's offline speech engine (None when none is installed).

    Linux and others: ``espeak-ng``, else ``espeak``; macOS: ``say``; Windows: PowerShell.
    """
    platform = platform or sys.platform
    if platform == "darwin":
        names = ["say", "espeak-ng"]
    elif platform.startswith("win"):
        names = ["powershell", "pwsh", "espeak-ng"]
    else:
        names = ["espeak-ng", "espeak"]
    for name in names:
        path = shutil.which(name)
        if path:
            return CommandSpeaker(path)
    return None


def short_cue(code: str, profile: ExerciseProfile | None) -> str:
    """The first clause of a fault's cue, e.g. ``"lower under control"`` (short enough to hear
    between two reps)."""
    cue = cue_of(code, profile)
    for sep in (",", ":", ";", " — "):
        cue = cue.split(sep, 1)[0]
    return cue.strip()


@dataclass
class VoiceCues:
    """Speaks the rep count, each fault's cue and the set summary of a live session.

    Parameters
    ----------
    speaker
        The engine (:func:`find_speaker`) or the bell (:class:`BellSpeaker`).
    profile
        The exercise: the cues are worded for it.
    """

    speaker: Speaker
    profile: ExerciseProfile | None = None
    latencies_s: list[float] = field(default_factory=list)
    """Time from each event's arrival to the start of its phrase, s."""

    def phrase(self, e: Event) -> str | None:
        """What to say for event ``e`` (None: nothing)."""
        if isinstance(e, RepCompleted):
            cues = [short_cue(code, self.profile) for code in e.rep.faults]
            return f"{e.rep.index}." + "".join(f" {c}." for c in cues) if cues else str(e.rep.index)
        if isinstance(e, SetEnded):
            m = e.result.summary
            word = "lifts" if m.reps_by_side else "reps"
            return f"set {e.result.index} done: {m.reps} {word}, {m.clean_reps} clean."
        return None

    def on_event(self, e: Event) -> None:
        """Say the phrase of ``e`` at once (a newer phrase interrupts an older one)."""
        text = self.phrase(e)
        if text is None:
            return
        t0 = time.perf_counter()
        self.speaker.say(text)
        self.latencies_s.append(time.perf_counter() - t0)

    def close(self) -> None:
        """Let the last phrase finish and release the engine."""
        self.speaker.close()
