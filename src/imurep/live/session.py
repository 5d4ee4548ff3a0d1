"""Live sessions: rep-by-rep feedback while the sensor streams, and a recording that loses nothing.

The session feeds every chunk to the same :class:`~imurep.pipeline.Pipeline` as offline analysis,
appends the samples to a canonical CSV as they arrive (flushed at least every
``flush_interval_s`` and at each set end) and keeps the sidecar JSON (device, placement, sides,
settings, gaps, the lifter's markers) up to date, so ``imurep analyze`` on the saved recording
reports exactly the reps shown live.

Two views: :class:`PlainView` (one line per event; for scripts, pipes and tests) and
:class:`RichView` (a live terminal panel).  Keys: ``n`` new set, ``s`` switch side, ``q`` quit.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TextIO

import numpy as np

from imurep.coaching.advice import SetStats, advise, assess_set, leg_of, over_extended_reps
from imurep.coaching.cues import FAULT_CUES, rep_cues
from imurep.coaching.exercises import Catalog, ExerciseProfile, get_profile, load_catalog
from imurep.core.pipeline import Pipeline
from imurep.core.settings import AnalysisSettings
from imurep.io.canonical import CANONICAL_COLUMNS
from imurep.model.codes import FAULT_LABELS
from imurep.model.errors import DataValidationError, ImurepError
from imurep.model.events import Event, Marker, RepCompleted, SetDiscarded, SetEnded, SetStarted
from imurep.model.results import RepResult, SetResult
from imurep.model.samples import ImuChunk
from imurep.model.units import DEG_PER_RAD

logger = logging.getLogger(__name__)

LIVE_SCHEMA = "imurep.recording/1"


class GapLike(Protocol):
    """A gap in the stream (see :class:`imurep.ble.decoder.StreamGap`)."""

    t_s: float
    n_samples: int
    reason: str


# --- the recording --------------------------------------------------------------------------------


class RecordingWriter:
    """Appends samples to a canonical CSV and keeps its sidecar JSON current.

    Parameters
    ----------
    csv_path
        The recording to create (its folder must exist; an existing file is refused).
    metadata
        Initial sidecar content (device, placement, ...).
    flush_interval_s
        Samples are written to disk at least this often (wall clock), s.
    """

    def __init__(self, csv_path: str | Path, metadata: dict[str, Any], flush_interval_s: float = 1.0) -> None:
        self.path = Path(csv_path)
        if self.path.suffix.lower() != ".csv":
            raise DataValidationError(
                f"the recording must be a .csv file, got {self.path.name!r}", path=str(csv_path)
            )
        if not self.path.parent.is_dir():
            raise DataValidationError(
                f"folder {str(self.path.parent)!r} does not exist; create it or choose another --out",
                path=str(csv_path),
            )
        if self.path.exists():
            raise DataValidationError(
                "the file exists already; choose another --out (recordings are never overwritten)",
                path=str(csv_path),
            )
        self.sidecar_path = self.path.with_suffix(".json")
        self.metadata: dict[str, Any] = {"schema": LIVE_SCHEMA, **metadata, "gaps": [], "markers": []}
        self.flush_interval_s = flush_interval_s
        self._fh: TextIO = self.path.open("x", encoding="utf-8", newline="\n")
        self._fh.write(",".join(CANONICAL_COLUMNS) + "\n")
        self._lines: list[str] = []
        self._last_flush = time.monotonic()
        self.n_samples = 0
        self._write_sidecar()

    def append(self, chunk: ImuChunk) -> ImuChunk:
        """Queue a chunk's samples; written at the next flush (at most ``flush_interval_s`` later).

        Returns
        -------
        ImuChunk
            The samples exactly as stored (parsed back from the text written), so that analysing
            them live gives the same result as analysing the saved file later.
        """
        rows = np.column_stack((chunk.t_s, chunk.acc_mps2, chunk.gyr_rads)).tolist()
        lines = [
            f"{r[0]:.6f},{r[1]:.9g},{r[2]:.9g},{r[3]:.9g},{r[4]:.9g},{r[5]:.9g},{r[6]:.9g}\n" for r in rows
        ]
        stored = np.array([[float(v) for v in line.split(",")] for line in lines])
        self._lines.extend(lines)
        self.n_samples += len(chunk)
        if time.monotonic() - self._last_flush >= self.flush_interval_s:
            self.flush()
        return ImuChunk(stored[:, 0], stored[:, 1:4], stored[:, 4:7])

    def add_gap(self, gap: GapLike) -> None:
        """Record a gap (with its exact sample count) in the sidecar."""
        self.metadata["gaps"].append({"t_s": gap.t_s, "n_samples": gap.n_samples, "reason": gap.reason})
        self.flush()

    def add_marker(self, marker: Marker) -> None:
        """Record a lifter's marker in the sidecar (replayed by ``imurep analyze``)."""
        self.metadata["markers"].append(marker.to_dict())
        self.flush()

    def set_meta(self, **items: Any) -> None:
        """Update sidecar entries (written at the next flush)."""
        self.metadata.update(items)

    def flush(self) -> None:
        """Write queued samples and the sidecar to disk (fsync'd)."""
        if self._lines:
            self._fh.write("".join(self._lines))
            self._lines.clear()
        self._fh.flush()
        with contextlib.suppress(OSError):
            os.fsync(self._fh.fileno())
        self._write_sidecar()
        self._last_flush = time.monotonic()

    def close(self) -> None:
        """Flush and close (idempotent)."""
        if not self._fh.closed:
            self.flush()
            self._fh.close()

    def _write_sidecar(self) -> None:
        tmp = self.sidecar_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.metadata, indent=2, allow_nan=False) + "\n", encoding="utf-8")
        os.replace(tmp, self.sidecar_path)


# --- views ------------------------------------------------------------------------------------------


def tempo_text(rep: RepResult) -> str:
    """``"up 1.1 s · hold 1.2 s · down 2.3 s"``."""
    return f"up {rep.concentric_s:.1f} s · hold {rep.top_hold_s:.1f} s · down {rep.eccentric_s:.1f} s"


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
    lines = [
        f"set {result.index} ({result.side or 'side unknown'}) done: {s.reps} reps, {s.clean_reps} clean, "
        f"time under tension {s.time_under_tension_s:.0f} s"
    ]
    if s.mean_concentric_s is not None:
        lines.append(
            f"  mean tempo: up {s.mean_concentric_s:.1f} s · hold {s.mean_top_hold_s or 0:.1f} s · "
            f"down {s.mean_eccentric_s or 0:.1f} s"
        )
    faults = [f"{FAULT_LABELS[k]} ×{n}" for k, n in s.fault_counts.items() if n]
    lines.append("  faults: " + (", ".join(faults) if faults else "none"))
    return lines


def qualifies_for_progression(result: SetResult, profile: ExerciseProfile | None = None) -> bool:
    """Whether a set meets the progression rule of ``profile`` (default: single-leg hip thrust):
    at least 12 (the bottom of the rep range) controlled reps, all with a ≥ 1 s squeeze, controlled
    lowering, full range and no hip tilt (see :func:`imurep.coaching.assess_set`)."""
    profile = profile or get_profile()
    return assess_set(SetStats.from_set(result), profile, load_catalog().rules).qualifies


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

    def alert(self) -> None:  # noqa: D102
        self.out.write("\a")
        self.out.flush()

    def close(self) -> None:  # noqa: D102
        self.out.flush()


class RichView:
    """A live terminal panel: state, rep counter, last rep's tempo, ROM, tilt level and callouts."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.live import Live

        self.console = Console()
        self._state = "connecting"
        self._counter = ""
        self._last: list[str] = []
        self._summary: list[str] = []
        self._live = Live(self._render(), console=self.console, refresh_per_second=8, transient=False)
        self._live.start()

    def _render(self) -> Any:
        from rich.panel import Panel
        from rich.text import Text

        body = Text()
        body.append(f"{self._state}\n", style="bold cyan")
        if self._counter:
            body.append(f"{self._counter}\n", style="bold")
        for line in self._last:
            body.append(line + "\n", style="red bold" if line.lstrip().startswith("!") else "")
        for line in self._summary:
            body.append(line + "\n", style="green")
        body.append("\nkeys: n new set · s switch side · q quit", style="dim")
        return Panel(body, title="imurep live")

    def _refresh(self) -> None:
        self._live.update(self._render())

    def status(self, text: str) -> None:  # noqa: D102
        self._state = text
        self._refresh()

    def rep(  # noqa: D102
        self, rep: RepResult, set_index: int, threshold_deg: float, profile: ExerciseProfile | None = None
    ) -> None:
        self._counter = f"set {set_index} · {'lift' if rep.side else 'rep'} {rep.index}"
        self._last = rep_line(rep, threshold_deg, profile).splitlines()
        self._refresh()

    def set_ended(self, lines: list[str]) -> None:  # noqa: D102
        self._summary = lines
        self._refresh()

    def alert(self) -> None:  # noqa: D102
        self.console.bell()

    def close(self) -> None:  # noqa: D102
        self._live.stop()


# --- the session ------------------------------------------------------------------------------------


@dataclass
class LiveSession:
    """Runs the pipeline on a live stream, shows feedback and records everything.

    Parameters
    ----------
    settings
        Analysis settings (placement, initial side in ``sides``).
    view
        Where feedback goes.
    writer
        The recording (None: do not record).
    beep
        Ring the terminal bell on faults.
    event_log
        Where to write every event as a JSON line (None: nowhere).
    profile
        The exercise (cues and progression rule; default: single-leg hip thrust).  Its thresholds
        should already be in ``settings`` (:func:`imurep.exercises.settings_for`).
    catalog
        Exercise profiles and progression rules of the advice (default: the packaged ones).
    """

    settings: AnalysisSettings
    view: View
    writer: RecordingWriter | None = None
    beep: bool = False
    event_log: TextIO | None = None
    profile: ExerciseProfile = field(default_factory=get_profile)
    catalog: Catalog = field(default_factory=load_catalog)
    sample_rate_hz: float | None = None
    """The device's nominal sample rate, Hz (None: estimated from the stream)."""
    pipeline: Pipeline = field(init=False)
    events: list[Event] = field(default_factory=list)
    side: str | None = field(init=False)
    qualifying: dict[str, int] = field(default_factory=dict)
    _calibrated_shown: bool = False
    _set_sides: list[str | None] = field(default_factory=list)
    quit_requested: bool = False

    def __post_init__(self) -> None:
        self.pipeline = Pipeline(self.settings, sample_rate_hz=self.sample_rate_hz)
        self.side = self.settings.sides[0] if self.settings.sides else None
        self.view.status("calibrating: hold still in the start position")

    @property
    def threshold_deg(self) -> float:
        """The hip-tilt fault threshold, degrees."""
        return self.settings.faults.tilt_threshold_deg

    def on_chunk(self, chunk: ImuChunk) -> list[Event]:
        """Feed samples: record them, run the pipeline, show what happened."""
        if self.writer is not None:
            chunk = self.writer.append(chunk)
        events = self.pipeline.update(chunk)
        if not self._calibrated_shown and self.pipeline.calibrated:
            self._calibrated_shown = True
            bias = float(np.linalg.norm(self.pipeline.gyro_bias_rads)) * DEG_PER_RAD
            self.view.status(f"calibrated (gyro bias {bias:.1f} °/s) · waiting for the first set")
        self._show(events)
        return events

    def on_gap(self, gap: GapLike) -> None:
        """A gap in the stream: recorded with its exact sample count, never interpolated."""
        if self.writer is not None:
            self.writer.add_gap(gap)
        self.view.status(
            f"{gap.n_samples} samples missing ({gap.reason}) at {gap.t_s:.2f} s — recorded as a gap"
        )

    def on_key(self, key: str) -> None:
        """Handle a key: ``n`` new set, ``s`` switch side, ``q`` quit."""
        t = self.pipeline.t_last_s
        if key == "q":
            self.quit_requested = True
            return
        if key not in ("n", "s") or not np.isfinite(t):
            return
        if key == "s":
            self.side = "right" if self.side == "left" else "left"
            marker = Marker(t, "side", self.side)
            self.view.status(f"switched to the {self.side} leg · the next reps start a new set")
        else:
            marker = Marker(t, "new_set")
            self.view.status("new set · the next reps start a new set")
        self.pipeline.mark(marker)
        if self.writer is not None:
            self.writer.add_marker(marker)

    def finish(self) -> list[Event]:
        """End of stream: close the open set, write the final sidecar, release the view."""
        events = self.pipeline.finish()
        self._show(events)
        if self.writer is not None:
            self._record_sides()
            self.writer.set_meta(ended_unix_s=time.time())
            self.writer.close()
        return events

    def _show(self, events: list[Event]) -> None:
        for e in events:
            self.events.append(e)
            if self.event_log is not None:
                self.event_log.write(json.dumps(event_to_dict(e, self.profile), allow_nan=False) + "\n")
                self.event_log.flush()
            if isinstance(e, SetStarted):
                self.view.status(f"in set {e.set_index} ({self.side or 'side unknown'})")
            elif isinstance(e, RepCompleted):
                self.view.rep(e.rep, e.set_index, self.threshold_deg, self.profile)
                if e.rep.faults and self.beep:
                    self.view.alert()
            elif isinstance(e, SetEnded):
                self._set_ended(e.result)
            elif isinstance(e, SetDiscarded):
                self.view.status(f"that was a lone movement, not a set ({e.reason}); not counted")

    def _set_ended(self, result: SetResult) -> None:
        lines = set_summary_lines(result)
        rules = self.catalog.rules
        over = over_extended_reps(result, rules.over_extension_deg)
        if over:
            lines.append(
                f"  ! {FAULT_LABELS['over_extension']} (rep {', '.join(map(str, over))}): "
                f"{FAULT_CUES['over_extension']}"
            )
        side = leg_of(result.side, self.profile)
        leg = "both legs" if side == "both" else f"the {side} leg"
        assessment = assess_set(SetStats.from_set(result), self.profile, rules)
        if assessment.qualifies:
            self.qualifying[side] = self.qualifying.get(side, 0) + 1
            n = self.qualifying[side]
            lo = self.profile.rep_range[0]
            lines.append(
                f"  progression: {result.summary.reps} controlled reps (≥ {lo}) with the squeeze held and "
                f"level hips — {n} of {rules.sets_required} such sets on {leg}"
            )
            if n >= rules.sets_required:
                advice = advise(
                    [[SetStats.from_set(s) for s in self.pipeline.sets]], self.profile, catalog=self.catalog
                )
                if advice.action == "progress":
                    lines.append("  " + advice.headline)
                else:
                    lines.append(
                        f"  {leg}: ready to progress once the other leg also meets the rule "
                        f"(next: {self.profile.harder or 'more load'})"
                    )
        elif assessment.struggling:
            lines.append("  " + assessment.reasons[-1] + " — a set like this counts towards stepping back")
        self.view.set_ended(lines)
        self.view.status("resting · press n for a new set, s to switch leg, q to quit")
        if self.writer is not None:
            self._record_sides()
            self.writer.flush()

    def _record_sides(self) -> None:
        """Write the side of each set to the sidecar when every side is known."""
        assert self.writer is not None
        sides = [s.side for s in self.pipeline.sets]
        if sides and all(side is not None for side in sides):
            self.writer.set_meta(sides=sides)


async def run_stream(
    session: LiveSession,
    stream: AsyncIterator[Any],
    *,
    keys: Callable[[], str | None] | None = None,
    gap_type: type | None = None,
) -> None:
    """Drive ``session`` from an async stream of :class:`ImuChunk` and gap items.

    Parameters
    ----------
    session
        The live session.
    stream
        Items from the sensor link: chunks, or gaps (anything with ``t_s``, ``n_samples``,
        ``reason``).
    keys
        Polled after each item for a pressed key (None when no key).
    gap_type
        Type of gap items (default: anything that is not an :class:`ImuChunk`).
    """
    async for item in stream:
        if isinstance(item, ImuChunk):
            session.on_chunk(item)
        elif gap_type is None or isinstance(item, gap_type):
            session.on_gap(item)
        if keys is not None:
            key = keys()
            while key:
                session.on_key(key)
                key = keys()
        if session.quit_requested:
            break


class TerminalKeys:
    """Single key presses from a terminal, without blocking (no-op when stdin is not a TTY)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stdin
        self._saved: Any = None
        self.active = False

    def __enter__(self) -> TerminalKeys:
        try:
            if self._stream.isatty():
                import termios
                import tty

                fd = self._stream.fileno()
                self._saved = termios.tcgetattr(fd)
                tty.setcbreak(fd)
                self.active = True
        except (OSError, ValueError, ImportError):  # no terminal control here: keys off
            self.active = False
        return self

    def __exit__(self, *exc: object) -> None:
        if self._saved is not None:
            import termios

            termios.tcsetattr(self._stream.fileno(), termios.TCSADRAIN, self._saved)
            self._saved = None

    def poll(self) -> str | None:
        """The next pressed key, or None."""
        if not self.active:
            return None
        import select

        ready, _, _ = select.select([self._stream], [], [], 0)
        if not ready:
            return None
        ch = os.read(self._stream.fileno(), 1)
        return ch.decode(errors="ignore").lower() or None


@dataclass(frozen=True)
class LiveOptions:
    """What ``imurep live`` was asked to do.

    Attributes
    ----------
    device
        Sensor name or address (None: the first imurep sensor found).
    simulate
        Play this recording through the simulated sensor instead of Bluetooth hardware.
    speed
        Playback speed of the simulated sensor (1 = real time).
    out
        The recording to write (canonical CSV; sidecar JSON beside it).
    beep
        Ring the terminal bell on faults.
    rate_hz
        Requested sample rate, Hz.
    events
        Also write every event as one JSON object per line to this file.
    exercise
        Exercise profile name (recorded in the sidecar; cues and progression rule).
    db, store
        Training-history database (None: the default one) and whether to store the session in it
        when it ends.
    """

    device: str | None = None
    simulate: Path | None = None
    speed: float = 1.0
    out: Path | None = None
    beep: bool = False
    rate_hz: float = 104.0
    events: Path | None = None
    exercise: str | None = None
    db: str | Path | None = None
    store: bool = False


def default_recording_path() -> Path:
    """``session-YYYYmmdd-HHMMSS.csv`` in the current folder."""
    return Path(time.strftime("session-%Y%m%d-%H%M%S.csv"))


async def run_live(options: LiveOptions, settings: AnalysisSettings, view: View) -> LiveSession:
    """Connect to the sensor (or the simulated one), then coach and record until the stream ends,
    ``q`` is pressed or the task is cancelled (Ctrl-C).  The recording is closed in every case.

    Raises
    ------
    SensorNotFoundError, ConnectionLostError, DataValidationError
        With a message saying what to do.
    """
    from imurep.ble.client import SensorLink
    from imurep.ble.decoder import StreamGap

    link_kwargs: dict[str, Any] = {}
    if options.simulate is not None:
        from imurep.ble.simulated import SimulatedSensor, simulated_backends
        from imurep.io import load_recording

        rec = load_recording(options.simulate)
        sensor = SimulatedSensor(rec.t_s, rec.acc_mps2, rec.gyr_rads, speed=options.speed)
        link_kwargs = simulated_backends(sensor)
    out = options.out or default_recording_path()
    view.status("looking for the sensor…")
    async with SensorLink(options.device, rate_hz=options.rate_hz, **link_kwargs) as link:
        info = link.info
        battery = f"{info.battery_pct} %" if info.battery_pct is not None else "unknown"
        view.status(
            f"connected to {info.name} ({info.address}) · firmware {info.firmware} · battery {battery} · "
            f"{info.sample_rate_hz:.0f} Hz"
        )
        writer = RecordingWriter(
            out,
            {
                "placement": settings.placement,
                "side": settings.sides[0] if settings.sides else None,
                "device": {
                    "name": info.name,
                    "address": info.address,
                    "firmware": info.firmware,
                    "protocol": info.protocol_version,
                },
                "sample_rate_hz": info.sample_rate_hz,
                "settings": settings.to_dict(),
                "started_unix_s": time.time(),
                "simulated": options.simulate is not None,
                "exercise": get_profile(options.exercise).name,
                "notes": "recorded by imurep live",
            },
        )
        log = options.events.open("w", encoding="utf-8") if options.events else None
        session = LiveSession(
            settings,
            view,
            writer,
            beep=options.beep,
            event_log=log,
            profile=get_profile(options.exercise),
            sample_rate_hz=info.sample_rate_hz,
        )
        try:
            with TerminalKeys() as keys:
                await run_stream(session, link.stream(), keys=keys.poll, gap_type=StreamGap)
        finally:
            session.finish()
            if log is not None:
                log.close()
            q = session.pipeline.quality()
            view.status(
                f"saved {writer.n_samples} samples to {out} (achieved {q.sample_rate_hz:.1f} Hz, "
                f"{len(writer.metadata['gaps'])} gap(s))"
            )
            if options.store:
                store_session(session, options.db)
            with contextlib.suppress(Exception):
                await link.stop()
    return session


def store_session(session: LiveSession, db: str | Path | None = None) -> str:
    """Store the sets of a finished live session in the training history (keyed by the content of
    its recording, so a later ``imurep analyze`` of the same file replaces it); returns a note.

    Errors are reported on the view, never raised: the recording is safe on disk either way.
    """
    from imurep.coaching.history import History, content_hash, recorded_at_of

    meta = dict(session.writer.metadata) if session.writer is not None else {}
    meta["exercise"] = session.profile.name
    try:
        result = session.pipeline.result(
            source=str(session.writer.path) if session.writer is not None else "live", metadata=meta
        )
    except ImurepError as exc:
        return f"nothing to store in the training history: {exc}"
    path = session.writer.path if session.writer is not None else None
    try:
        with History(db) as h:
            out = h.store(
                result,
                key=content_hash(path) if path is not None else None,
                recorded_at=recorded_at_of(result, path),
                origin="live",
            )
            note = f"{out.n_sets} set(s) stored in the training history ({h.path})"
    except (ImurepError, OSError) as exc:
        note = f"could not store the session in the training history: {exc}"
    session.view.status(note)
    return note
