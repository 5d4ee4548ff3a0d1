"""The per-recording task of a batch: analyse one recording, write its JSON, return its document.

:func:`run_task` is what the local process pool and the Dask workers run alike (a plain function of
a picklable :class:`Task`), so a batch gives the same bytes whichever engine ran it.  Inputs and
outputs are local paths or fsspec URLs (``s3://…``, ``gcs://…``, ``file://…``); a remote recording
is copied (with its sidecar) to a temporary folder first.

A recording is skipped when its JSON already holds the same :func:`task_key`: the SHA-256 of the
recording's content, its sidecar, the analysis options and the imurep version.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

logger = logging.getLogger(__name__)

KEY_SCHEMA: Final = "imurep.batch/1"
"""Tag hashed into every :func:`task_key` (bump when the key's inputs change)."""

BATCH_KEY: Final = "batch"
"""Top-level key of a batch's per-recording JSON: ``{"key": …, "imurep": <version>}``."""


@dataclass(frozen=True)
class Task:
    """One recording of a batch.

    Attributes
    ----------
    source
        The recording: a path or fsspec URL (CSV, zip, or export folder); also the ``source``
        recorded in its result.
    out_json
        Where its JSON document goes (path or fsspec URL).
    options
        Keyword arguments of :func:`imurep.api.analyze` (JSON types only: ``format, placement,
        exercise, side, settings, overrides``).
    resume
        Skip the analysis when ``out_json`` already holds this task's key.
    """

    source: str
    out_json: str
    options: dict[str, Any] = field(default_factory=dict)
    resume: bool = True


@dataclass(frozen=True)
class Outcome:
    """What became of one :class:`Task`.

    Attributes
    ----------
    source, out_json
        As in the task.
    status
        ``"analysed"``, ``"skipped"`` (resumed: its JSON was up to date) or ``"failed"``.
    doc
        The JSON document written (None when failed).
    error
        One line saying what went wrong (None unless failed).
    seconds
        Time the task took, s (reading, analysis, writing).
    """

    source: str
    out_json: str
    status: str
    doc: dict[str, Any] | None = None
    error: str | None = None
    seconds: float = 0.0

    @property
    def n_samples(self) -> int:
        """Samples in the recording (0 when failed)."""
        return int(self.doc["quality"]["n_samples"]) if self.doc else 0


def is_url(path: str) -> bool:
    """True for an fsspec URL other than a local ``file://`` one."""
    return "://" in path and not path.startswith("file://")


def fsspec_of(url: str) -> tuple[Any, str]:
    """``(file system, path)`` of an fsspec URL.

    Raises
    ------
    SettingsError
        fsspec, or the package of the URL's file system, is not installed (one line saying so).
    """
    from imurep.model.errors import SettingsError

    try:
        import fsspec
    except ImportError:
        raise SettingsError(f"{url}: URLs need fsspec: pip install 'imurep[dask]'") from None
    try:
        fs, path = fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as exc:  # an unknown protocol, or its package missing
        raise SettingsError(f"{url}: {' '.join(str(exc).split())}") from None
    return fs, str(path)


def local_path(path: str) -> str:
    """``path`` without a ``file://`` prefix."""
    return path[len("file://") :] if path.startswith("file://") else path


def version() -> str:
    """The imurep version hashed into the keys."""
    from imurep import __version__

    return __version__


def task_key(local_source: Path, options: dict[str, Any]) -> str:
    """SHA-256 (hex) of a recording (file or folder), its sidecar, ``options`` and the version."""
    from imurep.coaching.history import content_hash
    from imurep.io.canonical import sidecar_path

    h = hashlib.sha256()
    h.update(f"{KEY_SCHEMA}\0{version()}\0".encode())
    h.update(content_hash(local_source).encode() + b"\0")
    side = sidecar_path(local_source)
    if local_source.is_file() and local_source.suffix.lower() != ".json" and side.is_file():
        h.update(side.read_bytes())
    h.update(b"\0" + json.dumps(_meaningful(options), sort_keys=True, ensure_ascii=False).encode())
    return h.hexdigest()


def _meaningful(options: dict[str, Any]) -> dict[str, Any]:
    """``options`` without the entries that ask for the defaults (None, ``[]``, format ``auto``)."""
    return {
        k: v for k, v in options.items() if v not in (None, [], {}) and not (k == "format" and v == "auto")
    }


@contextmanager
def _fetched(source: str) -> Iterator[Path]:
    """A local path holding ``source`` (and its ``<stem>.json`` sidecar): itself when local, else a
    temporary copy."""
    if not is_url(source):
        yield Path(local_path(source))
        return
    fs, path = fsspec_of(source)
    with tempfile.TemporaryDirectory(prefix="imurep-batch-") as tmp:
        name = Path(path.rstrip("/")).name
        dest = Path(tmp) / name
        if fs.isdir(path):
            fs.get(path.rstrip("/") + "/", str(dest), recursive=True)
        else:
            fs.get(path, str(dest))
            side = str(Path(path).with_suffix(".json"))
            if side != path and fs.exists(side):
                fs.get(side, str(dest.with_suffix(".json")))
        yield dest


def _read_text(url: str) -> str | None:
    """The text at ``url`` (path or fsspec URL), or None when there is none."""
    if not is_url(url):
        p = Path(local_path(url))
        return p.read_text(encoding="utf-8") if p.is_file() else None
    fs, path = fsspec_of(url)
    if not fs.exists(path):
        return None
    data: bytes = fs.cat_file(path)
    return data.decode("utf-8")


def write_text(url: str, text: str) -> None:
    """Write ``text`` (UTF-8) to ``url`` (path or fsspec URL); a local file is replaced atomically."""
    if not is_url(url):
        p = Path(local_path(url))
        tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, p)
        return
    fs, path = fsspec_of(url)
    fs.pipe_file(path, text.encode("utf-8"))


def _up_to_date(out_json: str, key: str) -> dict[str, Any] | None:
    """The document at ``out_json`` when it was written with ``key``, else None."""
    text = _read_text(out_json)
    if text is None:
        return None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        return None
    if isinstance(doc, dict) and isinstance(doc.get(BATCH_KEY), dict) and doc[BATCH_KEY].get("key") == key:
        return doc
    return None


def _one_line(exc: BaseException, source: str) -> str:
    from imurep.model.errors import DataValidationError, ImurepError

    text = " ".join(str(exc).split())
    if isinstance(exc, DataValidationError) and exc.path is not None:
        return text  # names its file already
    if isinstance(exc, ImurepError):
        return f"{source}: {text}"
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else f"{source}: "
        return f"{where}{exc.strerror or text}"
    return f"{source}: internal error ({type(exc).__name__}: {text})"


def run_task(task: Task) -> Outcome:
    """Analyse one recording and write its JSON (or skip it when up to date); never raises for a
    problem of the recording (the :class:`Outcome` says what went wrong)."""
    t0 = time.perf_counter()
    try:
        with _fetched(task.source) as local:
            key = task_key(local, task.options)
            if task.resume:
                doc = _up_to_date(task.out_json, key)
                if doc is not None:
                    return Outcome(task.source, task.out_json, "skipped", doc, None, time.perf_counter() - t0)
            from imurep.api import analyze

            options = dict(task.options)
            options["overrides"] = [tuple(kv) for kv in options.get("overrides", [])]
            doc = analyze(local, name=task.source, keep_traces=False, **options).to_dict()
        doc[BATCH_KEY] = {"key": key, "imurep": version()}
        write_text(task.out_json, json.dumps(doc, indent=2, allow_nan=False, ensure_ascii=False) + "\n")
        return Outcome(task.source, task.out_json, "analysed", doc, None, time.perf_counter() - t0)
    except Exception as exc:  # one bad recording must not stop the batch
        logger.debug("task %s failed", task.source, exc_info=True)
        return Outcome(task.source, task.out_json, "failed", None, _one_line(exc, task.source),
                       time.perf_counter() - t0)  # fmt: skip
