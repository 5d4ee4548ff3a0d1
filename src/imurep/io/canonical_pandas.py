"""The pandas part of the canonical CSV reader (:mod:`imurep.io.canonical`): headers and blocks
that are not plain numbers (quotes, blank lines, ``NA`` texts, non-numeric cells...; see
:mod:`imurep.io.csv_fast`), read with pandas' C parser, and the row and column of a bad cell.

Imported only when such a file is read, so that ``imurep analyze`` of a plain file does not
import pandas.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Final

import numpy as np
import pandas as pd

from imurep.io.canonical import (
    _FIX_HEADER,
    _HEADER_TEXT,
    CANONICAL_COLUMNS,
    _is_number,
    _one_line,
    _opened,
)
from imurep.model.errors import DataValidationError
from imurep.model.samples import FloatArray

# Cell texts pandas reads as missing values; they surface as NaN, not as parse errors.
_NA_TEXTS: Final = frozenset(
    {
        "",
        "#N/A",
        "#N/A N/A",
        "#NA",
        "-1.#IND",
        "-1.#QNAN",
        "-NaN",
        "-nan",
        "1.#IND",
        "1.#QNAN",
        "<NA>",
        "N/A",
        "NA",
        "NULL",
        "NaN",
        "None",
        "n/a",
        "nan",
        "null",
    }
)


def read_header(path: Path) -> list[str]:
    where = str(path)
    try:
        header = pd.read_csv(path, nrows=0, index_col=False, engine="c", encoding="utf-8")
    except pd.errors.EmptyDataError:
        raise DataValidationError(
            f"holds no CSV header (only blank lines); {_FIX_HEADER}", path=where
        ) from None
    except UnicodeDecodeError as exc:
        raise DataValidationError(
            f"is not UTF-8 text (undecodable byte at offset {exc.start}); save the CSV as UTF-8",
            path=where,
        ) from None
    except (ValueError, IndexError, TypeError, OverflowError) as exc:
        raise DataValidationError(
            f"cannot parse the CSV header ({_one_line(exc)}); {_FIX_HEADER}", path=where
        ) from None
    return [str(c) for c in header.columns]


def _locate_bad_cell(
    path: Path, positions: list[int], first_row: int, nrows: int, limit: int | None = None
) -> tuple[int, str, str] | None:
    """Find the first non-numeric cell in data rows ``first_row .. first_row + nrows - 1``.

    Returns ``(data_row, column_name, cell_text)`` or ``None`` when it cannot be located.
    """
    try:
        with _opened(path, limit) as counted:
            text = pd.read_csv(
                io.BufferedReader(counted),
                header=0,
                index_col=False,
                usecols=positions,
                dtype=str,
                keep_default_na=False,
                skiprows=range(1, first_row),
                nrows=nrows,
                engine="c",
                encoding="utf-8",
            )
    except (ValueError, IndexError, TypeError, OverflowError):
        return None
    sorted_pos = sorted(positions)
    best: tuple[int, str, str] | None = None
    for col, pos in zip(CANONICAL_COLUMNS, positions, strict=True):
        values = text.iloc[:, sorted_pos.index(pos)]
        numeric = pd.to_numeric(values, errors="coerce")
        for i in np.flatnonzero(numeric.isna().to_numpy()):
            cell = str(values.iloc[i])
            if cell.strip() in _NA_TEXTS or _is_number(cell):
                continue
            if best is None or first_row + int(i) < best[0]:
                best = (first_row + int(i), col, cell)
            break
    return best


def parsed_blocks(
    source: IO[bytes], path: Path, positions: list[int], chunk_rows: int, limit: int | None
) -> Iterator[tuple[int, FloatArray]]:
    where = str(path)
    sorted_pos = sorted(positions)
    perm = [sorted_pos.index(p) for p in positions]
    try:
        reader = pd.read_csv(
            source,
            header=0,
            index_col=False,
            usecols=sorted_pos,
            dtype=np.float64,
            engine="c",
            chunksize=chunk_rows,
            encoding="utf-8",
        )
    except (ValueError, IndexError, TypeError, OverflowError) as exc:
        raise DataValidationError(f"cannot parse the CSV ({_one_line(exc)})", path=where) from None
    first_row = 1
    with reader:
        while True:
            try:
                frame = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError as exc:
                raise DataValidationError(
                    f"is not UTF-8 text (undecodable byte at offset {exc.start}); save the CSV as UTF-8",
                    path=where,
                ) from None
            except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
                raise DataValidationError(
                    f"cannot parse the CSV near data rows {first_row}-{first_row + chunk_rows - 1} "
                    f"({_one_line(exc)}); check quoting and the number of fields per row",
                    path=where,
                ) from None
            except (ValueError, TypeError, OverflowError) as exc:
                bad = _locate_bad_cell(path, positions, first_row, chunk_rows, limit)
                if bad is None:
                    raise DataValidationError(
                        f"non-numeric value in data rows {first_row}-{first_row + chunk_rows - 1} "
                        f"({_one_line(exc)}); every cell of {_HEADER_TEXT} must be a number",
                        path=where,
                    ) from None
                row, col, cell = bad
                raise DataValidationError(
                    f"{cell.strip()[:40]!r} is not a number (file line {row + 1}); "
                    f"every cell of {_HEADER_TEXT} must be a number in SI units — fix or delete that row",
                    path=where,
                    row=row,
                    column=col,
                ) from None
            values = frame.to_numpy(dtype=np.float64, copy=False)[:, perm]
            yield first_row, np.ascontiguousarray(values)
            first_row += len(frame)
