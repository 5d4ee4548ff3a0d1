"""The canonical recording format: a CSV of IMU samples plus an optional JSON sidecar.

CSV
    A header line naming at least the columns ``t,ax,ay,az,gx,gy,gz`` (any order; extra columns are
    ignored; names are matched case-insensitively after stripping blanks), then one sample per row:
    ``t`` in seconds (any origin, strictly increasing), ``ax, ay, az`` specific force in m/s² with
    gravity included, ``gx, gy, gz`` angular rate in rad/s, all in the sensor's own axes.
Sidecar
    ``<stem>.json`` next to the CSV, optional: a JSON object with any of ``placement`` (``"hip"`` or
    ``"thigh"``), ``side`` (``"left"``/``"right"``) or ``sides`` (one side per set), ``device``,
    ``sample_rate_hz`` and ``notes``.  Unknown keys are kept.

Every problem with a file raises :class:`imurep.errors.DataValidationError` with a one-line
message naming the file (and the data row and column when known), what was expected and how to fix
it.  Rows are numbered from 1 starting after the header ("data rows"); the file line is one more.

Reading is streamed (:func:`iter_canonical_chunks`) so memory stays bounded by the chunk size.
Plain numeric files are parsed by numpy (:mod:`imurep.io.csv_fast`, no pandas import); pandas
takes over from the first block that is not plain and gives the precise messages.

Writing: :func:`format_rows` is the one row format (``t`` with 6 decimals, the six channels with 9
significant digits), used by :class:`RecordingWriter` (a live recording, appended as it streams)
and :func:`write_canonical` / :func:`write_simulated` (whole arrays, e.g. a simulated recording).
"""

from __future__ import annotations

import codecs
import contextlib
import difflib
import io
import json
import logging
import math
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final, Protocol

import numpy as np

from imurep.io.csv_fast import plain_blocks, plain_header
from imurep.io.tables import utf16_message, utf16_name
from imurep.model.codes import PLACEMENTS, SIDES
from imurep.model.errors import DataValidationError
from imurep.model.samples import FloatArray, ImuChunk

logger = logging.getLogger(__name__)

CANONICAL_COLUMNS: Final = ("t", "ax", "ay", "az", "gx", "gy", "gz")
"""Header of the canonical recording CSV: time (s), specific force (m/s²), angular rate (rad/s)."""

MIN_DURATION_S: Final = 2.0
"""Shortest recording accepted, s (time from the first to the last sample)."""

DEFAULT_CHUNK_ROWS: Final = 65536
"""Rows per chunk when streaming a file."""

_SNIFF_BYTES: Final = 8192
_HEADER_TEXT: Final = ",".join(CANONICAL_COLUMNS)
_FIX_HEADER: Final = (
    f"the first line must name the columns {_HEADER_TEXT} (any order, extra columns are ignored)"
)
PathLike = str | os.PathLike[str]


# --- sidecar -----------------------------------------------------------------------------------


def sidecar_path(path: PathLike) -> Path:
    """Path of the metadata sidecar of the recording ``path`` (``<stem>.json`` in the same folder)."""
    return Path(path).with_suffix(".json")


def read_sidecar(path: PathLike) -> dict[str, Any]:
    """Read and check the metadata sidecar of the recording ``path``.

    Parameters
    ----------
    path
        The recording CSV (not the sidecar itself).

    Returns
    -------
    dict
        The sidecar's JSON object, or an empty dict when there is no sidecar.

    Raises
    ------
    DataValidationError
        The sidecar is not UTF-8 JSON, not an object, or holds an invalid ``placement``, ``side``,
        ``sides`` or ``sample_rate_hz``, an ``exercise`` that is not a name or ``settings`` that
        are not an object.
    """
    side_path = sidecar_path(path)
    if Path(path).suffix.lower() == ".json" or not side_path.is_file():
        return {}
    where = str(side_path)
    try:
        text = side_path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataValidationError(
            f"metadata sidecar is not UTF-8 text (byte {exc.start}); save it as UTF-8 JSON or delete it",
            path=where,
        ) from None
    try:
        meta = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataValidationError(
            f"metadata sidecar is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
            "fix the JSON or delete the file",
            path=where,
        ) from None
    except RecursionError:
        raise DataValidationError(
            "metadata sidecar is nested too deeply to be a sidecar; fix the JSON or delete the file",
            path=where,
        ) from None
    if not isinstance(meta, dict):
        raise DataValidationError(
            f'metadata sidecar must hold a JSON object like {{"placement": "hip"}}, '
            f"got a {type(meta).__name__}",
            path=where,
        )
    for key, kind, example in (("exercise", str, '"glute_bridge"'), ("settings", dict, '{"faults": {...}}')):
        if key in meta and meta[key] is not None and not isinstance(meta[key], kind):
            raise DataValidationError(
                f"{key!r} must be {'a name' if kind is str else 'an object'} like {example}, "
                f"got {str(meta[key])[:40]!r}; fix or remove it",
                path=where,
            )
    _check_choice(meta, "placement", PLACEMENTS, where)
    _check_choice(meta, "side", SIDES, where)
    sides = meta.get("sides")
    if sides is not None and (not isinstance(sides, list) or any(s not in SIDES for s in sides)):
        raise DataValidationError(
            f"'sides' must be a list with one of {list(SIDES)} per set, got {sides!r}",
            path=where,
        )
    rate = meta.get("sample_rate_hz")
    if rate is not None and (
        isinstance(rate, bool) or not isinstance(rate, int | float) or not math.isfinite(rate) or rate <= 0
    ):
        raise DataValidationError(f"'sample_rate_hz' must be a positive number, got {rate!r}", path=where)
    return meta


def _check_choice(meta: dict[str, Any], key: str, choices: tuple[str, ...], where: str) -> None:
    value = meta.get(key)
    if value is not None and value not in choices:
        raise DataValidationError(
            f"{key!r} must be one of {', '.join(choices)} (or absent), got {value!r}", path=where
        )


# --- CSV ---------------------------------------------------------------------------------------


def _check_file(path: Path) -> None:
    """Reject missing, empty, non-regular and binary files before pandas sees them."""
    where = str(path)
    if not path.exists():
        raise DataValidationError(
            f"file not found; check the path (a recording is a CSV with header {_HEADER_TEXT})",
            path=where,
        )
    if not path.is_file():
        raise DataValidationError("is not a regular file; pass the path of a recording CSV", path=where)
    try:
        with path.open("rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError as exc:
        raise DataValidationError(f"cannot be read ({exc.strerror}); check permissions", path=where) from None
    if not head:
        raise DataValidationError(f"file is empty; {_FIX_HEADER}, followed by one sample per row", path=where)
    encoding = utf16_name(head)
    if encoding is not None:
        raise DataValidationError(utf16_message(encoding), path=where)
    if b"\x00" in head:
        raise DataValidationError(
            "looks like a binary file, not CSV text (e.g. a spreadsheet or a raw sensor dump); "
            f"export it as a CSV with header {_HEADER_TEXT}",
            path=where,
        )
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError as exc:
        raise DataValidationError(
            f"is not UTF-8 text (undecodable byte at offset {exc.start}); save the CSV as UTF-8",
            path=where,
        ) from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _normalise(name: str) -> str:
    return name.strip().lstrip("\ufeff").strip().lower()


_ALIAS_RE: Final = re.compile(r"^(?:(a|acc|accel|accelerometer)|(g|gyr|gyro|gyroscope))[_ .-]?([xyz])\b")


def _alias_of(name: str) -> str | None:
    """Canonical column a common alternative name stands for (``time`` -> ``t``, ``acc_x`` -> ``ax``)."""
    if name in ("time", "timestamp", "ts", "seconds", "sec") or name.startswith(("time_", "t_", "t[", "t (")):
        return "t"
    m = _ALIAS_RE.match(name)
    if m is None:
        return None
    return ("a" if m.group(1) else "g") + m.group(3)


def canonical_column(name: str) -> str | None:
    """The canonical column (``t, ax..gz``) a column name stands for, or None (``"Time"`` -> ``t``,
    ``"acc_x"`` -> ``ax``)."""
    norm = _normalise(name)
    return norm if norm in CANONICAL_COLUMNS else _alias_of(norm)


def _column_positions(header: list[str], path: Path) -> list[int]:
    """File column index of each canonical column, in ``CANONICAL_COLUMNS`` order."""
    where = str(path)
    names = [_normalise(h) for h in header]
    if names and all(_is_number(n) for n in names):
        raise DataValidationError(
            f"the first line holds numbers, not column names; add the header line {_HEADER_TEXT}",
            path=where,
        )
    if len(names) == 1:
        for sep, label in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
            if sep in names[0]:
                raise DataValidationError(
                    f"the columns seem to be separated by {label}; imurep reads comma-separated files — "
                    f"export the recording with commas and the header {_HEADER_TEXT}",
                    path=where,
                )
    positions: list[int] = []
    missing: list[str] = []
    for col in CANONICAL_COLUMNS:
        if col in names:
            positions.append(names.index(col))
        else:
            missing.append(col)
    if missing:
        unused = [n for n in names if n not in CANONICAL_COLUMNS]
        parts = []
        for col in missing:
            close = [n for n in unused if _alias_of(n) == col] or difflib.get_close_matches(
                col, unused, n=1, cutoff=0.5
            )
            parts.append(f"{col!r} (did you mean {close[0]!r}? rename it)" if close else repr(col))
        found = ",".join(h.strip() for h in header)
        if len(found) > 80:
            found = found[:77] + "..."
        raise DataValidationError(
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(parts)}; "
            f"{_FIX_HEADER}; found header: {found}",
            path=where,
        )
    return positions


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] if text else type(exc).__name__


class _Counted(io.RawIOBase):
    """A binary file read up to ``limit`` bytes (a recording without its cut final row), counting
    its field separators and line ends on the way (rows with extra fields are noticed)."""

    def __init__(self, fh: IO[bytes], limit: int | None) -> None:
        self._fh = fh
        self._left = limit if limit is not None else -1
        self.commas = 0
        self.newlines = 0
        self.last = b"\n"

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._fh.read(min(len(buffer), self._left) if self._left >= 0 else len(buffer))
        if self._left >= 0:
            self._left -= len(data)
        if data:
            self.commas += data.count(b",")
            self.newlines += data.count(b"\n")
            self.last = data[-1:]
        buffer[: len(data)] = data
        return len(data)

    def extra_fields(self, n_fields: int) -> int:
        """Separators beyond ``n_fields - 1`` per line (> 0: some rows hold extra fields)."""
        lines = self.newlines + (self.last != b"\n")
        return self.commas - lines * (n_fields - 1)


@contextlib.contextmanager
def _opened(path: Path, limit: int | None) -> Iterator[_Counted]:
    """A counting handle on ``path`` (its first ``limit`` bytes when given)."""
    with path.open("rb") as fh:
        yield _Counted(fh, limit)


def _whole_rows_end(path: Path, positions: list[int]) -> int | None:
    """Where the whole rows of ``path`` end (bytes) when its last line was cut short (a recording
    interrupted mid-row: no final newline and not a complete row); None when it was not.

    The cut row is dropped with a warning: a truncated last row never makes a recording unreadable.
    """
    size = path.stat().st_size
    with path.open("rb") as fh:
        fh.seek(max(0, size - _SNIFF_BYTES))
        tail = fh.read()
    if not tail or tail.endswith((b"\n", b"\r")):
        return None
    cut = tail.rfind(b"\n")
    if cut < 0:
        return None  # one line (the header) or a row longer than the sniffed tail
    last = tail[cut + 1 :].decode("utf-8", errors="replace")
    cells = last.split(",")
    try:
        whole = all(math.isfinite(float(cells[p])) for p in positions)
    except (IndexError, ValueError):
        whole = False
    if whole:
        return None
    logger.warning(
        "%s: the last line %r is cut short (the recording was interrupted); dropped it",
        path,
        last.strip()[:40],
    )
    return size - len(tail) + cut + 1


def _raw_blocks(
    path: Path,
    positions: list[int],
    chunk_rows: int,
    limit: int | None = None,
    n_fields: int = 0,
    data_start: int | None = None,
) -> Iterator[tuple[int, FloatArray]]:
    """Yield ``(first_data_row, values)`` with ``values`` of shape ``(n, 7)`` in canonical order
    (of the first ``limit`` bytes of the file when given).

    With ``data_start`` (the byte after a plain header line) the blocks are parsed by numpy
    (:mod:`imurep.io.csv_fast`) as long as they are plain; from the first block that is not, the
    file is read by pandas (the blocks before it are parsed again but not yielded twice).
    """
    resume = 1
    if data_start is not None:
        for first_row, plain in plain_blocks(path, data_start, n_fields, positions, chunk_rows, limit):
            if plain is None:
                resume = first_row
                break
            yield first_row, plain
        else:
            return
    with _opened(path, limit) as counted:
        from imurep.io.canonical_pandas import parsed_blocks  # a file that is not plain

        parsed = parsed_blocks(io.BufferedReader(counted), path, positions, chunk_rows, limit)
        for first_row, values in parsed:
            if first_row >= resume:
                yield first_row, values
        extra = counted.extra_fields(n_fields) if n_fields else 0
    if extra > 0:
        logger.warning(
            "%s: some rows hold more fields than the header's %d columns (%d extra field(s) in all); "
            "the extra fields are ignored — check that the file's columns line up with its header",
            path,
            n_fields,
            extra,
        )


def _check_finite(values: FloatArray, first_row: int, where: str) -> None:
    finite = np.isfinite(values)
    if finite.all():
        return
    r, c = (int(x) for x in np.argwhere(~finite)[0])
    what = "an empty, missing or NaN value" if np.isnan(values[r, c]) else "an infinite value"
    row = first_row + r
    raise DataValidationError(
        f"{what} (file line {row + 1}); every row needs finite numbers in {_HEADER_TEXT} — "
        "repair or delete that row",
        path=where,
        row=row,
        column=CANONICAL_COLUMNS[c],
    )


def _drop_duplicates(
    values: FloatArray, prev: FloatArray | None, first_row: int, where: str
) -> tuple[FloatArray, int, int | None]:
    """Check strictly increasing time across ``prev`` (last row so far) and ``values``.

    Exact duplicates of the previous row are dropped.  Returns the kept rows, the number dropped
    and the data row of the first one dropped.
    """
    if prev is None:
        rows, preds, offset = values[1:], values[:-1], 1  # rows[k] is values[k + offset]
    else:
        rows, preds, offset = values, np.concatenate((prev[None, :], values[:-1])), 0
    bad = np.flatnonzero(~(rows[:, 0] > preds[:, 0]))
    if bad.size == 0:
        return values, 0, None
    idx = bad + offset
    preds = preds[bad]
    dup = (rows[bad] == preds).all(axis=1)
    if not dup.all():
        k = int(np.argmin(dup))
        i = int(idx[k])
        row = first_row + i
        t_now, t_prev = float(values[i, 0]), float(preds[k, 0])
        how = "repeats" if t_now == t_prev else "goes back in time from"
        raise DataValidationError(
            f"timestamp t={t_now!r} s {how} the previous row's t={t_prev!r} s (file line {row + 1}); "
            "timestamps must strictly increase — sort the file by t or remove the out-of-order rows",
            path=where,
            row=row,
            column="t",
        )
    keep = np.ones(len(values), dtype=bool)
    keep[idx] = False
    return values[keep], int(idx.size), first_row + int(idx[0])


def iter_canonical_chunks(path: PathLike, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[ImuChunk]:
    """Stream a canonical recording CSV as validated chunks.

    Parameters
    ----------
    path
        The recording CSV.
    chunk_rows
        Rows read per chunk (>= 1); memory use is bounded by a few times this.

    Yields
    ------
    ImuChunk
        Consecutive runs of samples with ``t_s`` shape ``(n,)`` (s), ``acc_mps2`` and ``gyr_rads``
        shape ``(n, 3)`` (m/s², rad/s, sensor frame); timestamps strictly increase within and across
        chunks.  Exact duplicate rows are dropped with a logged warning.  Nothing is yielded until
        at least :data:`MIN_DURATION_S` of data have been read.

    Raises
    ------
    DataValidationError
        On any problem with the file; the message names the file, row and column when known.
    """
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be >= 1, got {chunk_rows}")
    p = Path(path)
    where = str(p)
    _check_file(p)
    plain = plain_header(p)
    data_start: int | None = None
    if plain is None:
        from imurep.io.canonical_pandas import read_header  # a header that is not plain

        header = read_header(p)
    else:
        header, data_start = plain
    positions = _column_positions(header, p)
    limit = _whole_rows_end(p, positions)

    prev: FloatArray | None = None
    t_first: float | None = None
    n_rows = 0
    n_dropped = 0
    first_dropped: int | None = None
    pending: list[ImuChunk] = []  # held back until MIN_DURATION_S is covered
    long_enough = False
    for first_row, values in _raw_blocks(p, positions, chunk_rows, limit, len(header), data_start):
        if values.shape[0] == 0:
            continue
        _check_finite(values, first_row, where)
        kept, dropped, first_drop = _drop_duplicates(values, prev, first_row, where)
        if dropped:
            n_dropped += dropped
            if first_dropped is None:
                first_dropped = first_drop
        if kept.shape[0] == 0:
            continue
        prev = kept[-1].copy()
        n_rows += kept.shape[0]
        if t_first is None:
            t_first = float(kept[0, 0])
        chunk = ImuChunk(kept[:, 0], kept[:, 1:4], kept[:, 4:7])
        if long_enough:
            yield chunk
            continue
        pending.append(chunk)
        if float(kept[-1, 0]) - t_first >= MIN_DURATION_S:
            long_enough = True
            yield from pending
            pending.clear()

    if n_dropped:
        logger.warning(
            "%s: dropped %d exact duplicate row(s) (first at data row %d)", where, n_dropped, first_dropped
        )
    if n_rows == 0:
        raise DataValidationError(
            f"holds a header but no data rows; add one sample per row below the header ({_HEADER_TEXT})",
            path=where,
        )
    if not long_enough:
        assert prev is not None and t_first is not None
        span = float(prev[0]) - t_first
        raise DataValidationError(
            f"holds only {span:.3g} s of data ({n_rows} row{'s' if n_rows != 1 else ''}); "
            f"at least {MIN_DURATION_S:g} s are needed — check that t is in seconds (not ms or µs) "
            "and that the recording is complete",
            path=where,
        )


# --- whole-file loading ------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Recording:
    """A whole canonical recording in memory.

    Attributes
    ----------
    path
        The CSV it came from.
    t_s
        Sample times, shape ``(n,)``, s, strictly increasing.
    acc_mps2
        Specific force, shape ``(n, 3)``, m/s², gravity included, sensor frame.
    gyr_rads
        Angular rate, shape ``(n, 3)``, rad/s, sensor frame.
    metadata
        The sidecar's content (empty when there is none).
    """

    path: Path
    t_s: FloatArray
    acc_mps2: FloatArray
    gyr_rads: FloatArray
    metadata: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    @property
    def duration_s(self) -> float:
        """Time from the first to the last sample, s."""
        return float(self.t_s[-1] - self.t_s[0]) if len(self) else 0.0

    @property
    def sample_rate_hz(self) -> float:
        """Median sample rate, Hz."""
        return float(1.0 / np.median(np.diff(self.t_s))) if len(self) > 1 else 0.0

    def chunks(self, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[ImuChunk]:
        """The samples as consecutive chunks of at most ``chunk_rows`` rows (views, no copies)."""
        whole = ImuChunk(self.t_s, self.acc_mps2, self.gyr_rads)
        for start in range(0, len(self), chunk_rows):
            yield whole.slice(start, start + chunk_rows)


def load_canonical(path: PathLike, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Recording:
    """Load a whole canonical recording and its sidecar.

    Parameters
    ----------
    path
        The recording CSV.
    chunk_rows
        Rows per chunk while reading.

    Returns
    -------
    Recording

    Raises
    ------
    DataValidationError
        On any problem with the CSV or the sidecar (see :func:`iter_canonical_chunks`).
    """
    p = Path(path)
    chunks = list(iter_canonical_chunks(p, chunk_rows))
    metadata = read_sidecar(p)
    if len(chunks) == 1:
        c = chunks[0]
        return Recording(p, c.t_s, c.acc_mps2, c.gyr_rads, metadata)
    return Recording(
        p,
        np.concatenate([c.t_s for c in chunks]),
        np.concatenate([c.acc_mps2 for c in chunks]),
        np.concatenate([c.gyr_rads for c in chunks]),
        metadata,
    )


# --- writing -----------------------------------------------------------------------------------

LIVE_SCHEMA: Final = "imurep.recording/1"
"""``schema`` of the sidecar written by :class:`RecordingWriter`."""


def format_rows(t_s: FloatArray, acc_mps2: FloatArray, gyr_rads: FloatArray) -> list[str]:
    """The CSV lines of samples, each ending in ``\\n``: the one canonical row format.

    Parameters
    ----------
    t_s
        Sample times, shape ``(n,)``, s (written with 6 decimals).
    acc_mps2, gyr_rads
        Specific force (m/s²) and angular rate (rad/s), shape ``(n, 3)``, sensor frame (written
        with 9 significant digits).
    """
    rows = np.column_stack((t_s, acc_mps2, gyr_rads)).tolist()
    return [f"{r[0]:.6f},{r[1]:.9g},{r[2]:.9g},{r[3]:.9g},{r[4]:.9g},{r[5]:.9g},{r[6]:.9g}\n" for r in rows]


def _parse_rows(lines: list[str]) -> ImuChunk:
    """The samples of lines written by :func:`format_rows`, exactly as a reader parses them."""
    stored = np.array([[float(v) for v in line.split(",")] for line in lines])
    return ImuChunk(stored[:, 0], stored[:, 1:4], stored[:, 4:7])


def _json_text(doc: Mapping[str, Any], allow_nan: bool = True) -> str:
    return json.dumps(doc, indent=2, allow_nan=allow_nan) + "\n"


def write_canonical(
    csv_path: PathLike,
    t_s: FloatArray,
    acc_mps2: FloatArray,
    gyr_rads: FloatArray,
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """Write whole sample arrays as a canonical CSV (and its sidecar), replacing existing files.

    Parameters
    ----------
    csv_path
        The CSV to write (missing folders are created).
    t_s, acc_mps2, gyr_rads
        Shapes ``(n,)``, ``(n, 3)``, ``(n, 3)``; s, m/s², rad/s, sensor frame (see
        :func:`format_rows`).
    metadata
        Written to the sidecar ``<stem>.json`` when given.

    Returns
    -------
    Path
        The CSV.
    """
    path = Path(csv_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(_HEADER_TEXT + "\n")
        fh.writelines(format_rows(t_s, acc_mps2, gyr_rads))
    if metadata is not None:
        sidecar_path(path).write_text(_json_text(metadata), encoding="utf-8")
    return path


class SimulatedLike(Protocol):
    """A recording with its ground truth (see :class:`imurep.sim.SimRecording`)."""

    @property
    def t_s(self) -> FloatArray:
        """Sample times, shape ``(n,)``, s."""

    @property
    def acc_mps2(self) -> FloatArray:
        """Specific force, shape ``(n, 3)``, m/s², sensor frame."""

    @property
    def gyr_rads(self) -> FloatArray:
        """Angular rate, shape ``(n, 3)``, rad/s, sensor frame."""

    @property
    def metadata(self) -> dict[str, Any]:
        """Sidecar content."""

    @property
    def truth(self) -> dict[str, Any]:
        """Ground truth (``imurep.truth/1``)."""


def write_simulated(rec: SimulatedLike, csv_path: PathLike) -> Path:
    """Write a simulated recording: the CSV, ``<stem>.json`` (metadata) and ``<stem>.truth.json``.

    Returns
    -------
    Path
        The CSV.
    """
    path = write_canonical(csv_path, rec.t_s, rec.acc_mps2, rec.gyr_rads, rec.metadata)
    Path(f"{path.with_suffix('')}.truth.json").write_text(_json_text(rec.truth), encoding="utf-8")
    return path


# The live writer (RecordingWriter) lives in imurep.io.recording_writer.
