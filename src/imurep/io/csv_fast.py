"""The fast path of the canonical CSV reader: plain numeric files parsed with numpy alone.

A recording written by imurep (or any tool writing plain comma-separated numbers) is parsed here
without pandas, which keeps ``imurep analyze`` from importing it (~0.35 s of CPU per process).
The fast path only accepts what it can prove the pandas reader of :mod:`imurep.io.canonical`
parses to the same values:

* a header line of plain, unique, non-empty names (no quotes, no byte-order mark, no blank line
  before it);
* blocks of rows made only of digits, ``+ - . e E``, commas and line ends (``\\n`` or ``\\r\\n``),
  every row holding exactly the header's number of fields, every value finite.

Anything else (quotes, blanks, ``NA`` texts, NaN, short or long rows, non-numeric cells) makes it
give up on that block; the caller then hands the rest of the file to the pandas reader, which
produces the precise messages (row, column, cell) and warnings.  Values are the correctly rounded
doubles of the decimal texts, as pandas' parser gives them (a test compares both).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import numpy as np

from imurep.model.samples import FloatArray

READ_BYTES: Final = 1 << 20
"""Bytes read from the file at a time, 1 MiB."""
_HEADER_BYTES: Final = 1 << 16
_PLAIN_BYTES: Final = b"0123456789+-.eE,\n\r"
_NEWLINE: Final = ord("\n")


def plain_header(path: Path) -> tuple[list[str], int] | None:
    """The column names of the first line of ``path`` and the byte offset after it, or None when
    the line is not plain (see the module docstring) and the pandas reader must parse it."""
    with path.open("rb") as fh:
        head = fh.read(_HEADER_BYTES)
    end = head.find(b"\n")
    if end < 0 and len(head) == _HEADER_BYTES:
        return None  # a header longer than that, or no line end at all: not plain
    line = head if end < 0 else head[:end]
    if line.endswith(b"\r"):
        line = line[:-1]
    if not line.strip() or line.startswith(b"\xef\xbb\xbf") or b'"' in line or b"\r" in line:
        return None
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return None
    names = text.split(",")
    if any(not n.strip() for n in names) or len(set(names)) != len(names):
        return None
    return names, (len(head) if end < 0 else end + 1)


def _lines(path: Path, start: int, limit: int | None, chunk_rows: int) -> Iterator[bytes]:
    """Blocks of ``chunk_rows`` whole lines of ``path`` from byte ``start`` (up to byte ``limit``
    when given); the last block holds what remains (its last line may lack a line end)."""
    left = -1 if limit is None else max(0, limit - start)
    pieces: list[bytes] = []
    n_lines = 0  # line ends in pieces
    with path.open("rb") as fh:
        fh.seek(start)
        while True:
            size = READ_BYTES if left < 0 else min(READ_BYTES, left)
            more = fh.read(size) if size else b""
            if left >= 0:
                left -= len(more)
            if more:
                pieces.append(more)
                n_lines += more.count(b"\n")
                if n_lines < chunk_rows:
                    continue
            buf = b"".join(pieces)
            pieces.clear()
            ends = np.flatnonzero(np.frombuffer(buf, dtype=np.uint8) == _NEWLINE)
            begin = 0
            for k in range(chunk_rows, len(ends) + 1, chunk_rows):
                stop = int(ends[k - 1]) + 1
                yield buf[begin:stop]
                begin = stop
            rest = buf[begin:]
            del buf, ends
            n_lines = rest.count(b"\n")
            if not more:
                if rest:
                    yield rest
                return
            pieces.append(rest)


def parse_block(block: bytes, n_fields: int) -> FloatArray | None:
    """The values of a block of plain numeric CSV lines, shape ``(lines, n_fields)``, or None when
    the block is not plain (see the module docstring)."""
    if block.translate(None, _PLAIN_BYTES):
        return None  # some other byte
    n_cr = block.count(b"\r")
    if n_cr:
        if block.count(b"\r\n") != n_cr:
            return None  # a lone carriage return: pandas reads it as a line end
        block = block.replace(b"\r\n", b"\n")
    n_lines = block.count(b"\n") + (not block.endswith(b"\n"))
    if n_lines == 0:
        return np.empty((0, n_fields))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numpy < 2.3 warns about (then skips) bad rows
            values = np.loadtxt(io.BytesIO(block), delimiter=",", dtype=np.float64, comments=None, ndmin=2)
    except ValueError:
        return None
    if values.shape != (n_lines, n_fields) or not np.isfinite(values).all():
        return None  # blank lines (skipped by loadtxt), a field too many or too few, NaN, inf
    return values


def plain_blocks(
    path: Path, start: int, n_fields: int, positions: list[int], chunk_rows: int, limit: int | None
) -> Iterator[tuple[int, FloatArray | None]]:
    """Yield ``(first_data_row, values)`` with ``values`` of shape ``(n, 7)`` in the order of
    ``positions`` for the data rows from byte ``start``, until a block is not plain: then
    ``(first_data_row, None)`` is yielded and the iteration stops."""
    first_row = 1
    for block in _lines(path, start, limit, chunk_rows):
        values = parse_block(block, n_fields)
        if values is None:
            yield first_row, None
            return
        yield first_row, np.ascontiguousarray(values[:, positions])
        first_row += values.shape[0]
