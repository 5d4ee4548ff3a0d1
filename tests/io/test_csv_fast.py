"""The numpy fast path of the canonical reader: the same values as the pandas reader, which it
hands over to at the first block that is not plain; and ``imurep analyze`` starts without pandas."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from imurep.io.canonical import iter_canonical_chunks, load_canonical
from imurep.io.csv_fast import parse_block, plain_header
from imurep.model.errors import DataValidationError

ROOT = Path(__file__).resolve().parents[2]
HEADER = "t,ax,ay,az,gx,gy,gz"
FORMATS = ("{:.6f}", "{:.9g}", "{:.17g}", "{!r}", "{:.8e}", "{:+.3E}", "{:.0f}.", "{:g}")


def _texts(seed: int, fmt: str, n: int = 3000) -> tuple[np.ndarray, str]:
    rng = np.random.default_rng(seed)
    scale = 10.0 ** rng.integers(-12, 8, size=(n, 7))
    values = rng.normal(size=(n, 7)) * scale
    values[:, 0] = np.cumsum(rng.uniform(0.05, 0.1, n)) + 1e4
    lines = [",".join(fmt.format(v) for v in row) for row in values.tolist()]
    return values, "\n".join(lines) + "\n"


@pytest.mark.parametrize("fmt", FORMATS)
def test_fast_path_parses_exactly_as_pandas(fmt: str) -> None:
    _, text = _texts(FORMATS.index(fmt), fmt)
    block = text.encode()
    fast = parse_block(block, 7)
    assert fast is not None
    with_pandas = pd.read_csv(io.BytesIO(block), header=None, dtype=np.float64, engine="c").to_numpy()
    assert fast.shape == with_pandas.shape
    assert fast.tobytes() == with_pandas.tobytes()  # bit for bit


@pytest.mark.parametrize(
    "block",
    [
        b"1,2,3,4,5,6,7\n\n8,9,1,2,3,4,5\n",  # a blank line: pandas skips it
        b"1,2,3,4,5,6,7\n8,9,1,2,3,4\n",  # a short row
        b"1,2,3,4,5,6,7,8\n",  # a long row
        b"1,2,3,4,5,6,NA\n",  # an NA text
        b"1,2,3,4,5,6,nan\n",
        b"1,2,3,4,5,6,inf\n",
        b'1,2,3,4,5,6,"7"\n',
        b"1,2,3,4,5,6,7\r8,9,1,2,3,4,5\r",  # lone carriage returns
        b"1,2,3,4,5,6, 7\n",
        b"1,2,3,4,5,6,1e\n",
        b"1,2,3,4,5,6,1.2.3\n",
        b"1,2,3,4,5,6,#7\n",
        b"1,2,,4,5,6,7\n",  # an empty cell
        b"\n1,2,3,4,5,6,7\n",
        b"1,2,3,4,5,6,7\r\n\r\n",
    ],
)
def test_blocks_that_are_not_plain_are_left_to_pandas(block: bytes) -> None:
    assert parse_block(block, 7) is None


def test_crlf_and_a_last_line_without_end(tmp_path: Path) -> None:
    values, text = _texts(1, "{:.9g}", 500)
    a = tmp_path / "lf.csv"
    b = tmp_path / "crlf.csv"
    a.write_text(HEADER + "\n" + text.rstrip("\n"), encoding="utf-8")
    b.write_bytes((HEADER + "\n" + text).replace("\n", "\r\n").encode())
    ra, rb = load_canonical(a), load_canonical(b)
    assert len(ra) == len(rb) == 500
    assert ra.t_s.tobytes() == rb.t_s.tobytes() and ra.gyr_rads.tobytes() == rb.gyr_rads.tobytes()


@pytest.mark.parametrize(
    "first_line",
    [
        "",
        '"t",ax,ay,az,gx,gy,gz',
        "\ufefft,ax,ay,az,gx,gy,gz",
        "t,ax,ay,az,gx,gy,gz,",
        "t,t,ax,ay,az,gx,gy,gz",
    ],
)
def test_headers_that_are_not_plain_are_left_to_pandas(tmp_path: Path, first_line: str) -> None:
    path = tmp_path / "h.csv"
    path.write_text(first_line + "\n1,2,3,4,5,6,7\n", encoding="utf-8")
    assert plain_header(path) is None


def test_hand_over_to_pandas_mid_file_keeps_every_row_once(tmp_path: Path) -> None:
    """Plain blocks first, then a blank line (pandas skips it) and later an NA cell: the rows
    before the hand-over are yielded once, and the error names the right line."""
    values, text = _texts(2, "{:.9g}", 40)
    lines = text.splitlines()
    path = tmp_path / "mixed.csv"
    path.write_text(HEADER + "\n" + "\n".join(lines[:25] + [""] + lines[25:]) + "\n", encoding="utf-8")
    rows = np.concatenate(
        [np.column_stack((c.t_s, c.acc_mps2, c.gyr_rads)) for c in iter_canonical_chunks(path, 4)]
    )
    expected = np.array([[float(v) for v in line.split(",")] for line in lines])
    assert rows.tobytes() == expected.tobytes()

    lines[33] = ",".join(lines[33].split(",")[:4] + ["oops"] + lines[33].split(",")[5:])
    path.write_text(HEADER + "\n" + "\n".join(lines[:25] + [""] + lines[25:]) + "\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        list(iter_canonical_chunks(path, 4))
    # data row 35, file line 36: the blank line is a line of the file (as before the fast path)
    assert info.value.row == 35 and info.value.column == "gx"
    assert "'oops' is not a number (file line 36)" in str(info.value)


def test_analyze_imports_neither_pandas_nor_importlib_metadata(tmp_path: Path) -> None:
    code = (
        "import sys; from imurep.cli.main import main; "
        f"rc = main(['analyze', {str(ROOT / 'recordings' / 'demo_hip.csv')!r}, '--no-store', "
        f"'--json', {str(tmp_path / 'out.json')!r}]); "
        "heavy = [m for m in ('pandas', 'pyarrow', 'scipy', 'importlib.metadata') if m in sys.modules]; "
        "print('HEAVY', heavy); sys.exit(rc)"
    )
    env = {**os.environ, "COLUMNS": "160", "NO_COLOR": "1"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY []" in proc.stdout
    assert (tmp_path / "out.json").stat().st_size > 0
