"""The live recording writer: samples appended to a canonical CSV, its sidecar JSON kept current.

Guarantees (see the README, "Nothing is lost"):

* rows are always whole on disk: a write that fails half way (disk full, file-size limit) is cut
  back to the last whole row, so the CSV stays readable;
* a write failure stops the recording, never the session: what was saved stays saved, the
  message names the file and says how much was kept (:attr:`RecordingWriter.error`), later
  samples are still returned for analysis;
* an existing CSV *or* sidecar is never overwritten (:func:`check_new_recording`, also usable
  before connecting to a sensor).

Flushing at least every ``flush_interval_s`` independently of arrivals is the caller's timer
(:meth:`RecordingWriter.flush_pending`, driven by :mod:`imurep.live.run`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from imurep.io.canonical import (
    _HEADER_TEXT,
    LIVE_SCHEMA,
    _json_text,
    _parse_rows,
    format_rows,
    sidecar_path,
)
from imurep.model.errors import DataValidationError
from imurep.model.events import Marker
from imurep.model.samples import ImuChunk

logger = logging.getLogger(__name__)


class GapLike(Protocol):
    """A gap in the stream (see :class:`imurep.ble.decoder.StreamGap`)."""

    t_s: float
    n_samples: int
    reason: str


def check_new_recording(csv_path: str | Path) -> Path:
    """Check that a new recording can be created at ``csv_path`` without overwriting anything.

    Returns
    -------
    Path
        ``csv_path``.

    Raises
    ------
    DataValidationError
        Not a ``.csv`` name, its folder is missing, or the CSV or its sidecar ``<stem>.json``
        exists already.
    """
    path = Path(csv_path)
    if path.suffix.lower() != ".csv":
        raise DataValidationError(f"the recording must be a .csv file, got {path.name!r}", path=str(csv_path))
    if not path.parent.is_dir():
        raise DataValidationError(
            f"folder {str(path.parent)!r} does not exist; create it or choose another --out",
            path=str(csv_path),
        )
    for p in (path, sidecar_path(path)):
        if p.exists() or p.is_symlink():
            raise DataValidationError(
                "the file exists already; choose another --out (recordings are never overwritten)",
                path=str(p),
            )
    return path


def _os_reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


class RecordingWriter:
    """Appends samples to a canonical CSV and keeps its sidecar JSON current.

    Parameters
    ----------
    csv_path
        The recording to create (its folder must exist; an existing CSV or sidecar is refused).
    metadata
        Initial sidecar content (device, placement, ...).
    flush_interval_s
        Samples are written to disk at least this often (wall clock), s: on the next append, or
        by the caller's timer calling :meth:`flush_pending`.
    on_stop
        Called once with :attr:`error` when the recording stops on a write failure.

    Attributes
    ----------
    n_samples
        Samples appended (received).
    n_saved
        Samples on disk in whole rows.
    error
        None while recording; after a write failure, a sentence naming the file, the reason and
        what was kept.
    """

    def __init__(
        self,
        csv_path: str | Path,
        metadata: dict[str, Any],
        flush_interval_s: float = 1.0,
        on_stop: Callable[[str], None] | None = None,
    ) -> None:
        self.path = check_new_recording(csv_path)
        self.sidecar_path = sidecar_path(self.path)
        self.metadata: dict[str, Any] = {"schema": LIVE_SCHEMA, **metadata, "gaps": [], "markers": []}
        self.flush_interval_s = flush_interval_s
        self.on_stop = on_stop
        self.n_samples = 0
        self.n_saved = 0
        self.t_saved_s: float | None = None
        self.error: str | None = None
        self._lines: list[str] = []
        self._last_t: float | None = None
        self._last_flush = time.monotonic()
        header = (_HEADER_TEXT + "\n").encode()
        try:
            self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            raise DataValidationError(
                "the file exists already; choose another --out (recordings are never overwritten)",
                path=str(self.path),
            ) from None
        self._size = 0
        self._kept_rows = 0  # whole rows of a failed write that reached the disk
        try:
            self._write_whole(header)
            self._write_sidecar()
        except OSError as exc:  # nothing recorded yet: leave nothing behind
            self._discard()
            raise DataValidationError(
                f"cannot write the recording ({_os_reason(exc)})", path=str(exc.filename or self.path)
            ) from None

    # --- appending ---------------------------------------------------------------------------

    def append(self, chunk: ImuChunk) -> ImuChunk:
        """Queue a chunk's samples; written at the next flush (at most ``flush_interval_s`` later).

        Returns
        -------
        ImuChunk
            The samples exactly as stored (parsed back from the text written), so that analysing
            them live gives the same result as analysing the saved file later.
        """
        lines = format_rows(chunk.t_s, chunk.acc_mps2, chunk.gyr_rads)
        stored = _parse_rows(lines)
        self.n_samples += len(chunk)
        if self.error is None:
            self._lines.extend(lines)
            if len(chunk):
                self._last_t = float(stored.t_s[-1])
            if time.monotonic() - self._last_flush >= self.flush_interval_s:
                self.flush()
        return stored

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

    # --- writing -----------------------------------------------------------------------------

    def flush_pending(self) -> None:
        """Flush when samples are queued (the timer's call; a no-op otherwise)."""
        if self._lines:
            self.flush()

    def flush(self) -> None:
        """Write queued samples and the sidecar to disk (fsync'd).

        A write failure never raises: the recording stops (:attr:`error`), whole rows already
        written stay, the partial one is cut off.
        """
        if self.error is not None or self._fd is None:
            return
        try:
            if self._lines:
                n = len(self._lines)
                self._kept_rows = 0
                try:
                    self._write_whole("".join(self._lines).encode())
                except OSError:
                    if self._kept_rows:  # the rows that fit are saved
                        self.n_saved += self._kept_rows
                        self.t_saved_s = float(self._lines[self._kept_rows - 1].split(",", 1)[0])
                    raise
                self._lines.clear()
                self.n_saved += n
                self.t_saved_s = self._last_t
            with contextlib.suppress(OSError):
                os.fsync(self._fd)
            self._write_sidecar()
        except OSError as exc:
            self._stop(exc)
        self._last_flush = time.monotonic()

    def close(self) -> None:
        """Flush and close (idempotent)."""
        if self._fd is None:
            return
        self.flush()
        if self.error is not None:  # last chance to record why it stopped (best effort)
            self.metadata["recording_stopped"] = self.error
            with contextlib.suppress(OSError):
                self._write_sidecar()
        os.close(self._fd)
        self._fd = None

    def _write_whole(self, data: bytes) -> None:
        """Append ``data`` (whole rows); on failure cut the file back to its last whole row."""
        assert self._fd is not None
        view = memoryview(data)
        done = 0
        try:
            while done < len(data):
                n = os.write(self._fd, view[done:])
                if n <= 0:
                    raise OSError(28, os.strerror(28))
                done += n
        except OSError as exc:
            # keep the whole rows that made it to the disk, cut the partial one off
            keep = bytes(view[:done]).rfind(b"\n") + 1
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._size + keep)
                os.lseek(self._fd, self._size + keep, os.SEEK_SET)
            self._size += keep
            self._kept_rows = bytes(view[:keep]).count(b"\n")
            exc.filename = str(self.path)
            raise
        self._size += len(data)

    def _write_sidecar(self) -> None:
        tmp = self.sidecar_path.with_suffix(".json.tmp")
        try:
            tmp.write_text(_json_text(self.metadata, allow_nan=False), encoding="utf-8")
            os.replace(tmp, self.sidecar_path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            exc.filename = str(self.sidecar_path)
            raise

    def _stop(self, exc: OSError) -> None:
        self._lines.clear()
        upto = f" (up to t = {self.t_saved_s:.2f} s)" if self.t_saved_s is not None else ""
        self.error = (
            f"recording stopped: cannot write {exc.filename} ({_os_reason(exc)}); "
            f"the {self.n_saved} samples received before{upto} are saved in {self.path}"
        )
        logger.debug("recording stopped: %r", exc)
        if self.on_stop is not None:
            self.on_stop(self.error)

    def _discard(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        for p in (self.path, self.sidecar_path):
            with contextlib.suppress(OSError):
                p.unlink()
