"""Loading canonical recordings: round trips, streaming, and every kind of bad input."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imurep.io import MIN_DURATION_S, iter_canonical_chunks, load_canonical, read_sidecar
from imurep.model.errors import DataValidationError
from imurep.model.samples import FloatArray

COLUMNS = ["t", "ax", "ay", "az", "gx", "gy", "gz"]


def make_samples(n: int = 1000, rate_hz: float = 200.0, t0: float = 12.5, seed: int = 0) -> FloatArray:
    """``(n, 7)`` rows in canonical column order: t (s), acc (m/s²), gyr (rad/s)."""
    rng = np.random.default_rng(seed)
    t = t0 + np.arange(n) / rate_hz
    acc = rng.normal(0.0, 0.3, (n, 3)) + [0.0, 0.0, 9.81]
    gyr = rng.normal(0.0, 0.2, (n, 3))
    return np.column_stack([t, acc, gyr])


def write_csv(path: Path, data: FloatArray | list[list[str]], header: list[str] | None = None) -> Path:
    """Write rows (numbers are written exactly with ``repr``) under ``header``."""
    lines = [",".join(header if header is not None else COLUMNS)]
    for row in data:
        lines.append(",".join(c if isinstance(c, str) else repr(float(c)) for c in row))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def as_text_rows(data: FloatArray) -> list[list[str]]:
    return [[repr(float(v)) for v in row] for row in data]


def load_error(path: Path, **kwargs: int) -> str:
    with pytest.raises(DataValidationError) as info:
        list(iter_canonical_chunks(path, **kwargs))
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message or path.name in message
    return message


# --- happy paths -------------------------------------------------------------------------------


def test_round_trip_exact(tmp_path: Path) -> None:
    data = make_samples(1000)
    rec = load_canonical(write_csv(tmp_path / "rec.csv", data))
    np.testing.assert_array_equal(rec.t_s, data[:, 0])
    np.testing.assert_array_equal(rec.acc_mps2, data[:, 1:4])
    np.testing.assert_array_equal(rec.gyr_rads, data[:, 4:7])
    assert rec.metadata == {}
    assert len(rec) == 1000
    assert rec.sample_rate_hz == pytest.approx(200.0)
    assert rec.duration_s == pytest.approx(999 / 200.0)


def test_column_order_free_and_extra_columns_ignored(tmp_path: Path) -> None:
    data = make_samples(600)
    order = [6, 0, 3, 1, 5, 2, 4]
    header = [COLUMNS[i] for i in order] + [" Temp "]
    rows = [[repr(float(row[i])) for i in order] + ["21.5"] for row in data]
    rows_with_blanks = [[" " + c for c in r] for r in rows]
    # Upper-case names with blanks around them are accepted too.
    rec = load_canonical(write_csv(tmp_path / "rec.csv", rows_with_blanks, [h.upper() for h in header]))
    np.testing.assert_array_equal(rec.t_s, data[:, 0])
    np.testing.assert_array_equal(rec.acc_mps2, data[:, 1:4])
    np.testing.assert_array_equal(rec.gyr_rads, data[:, 4:7])


@pytest.mark.parametrize("chunk_rows", [1, 7, 400, 999, 1000, 5000])
def test_streaming_equals_whole_load(tmp_path: Path, chunk_rows: int) -> None:
    path = write_csv(tmp_path / "rec.csv", make_samples(1000))
    whole = load_canonical(path)
    chunks = list(iter_canonical_chunks(path, chunk_rows=chunk_rows))
    assert all(0 < len(c) <= chunk_rows for c in chunks)
    assert sum(len(c) for c in chunks) == len(whole)
    np.testing.assert_array_equal(np.concatenate([c.t_s for c in chunks]), whole.t_s)
    np.testing.assert_array_equal(np.concatenate([c.acc_mps2 for c in chunks]), whole.acc_mps2)
    np.testing.assert_array_equal(np.concatenate([c.gyr_rads for c in chunks]), whole.gyr_rads)
    again = list(whole.chunks(chunk_rows))
    np.testing.assert_array_equal(np.concatenate([c.t_s for c in again]), whole.t_s)


def test_sidecar_is_read(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "rec.csv", make_samples(500))
    meta = {"placement": "thigh", "sides": ["left", "right"], "device": "x", "sample_rate_hz": 200}
    (tmp_path / "rec.json").write_text(json.dumps(meta), encoding="utf-8")
    assert load_canonical(path).metadata == meta
    assert read_sidecar(path) == meta


def test_exact_duplicate_rows_dropped_with_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    data = make_samples(800)
    doubled = np.insert(data, [100, 100, 400, 800], data[[99, 99, 399, 799]], axis=0)
    path = write_csv(tmp_path / "rec.csv", doubled)
    with caplog.at_level(logging.WARNING, logger="imurep.io.canonical"):
        rec = load_canonical(path, chunk_rows=100)  # a duplicate sits right at a chunk boundary
    np.testing.assert_array_equal(rec.t_s, data[:, 0])
    np.testing.assert_array_equal(rec.gyr_rads, data[:, 4:7])
    assert "dropped 4 exact duplicate row(s) (first at data row 101)" in caplog.text


def test_large_file_loads_fast(tmp_path: Path) -> None:
    """720k rows (1 h at 200 Hz) load in well under 2 s."""
    import time

    data = make_samples(720_000)
    path = tmp_path / "big.csv"
    np.savetxt(path, data, delimiter=",", header=",".join(COLUMNS), comments="", fmt="%.6f")
    start = time.perf_counter()
    rec = load_canonical(path)
    elapsed = time.perf_counter() - start
    assert len(rec) == 720_000
    assert elapsed < 2.0, f"loading took {elapsed:.2f} s"


# --- bad input ---------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    assert "file not found" in load_error(tmp_path / "nope.csv")


def test_directory(tmp_path: Path) -> None:
    (tmp_path / "dir.csv").mkdir()
    assert "not a regular file" in load_error(tmp_path / "dir.csv")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert "file is empty" in load_error(path)


def test_blank_lines_only(tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_text("\n\n\n", encoding="utf-8")
    assert "no CSV header" in load_error(path)


def test_header_only(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "hdr.csv", [])
    assert "no data rows" in load_error(path)


def test_misspelled_column_suggests_closest(tmp_path: Path) -> None:
    header = ["t", "ax", "ay", "az", "gyro_x", "gy", "gz"]
    msg = load_error(write_csv(tmp_path / "rec.csv", make_samples(500), header))
    assert "missing column 'gx' (did you mean 'gyro_x'? rename it)" in msg
    assert "t,ax,ay,az,gx,gy,gz" in msg


def test_several_missing_columns(tmp_path: Path) -> None:
    header = ["time", "ax", "ay", "az", "gx", "gy", "foo"]
    msg = load_error(write_csv(tmp_path / "rec.csv", make_samples(500), header))
    assert "missing columns 't' (did you mean 'time'? rename it), 'gz'" in msg


def test_semicolon_separated(tmp_path: Path) -> None:
    path = tmp_path / "rec.csv"
    path.write_text("t;ax;ay;az;gx;gy;gz\n0;0;0;9,8;0;0;0\n", encoding="utf-8")
    assert "separated by semicolons" in load_error(path)


def test_no_header(tmp_path: Path) -> None:
    path = tmp_path / "rec.csv"
    np.savetxt(path, make_samples(500), delimiter=",")
    assert "first line holds numbers, not column names" in load_error(path)


def test_non_numeric_cell_names_row_and_column(tmp_path: Path) -> None:
    rows = as_text_rows(make_samples(1000))
    rows[734][5] = "0.1x"
    msg = load_error(write_csv(tmp_path / "rec.csv", rows), chunk_rows=256)
    assert "row 735" in msg
    assert "column 'gy'" in msg
    assert "'0.1x' is not a number (file line 736)" in msg


def test_empty_cell(tmp_path: Path) -> None:
    rows = as_text_rows(make_samples(500))
    rows[42][2] = ""
    msg = load_error(write_csv(tmp_path / "rec.csv", rows))
    assert "row 43, column 'ay': an empty, missing or NaN value" in msg


@pytest.mark.parametrize(("cell", "what"), [("nan", "NaN"), ("inf", "infinite"), ("-inf", "infinite")])
def test_nan_and_inf(tmp_path: Path, cell: str, what: str) -> None:
    rows = as_text_rows(make_samples(500))
    rows[300][6] = cell
    msg = load_error(write_csv(tmp_path / "rec.csv", rows))
    assert "row 301, column 'gz'" in msg
    assert what in msg


def test_short_row(tmp_path: Path) -> None:
    rows = as_text_rows(make_samples(500))
    rows[10] = rows[10][:4]
    msg = load_error(write_csv(tmp_path / "rec.csv", rows))
    assert "row 11, column 'gx'" in msg


@pytest.mark.parametrize("chunk_rows", [65536, 300, 1])
def test_time_going_back(tmp_path: Path, chunk_rows: int) -> None:
    data = make_samples(1000)
    data[[300, 301]] = data[[301, 300]]
    msg = load_error(write_csv(tmp_path / "rec.csv", data), chunk_rows=chunk_rows)
    assert "row 302, column 't'" in msg
    assert "goes back in time" in msg
    assert "strictly increase" in msg


@pytest.mark.parametrize("chunk_rows", [65536, 300])
def test_repeated_timestamp_with_other_values(tmp_path: Path, chunk_rows: int) -> None:
    data = make_samples(1000)
    data[300, 0] = data[299, 0]
    msg = load_error(write_csv(tmp_path / "rec.csv", data), chunk_rows=chunk_rows)
    assert "row 301, column 't'" in msg
    assert "repeats the previous row's" in msg


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "rec.csv"
    path.write_bytes(b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)) * 4)
    assert "binary file" in load_error(path)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "rec.csv"
    path.write_bytes("t,ax,ay,az,gx,gy,gz,Temp°\n".encode("latin-1") + b"0,0,0,9.8,0,0,0,1\n")
    assert "not UTF-8" in load_error(path)


def test_too_short(tmp_path: Path) -> None:
    n = int(MIN_DURATION_S * 200) - 10
    msg = load_error(write_csv(tmp_path / "rec.csv", make_samples(n)))
    assert f"{n} rows" in msg
    assert "at least 2 s" in msg


def test_times_in_milliseconds_are_too_short(tmp_path: Path) -> None:
    data = make_samples(1000)
    data[:, 0] /= 1000.0  # as if a ms column had been divided twice
    assert "check that t is in seconds" in load_error(write_csv(tmp_path / "rec.csv", data))


def test_bad_sidecar_json(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "rec.csv", make_samples(500))
    (tmp_path / "rec.json").write_text('{"placement": "hip",', encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"rec\.json: metadata sidecar is not valid JSON"):
        load_canonical(path)


@pytest.mark.parametrize(
    ("meta", "fragment"),
    [
        ([1, 2], "must hold a JSON object"),
        ({"placement": "knee"}, "'placement' must be one of hip, thigh"),
        ({"side": "both"}, "'side' must be one of left, right"),
        ({"sides": "left"}, "'sides' must be a list"),
        ({"sample_rate_hz": -5}, "'sample_rate_hz' must be a positive number"),
    ],
)
def test_bad_sidecar_values(tmp_path: Path, meta: object, fragment: str) -> None:
    path = write_csv(tmp_path / "rec.csv", make_samples(500))
    (tmp_path / "rec.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(DataValidationError, match="rec.json") as info:
        read_sidecar(path)
    assert fragment in str(info.value)


# --- fuzzing -----------------------------------------------------------------------------------

_FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _load_or_validation_error(path: Path) -> None:
    """Loading either succeeds with consistent arrays or raises DataValidationError (nothing else)."""
    try:
        rec = load_canonical(path, chunk_rows=3)
    except DataValidationError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert rec.acc_mps2.shape == (len(rec), 3)
    assert np.all(np.diff(rec.t_s) > 0)
    assert rec.duration_s >= MIN_DURATION_S


@_FUZZ
@given(content=st.binary(max_size=600))
def test_arbitrary_bytes_only_raise_validation_errors(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_bytes(content)
    _load_or_validation_error(path)


_cells = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-5, 5).map(str),
    st.sampled_from(["", "x", '"', '"1"', "nan", "1e999", " ", "1,2", "\t", "NA", "-", "\r"]),
)
_header = st.lists(st.sampled_from([*COLUMNS, "T", "gyro_x", "", '"t"', "ax "]), min_size=0, max_size=9)
_rows = st.lists(st.lists(_cells, min_size=0, max_size=9), max_size=12)


@_FUZZ
@given(header=_header, rows=_rows, sep=st.sampled_from(["\n", "\r\n"]))
def test_csv_like_text_only_raises_validation_errors(
    tmp_path: Path, header: list[str], rows: list[list[str]], sep: str
) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_text(sep.join([",".join(header), *(",".join(r) for r in rows)]), encoding="utf-8")
    _load_or_validation_error(path)


@_FUZZ
@given(t=st.lists(st.floats(-10, 10, allow_nan=False), min_size=1, max_size=60), dup=st.integers(0, 59))
def test_timestamps_either_load_increasing_or_raise(tmp_path: Path, t: list[float], dup: int) -> None:
    rows = [[repr(v), "0", "0", "9.8", "0", "0", "0"] for v in t]
    rows.insert(min(dup, len(rows)), list(rows[min(dup, len(rows) - 1)]))
    path = tmp_path / "fuzz.csv"
    write_csv(path, rows)
    _load_or_validation_error(path)
