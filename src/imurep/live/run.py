"""Running a live session: connect to the sensor (or the simulated one), drive a
:class:`~imurep.live.session.LiveSession` from its stream and the terminal's keys, record it and
store it in the training history.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imurep.coaching.exercises import ExerciseProfile, get_profile
from imurep.core.settings import AnalysisSettings
from imurep.io.recording_writer import RecordingWriter, check_new_recording
from imurep.live.keys import TerminalKeys
from imurep.live.session import LiveSession
from imurep.live.sources import SourceOptions, open_live_source, source_metadata
from imurep.live.views import View
from imurep.live.voice import BellSpeaker, VoiceCues, find_speaker
from imurep.model.errors import ImurepError, SettingsError
from imurep.model.samples import ImuChunk


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
    voice
        Speak the rep count, each fault's cue and the set summaries (offline speech engine; the
        bell when none is installed).
    rate_hz
        Requested sample rate, Hz (None: the sensor kind's default).
    events
        Also write every event as one JSON object per line to this file.
    exercise
        Exercise profile name (recorded in the sidecar; cues and progression rule).
    db, store
        Training-history database (None: the default one) and whether to store the session in it
        when it ends.
    source
        Which sensor and how (kind, phyphox URL, ranges, driver options); None: built from
        ``device``, ``simulate``, ``speed`` and ``rate_hz`` (see :mod:`imurep.live.sources`).
    """

    device: str | None = None
    simulate: Path | None = None
    speed: float = 1.0
    out: Path | None = None
    beep: bool = False
    voice: bool = False
    rate_hz: float | None = None
    events: Path | None = None
    exercise: str | None = None
    db: str | Path | None = None
    store: bool = False
    source: SourceOptions | None = None

    def source_options(self) -> SourceOptions:
        """The sensor to stream from."""
        if self.source is not None:
            return self.source
        return SourceOptions(
            device=self.device, simulate=self.simulate, speed=self.speed, rate_hz=self.rate_hz
        )


def default_recording_path() -> Path:
    """``session-YYYYmmdd-HHMMSS.csv`` in the current folder."""
    return Path(time.strftime("session-%Y%m%d-%H%M%S.csv"))


def check_events_path(path: Path | None) -> None:
    """Refuse an ``--events`` file that cannot be created (missing folder, existing file) before
    anything is recorded."""
    if path is None:
        return
    if not path.resolve().parent.is_dir():
        raise SettingsError(f"--events {path}: the folder {path.parent} does not exist")
    if path.exists():
        raise SettingsError(f"--events {path}: the file exists already; choose another name")


async def _flush_timer(writer: RecordingWriter) -> None:
    """Write queued samples at least every ``writer.flush_interval_s``, whether or not more arrive
    (a stalled stream must not keep received samples in memory)."""
    period = max(writer.flush_interval_s / 2.0, 0.05)
    while True:
        await asyncio.sleep(period)
        writer.flush_pending()


async def run_live(
    options: LiveOptions,
    settings: AnalysisSettings,
    view: View,
    sessions: list[LiveSession] | None = None,
) -> LiveSession:
    """Connect to the sensor (or the simulated one), then coach and record until the stream ends,
    ``q`` is pressed or the task is cancelled (Ctrl-C).  The recording is closed in every case.

    The recording target (``--out`` and its sidecar, ``--events``) is checked before connecting;
    samples are flushed by a timer at least every second, also while the stream stalls; a write
    failure (disk full) stops the recording, not the coaching (``writer.error`` says what was
    saved).  ``sessions`` (when given) receives the session as soon as it starts, for callers
    interrupted before it returns.

    Raises
    ------
    SensorNotFoundError, ConnectionLostError, DataValidationError
        With a message saying what to do.
    """
    from imurep.ble.decoder import StreamGap

    out = check_new_recording(options.out or default_recording_path())  # before connecting
    check_events_path(options.events)
    view.status("looking for the sensor…")
    # --- source selection (imurep.live.sources) ---
    async with open_live_source(options.source_options(), view.status) as link:
        info = link.info
        battery = f"{info.battery_pct} %" if info.battery_pct is not None else "unknown"
        view.status(
            f"connected to {info.name} ({info.address}) · firmware {info.firmware} · battery {battery} · "
            f"{info.sample_rate_hz:.0f} Hz"
        )
        log = options.events.open("x", encoding="utf-8") if options.events else None
        try:
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
                    "simulated": options.source_options().simulate is not None,
                    "exercise": get_profile(options.exercise).name,
                    "notes": "recorded by imurep live",
                },
            )
        except BaseException:
            if log is not None:
                log.close()
            raise
        session = LiveSession(
            settings,
            view,
            writer,
            beep=options.beep,
            event_log=log,
            profile=get_profile(options.exercise),
            sample_rate_hz=info.sample_rate_hz,
            voice=voice_cues(view, get_profile(options.exercise)) if options.voice else None,
        )
        if sessions is not None:
            sessions.append(session)
        timer = asyncio.create_task(_flush_timer(writer))
        try:
            with TerminalKeys() as keys:
                await run_stream(session, link.stream(), keys=keys.poll, gap_type=StreamGap)
        finally:
            timer.cancel()
            writer.set_meta(link=source_metadata(link))  # counters and clock drift (sources)
            session.finish()
            if log is not None:
                log.close()
            q = session.pipeline.quality()
            view.status(
                f"saved {writer.n_saved} samples to {out} (achieved {q.sample_rate_hz:.1f} Hz, "
                f"{len(writer.metadata['gaps'])} gap(s))"
            )
            if writer.error is not None:
                view.status(writer.error)
            if options.store:
                store_session(session, options.db)
            view.set_ended(session.summary_lines(str(out)))
            with contextlib.suppress(Exception):
                await link.stop()
    return session


def voice_cues(view: View, profile: ExerciseProfile) -> VoiceCues:
    """The voice of ``imurep live --voice``: the platform's speech engine, else the bell (and the
    view says so)."""
    speaker = find_speaker()
    if speaker is None:
        view.status("voice: no speech engine found (install espeak-ng); ringing the bell on faults instead")
        return VoiceCues(BellSpeaker(view.alert), profile)
    view.status(f"voice: speaking with {speaker.name}")
    return VoiceCues(speaker, profile)


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
