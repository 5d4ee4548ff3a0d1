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
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import numpy as np

from imurep.model.samples import FloatArray

READ_BYTES: Final = 1 << 20
"""Bytes read from the file at a time, 1 MiB."""
_HEADER_BYTES: Final = 1 << 16
_PLAIN_BYTES: Final = b"0123456789+-.eE,\n\r"


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


def _pieces(path: Path, start: int, limit: int | None) -> Iterator[bytes]:
    """Whole lines of ``path`` from byte ``start`` (up to byte ``limit`` when given), about
    :data:`READ_BYTES` at a time; the last piece may end in a line without a line end."""
    left = -1 if limit is None else max(0, limit - start)
    rest = b""
    with path.open("rb") as fh:
        fh.seek(start)
        while True:
            size = READ_BYTES if left < 0 else min(READ_BYTES, left)
            more = fh.read(size) if size else b""
            if left >= 0:
                left -= len(more)
            if not more:
                if rest:
                    yield rest
                return
            cut = more.rfind(b"\n")
            if cut < 0:
                rest += more  # a line longer than a read
                continue
            yield rest + more[: cut + 1]
            rest = more[cut + 1 :]


def parse_block(block: bytes, n_fields: int) -> FloatArray | None:
    """The values of a block of plain numeric CSV lines, shape ``(lines, n_fields)``, or None when
    the block is not plain (see the module docstring)."""
    if block.translate(None, _PLAIN_BYTES):
        return None  # some other byte
    if b"\r" in block:
        if block.count(b"\r\n") != block.count(b"\r"):
            return None  # a lone carriage return: pandas reads it as a line end
        block = block.replace(b"\r\n", b"\n")
    if block.startswith(b"\n"):
        return None  # a blank line: loadtxt would skip it without a trace
    if not block:
        return np.empty((0, n_fields))
    try:
        values = np.loadtxt(io.BytesIO(block), delimiter=",", dtype=np.float64, comments=None, ndmin=2)
    except ValueError:
        return None  # an empty or non-numeric field, or rows of different lengths
    if values.shape[0] != block.count(b"\n") + (not block.endswith(b"\n")):
        return None  # a blank line, skipped by loadtxt (counted: faster than searching for one)
    if values.shape[1] != n_fields or not np.isfinite(values).all():
        return None  # a field too many or too few in every row, NaN, inf
    return values


def plain_blocks(
    path: Path, start: int, n_fields: int, positions: list[int], chunk_rows: int, limit: int | None
) -> Iterator[tuple[int, FloatArray | None]]:
    """Yield ``(first_data_row, values)``, ``values`` of shape ``(chunk_rows, 7)`` (the last one
    fewer) in the order of ``positions``, for the data rows from byte ``start``, until a block is
    not plain: then ``(first_data_row, None)`` is yielded (the first row not yielded) and the
    iteration stops."""
    first_row = 1
    carry: FloatArray | None = None  # rows parsed but not yet yielded (fewer than chunk_rows)
    for piece in _pieces(path, start, limit):
        parsed = parse_block(piece, n_fields)
        if parsed is None:
            yield first_row, None
            return
        values = parsed[:, positions]  # a C-ordered copy
        if carry is not None and len(carry):
            values = np.concatenate((carry, values))
        full = len(values) - len(values) % chunk_rows
        for i in range(0, full, chunk_rows):
            yield first_row, values[i : i + chunk_rows]
            first_row += chunk_rows
        carry = values[full:]
    if carry is not None and len(carry):
        yield first_row, carry
