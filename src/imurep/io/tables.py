"""Reading delimited text tables from vendor exports (files on disk or members of a zip archive).

Shared by the importers of :mod:`imurep.io.metabase`, :mod:`imurep.io.phyphox`,
:mod:`imurep.io.sensor_logger` and :mod:`imurep.io.physics_toolbox`.  Everything that can go wrong
with a file becomes a one-line :class:`imurep.errors.DataValidationError` naming the file (and the
data row and column when known).  Data rows are numbered from 1 after the header line.

Tables are parsed with pandas in chunks of :data:`CHUNK_ROWS` rows; only the requested numeric
columns are kept (as float64), so memory grows with ``8 × n_rows × n_columns`` bytes, not with the
size of the text.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import lzma
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final

import numpy as np
from numpy.typing import NDArray

from imurep.model.errors import DataValidationError
from imurep.model.samples import FloatArray

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)

CHUNK_ROWS: Final = 65536
"""Rows parsed per pandas chunk."""

_SNIFF_BYTES: Final = 8192
_SEPARATORS: Final = (",", ";", "\t")


class ArchiveError(DataValidationError):
    """An archive member that cannot or must not be read (damaged, encrypted, an unknown method, a
    zip bomb): never skipped quietly by format detection, always reported."""


@dataclass(frozen=True)
class Source:
    """One text file of an export: a file on disk or a member of a zip archive.

    Attributes
    ----------
    path
        The file on disk, or the zip archive holding the member.
    member
        Name of the member inside the zip (``None`` for a plain file).
    """

    path: Path
    member: str | None = None

    @property
    def name(self) -> str:
        """Base name of the file (``Gyroscope.csv``)."""
        return self.member.rsplit("/", 1)[-1] if self.member is not None else self.path.name

    @property
    def where(self) -> str:
        """How the file is named in messages (``rec.zip:Gyroscope.csv`` for a zip member)."""
        return f"{self.path}:{self.member}" if self.member is not None else str(self.path)

    @contextmanager
    def open(self) -> Iterator[IO[bytes]]:
        """Open for binary reading; OS and zip errors become :class:`DataValidationError`."""
        try:
            if self.member is None:
                with self.path.open("rb") as fh:
                    yield fh
            else:
                with zipfile.ZipFile(self.path) as zf:
                    info = zf.getinfo(self.member)
                    check_member(info, self.where)
                    with zf.open(info) as member:
                        yield io.BufferedReader(_GuardedMember(member, self.where))
        except _ZIP_DAMAGE as exc:
            if self.member is not None:
                raise ArchiveError(
                    f"the zip archive is damaged ({_one_line(exc)}); re-download or re-create it, or pass "
                    "the extracted folder",
                    path=self.where,
                ) from None
            raise DataValidationError(f"cannot be read ({_one_line(exc)})", path=self.where) from None
        except (OSError, RuntimeError, NotImplementedError, KeyError) as exc:
            raise DataValidationError(f"cannot be read ({_one_line(exc)})", path=self.where) from None


_ZIP_DAMAGE: Final = (zipfile.BadZipFile, zlib.error, EOFError, lzma.LZMAError)
_ZIP_METHODS: Final = frozenset(
    {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
)
MAX_LINE_BYTES: Final = 1 << 20
"""Longest line read from an archive member, bytes (a recording's lines are < 1 kB)."""
MAX_MEMBER_BYTES: Final = 1 << 30
"""Largest archive member read, bytes uncompressed (a 10-hour 200 Hz sensor file is < 0.5 GB)."""
MAX_ARCHIVE_BYTES: Final = 2 << 30
"""Largest total of an archive's members, bytes uncompressed."""
MAX_RATIO: Final = 60.0
"""Largest compression ratio accepted for members above :data:`_RATIO_FLOOR_BYTES` (CSV text
compresses 3-10 times; far more means a zip bomb or a file of one repeated line)."""
_RATIO_FLOOR_BYTES: Final = 32 << 20


def check_member(info: zipfile.ZipInfo, where: str) -> None:
    """Refuse an archive member imurep cannot or should not read, saying why.

    Raises
    ------
    DataValidationError
        Encrypted, an unsupported compression method, or a decompressed size out of bounds
        (:data:`MAX_MEMBER_BYTES`, :data:`MAX_RATIO`).
    """
    if info.flag_bits & 0x1:
        raise ArchiveError(
            "is encrypted (password-protected); extract it with its password and pass the folder",
            path=where,
        )
    if info.compress_type not in _ZIP_METHODS:
        raise ArchiveError(
            f"uses a compression method imurep cannot read (method {info.compress_type}); re-create the "
            "zip with ordinary (deflate) compression or pass the extracted folder",
            path=where,
        )
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > MAX_MEMBER_BYTES or (info.file_size > _RATIO_FLOOR_BYTES and ratio > MAX_RATIO):
        raise ArchiveError(
            f"decompresses to {info.file_size / 2**20:.0f} MiB from {info.compress_size / 2**20:.1f} MiB "
            f"({ratio:.0f}x); refused as a possible zip bomb — extract it yourself if it is genuine",
            path=where,
        )


class _GuardedMember(io.RawIOBase):
    """A zip member read with bounds: no line longer than :data:`MAX_LINE_BYTES`; damage in the
    compressed data becomes a :class:`DataValidationError` naming the member."""

    def __init__(self, inner: IO[bytes], where: str) -> None:
        self._inner = inner
        self._where = where
        self._since_newline = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._inner.read(min(len(buffer), 1 << 16))  # lines inside a read are < 64 kB
        except _ZIP_DAMAGE as exc:
            raise ArchiveError(
                f"the zip archive is damaged ({_one_line(exc)}); re-download or re-create it, or pass "
                "the extracted folder",
                path=self._where,
            ) from None
        n = len(data)
        first = data.find(b"\n")
        carried = self._since_newline + (n if first < 0 else first)
        self._since_newline = carried if first < 0 else n - data.rfind(b"\n") - 1
        if carried > MAX_LINE_BYTES:
            raise ArchiveError(
                f"holds a line longer than {MAX_LINE_BYTES >> 20} MiB; not a table of samples",
                path=self._where,
            )
        buffer[:n] = data
        return n


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] if text else type(exc).__name__


def list_sources(path: Path) -> list[Source]:
    """The files of an export: the regular files of a folder (not recursive, except a ``meta/``
    sub-folder) or the members of a zip archive (``__MACOSX`` and folders skipped)."""
    where = str(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        meta = path / "meta"
        if meta.is_dir():
            files += sorted(p for p in meta.iterdir() if p.is_file())
        return [Source(p) for p in files]
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as zf:
                infos = [
                    info
                    for info in zf.infolist()
                    if not info.is_dir()
                    and "__MACOSX" not in info.filename
                    and not info.filename.rsplit("/", 1)[-1].startswith(".")
                ]
                names = [info.filename for info in infos]
            for info in infos:
                check_member(info, f"{where}:{info.filename}")
            total = sum(info.file_size for info in infos)
            if total > MAX_ARCHIVE_BYTES:
                raise ArchiveError(
                    f"decompresses to {total / 2**30:.1f} GiB in all (more than "
                    f"{MAX_ARCHIVE_BYTES >> 30} GiB); extract the recording you want and pass it",
                    path=where,
                )
        except (OSError, zipfile.BadZipFile) as exc:
            raise ArchiveError(f"is not a readable zip archive ({_one_line(exc)})", path=where) from None
        return [Source(path, n) for n in sorted(names)]
    return [Source(path)]


def find_source(sources: Sequence[Source], *names: str) -> Source | None:
    """The first of ``sources`` whose base name equals one of ``names`` (case-insensitive)."""
    wanted = [n.lower() for n in names]
    for name in wanted:
        for s in sources:
            if s.name.lower() == name:
                return s
    return None


def utf16_name(head: bytes) -> str | None:
    """``"UTF-16 LE"`` / ``"UTF-16 BE"`` when ``head`` (a file's first bytes) is UTF-16 text (a byte
    order mark, or ASCII text with every other byte zero), else None."""
    if head.startswith(codecs.BOM_UTF16_LE):
        return "UTF-16 LE"
    if head.startswith(codecs.BOM_UTF16_BE):
        return "UTF-16 BE"
    even, odd = head[0::2], head[1::2]
    if len(head) >= 8 and odd.count(0) >= 0.9 * len(odd) and even.count(0) == 0:
        return "UTF-16 LE"
    if len(head) >= 8 and even.count(0) >= 0.9 * len(even) and odd.count(0) == 0:
        return "UTF-16 BE"
    return None


def utf16_message(encoding: str) -> str:
    """What to do with a UTF-16 file (imurep reads UTF-8)."""
    return (
        f"is {encoding} text, not UTF-8; save it as UTF-8 (e.g. `iconv -f UTF-16 -t UTF-8 in.csv > "
        "out.csv`, or 'CSV UTF-8' in a spreadsheet's Save As)"
    )


def check_text(src: Source, what: str) -> bytes:
    """Reject empty, binary and non-UTF-8 files; returns the first bytes (BOM removed).

    ``what`` describes the expected content for the messages (e.g. ``"a MetaBase CSV export"``).
    """
    with src.open() as fh:
        head = fh.read(_SNIFF_BYTES)
    if not head:
        raise DataValidationError(f"file is empty; expected {what}", path=src.where)
    encoding = utf16_name(head)
    if encoding is not None:
        raise DataValidationError(utf16_message(encoding), path=src.where)
    if b"\x00" in head:
        raise DataValidationError(
            f"looks like a binary file, not CSV text; expected {what} — export the data as CSV",
            path=src.where,
        )
    head = head.removeprefix(codecs.BOM_UTF8)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError as exc:
        raise DataValidationError(
            f"is not UTF-8 text (undecodable byte at offset {exc.start}); expected {what}", path=src.where
        ) from None
    return head


@dataclass(frozen=True)
class Header:
    """The header line of a delimited text table.

    Attributes
    ----------
    names
        Column names as written (quotes removed, blanks stripped).
    sep
        Field separator: ``","``, ``";"`` or ``"\\t"``.
    decimal
        Decimal mark: ``"."`` or ``","`` (phyphox "decimal comma" exports).
    """

    names: tuple[str, ...]
    sep: str
    decimal: str

    def find(self, pattern: str) -> int | None:
        """Index of the first column whose lower-cased name matches the regex ``pattern`` fully."""
        rx = re.compile(pattern)
        for i, name in enumerate(self.names):
            if rx.fullmatch(name.strip().lower()):
                return i
        return None


_DECIMAL_COMMA_RE: Final = re.compile(r"^\s*\"?[-+]?\d+,\d+([eE][-+]?\d+)?\"?\s*$")


def read_header(src: Source, what: str) -> Header:
    """Check the file (see :func:`check_text`) and parse its first non-blank line as the header."""
    head = check_text(src, what)
    text = head.decode("utf-8", errors="ignore")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise DataValidationError(f"holds only blank lines; expected {what}", path=src.where)
    first = lines[0]
    sep = max(_SEPARATORS, key=first.count)
    if first.count(sep) == 0:
        sep = ","
    names = tuple(c.strip() for c in next(csv.reader([first], delimiter=sep)))
    decimal = "."
    if sep != "," and len(lines) > 1:
        cells = next(csv.reader([lines[1]], delimiter=sep))
        if any(_DECIMAL_COMMA_RE.match(c) for c in cells):
            decimal = ","
    return Header(names, sep, decimal)


_NA_TEXTS: Final = frozenset({"", "nan", "-nan", "na", "n/a", "null", "none", "#n/a", "<na>"})


def _is_number(text: str, decimal: str) -> bool:
    try:
        float(text.strip().replace(decimal, ".") if decimal != "." else text)
    except ValueError:
        return False
    return True


def read_numeric(
    src: Source,
    header: Header,
    columns: Sequence[int],
    what: str,
    *,
    fix: str = "",
    drop_empty_rows: bool = True,
) -> FloatArray:
    """Read the columns at file positions ``columns`` as float64, shape ``(n, len(columns))``.

    Rows whose requested cells are all empty are dropped (with a warning) when ``drop_empty_rows``;
    any other empty, non-numeric, NaN or infinite cell is an error naming the row and column.

    Parameters
    ----------
    src, header
        The file and its parsed header (:func:`read_header`).
    columns
        0-based positions of the wanted columns in the file.
    what
        What the file should hold, for messages.
    fix
        Extra advice appended to cell errors.
    """
    import pandas as pd  # only vendor exports are read with pandas (imported when one is read)

    where = src.where
    order = sorted(set(columns))
    perm = [order.index(c) for c in columns]
    names = [header.names[c] for c in columns]
    blocks: list[FloatArray] = []
    first_row = 1
    n_empty = 0
    with src.open() as raw:
        fh = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        try:
            reader = pd.read_csv(
                fh,
                sep=header.sep,
                decimal=header.decimal,
                header=0,
                index_col=False,
                usecols=order,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                engine="c",
                chunksize=CHUNK_ROWS,
            )
        except (ValueError, IndexError, TypeError, OverflowError, pd.errors.ParserError) as exc:
            raise DataValidationError(
                f"cannot parse the CSV ({_one_line(exc)}); expected {what}", path=where
            ) from None
        with reader:
            while True:
                try:
                    frame = next(reader)
                except StopIteration:
                    break
                except UnicodeDecodeError as exc:
                    raise DataValidationError(
                        f"is not UTF-8 text (undecodable byte at offset {exc.start}); expected {what}",
                        path=where,
                    ) from None
                except DataValidationError:
                    raise
                except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, TypeError) as exc:
                    raise DataValidationError(
                        f"cannot parse the CSV near data rows {first_row}-{first_row + CHUNK_ROWS - 1} "
                        f"({_one_line(exc)}); check the separator and the number of fields per row",
                        path=where,
                    ) from None
                block = _convert_block(frame, perm, names, first_row, header.decimal, where, fix)
                empty = np.asarray(np.isnan(block).all(axis=1), dtype=np.bool_)
                kept: NDArray[np.bool_] | None = None
                if drop_empty_rows and empty.any():
                    n_empty += int(empty.sum())
                    kept = ~empty
                    block = block[kept]
                _check_finite(block, names, first_row, where, fix, kept=kept)
                blocks.append(block)
                first_row += len(frame)
    if n_empty:
        logger.warning("%s: dropped %d row(s) with no values", where, n_empty)
    if not blocks:
        return np.empty((0, len(columns)))
    return np.concatenate(blocks) if len(blocks) > 1 else blocks[0]


def _convert_block(
    frame: pd.DataFrame, perm: list[int], names: list[str], first_row: int, decimal: str, where: str, fix: str
) -> FloatArray:
    import pandas as pd

    out = np.empty((len(frame), len(perm)))
    for j, k in enumerate(perm):
        texts = frame.iloc[:, k].astype(str).str.strip()
        if decimal != ".":
            texts = texts.str.replace(decimal, ".", regex=False)
        values = pd.to_numeric(texts, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.isnan(values) & ~texts.str.lower().isin(_NA_TEXTS).to_numpy()
        if bad.any():
            i = int(np.argmax(bad))
            cell = str(frame.iloc[i, k])
            if not _is_number(cell, decimal):
                raise DataValidationError(
                    f"{cell.strip()[:40]!r} is not a number; expected a number in every data row"
                    + (f" — {fix}" if fix else ""),
                    path=where,
                    row=first_row + i,
                    column=names[j],
                )
        out[:, j] = values
    return out


def _check_finite(
    block: FloatArray,
    names: list[str],
    first_row: int,
    where: str,
    fix: str,
    kept: NDArray[np.bool_] | None,
) -> None:
    finite = np.isfinite(block)
    if finite.all():
        return
    r, c = (int(x) for x in np.argwhere(~finite)[0])
    row = first_row + (int(np.flatnonzero(kept)[r]) if kept is not None else r)
    what = "an empty, missing or NaN value" if np.isnan(block[r, c]) else "an infinite value"
    raise DataValidationError(
        f"{what}; every data row needs finite numbers — repair or delete that row"
        + (f" ({fix})" if fix else ""),
        path=where,
        row=row,
        column=names[c],
    )


def require_column(header: Header, src: Source, pattern: str, label: str, what: str) -> int:
    """Position of the column matching ``pattern`` (see :meth:`Header.find`), else a clear error."""
    pos = header.find(pattern)
    if pos is None:
        found = ",".join(header.names)
        if len(found) > 100:
            found = found[:97] + "..."
        raise DataValidationError(
            f"missing the {label} column; expected {what}; found header: {found}", path=src.where
        )
    return pos


def all_matching(sources: Sequence[Source], predicate: Callable[[str], bool]) -> list[Source]:
    """The sources whose base name satisfies ``predicate``."""
    return [s for s in sources if predicate(s.name)]
