"""Rep and set tables of analyses (pandas DataFrames) and their files: CSV or Parquet.

The tables are built from the JSON document of an analysis (:func:`imurep.io.results_json.
result_to_jsonable`), so they carry the same rounded numbers as ``imurep analyze --json`` and a
finished batch can rebuild them from its per-recording JSON files.  Every column holding a
quantity names its unit (``*_s`` seconds, ``*_deg`` degrees); ``*_utc`` columns are wall-clock
times (UTC), present when the sidecar states ``started_unix_s``.  CSV files are
spreadsheet-friendly: a header line, ISO 8601 times, no index column.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pandas as pd

from imurep.model.codes import FAULTS, SIDES
from imurep.model.errors import SettingsError

if TYPE_CHECKING:
    from imurep.coaching.history import History

logger = logging.getLogger(__name__)

TABLE_SUFFIXES: Final = (".csv", ".parquet", ".pq")
"""File name endings :func:`write_table` writes: CSV, else Parquet."""

ISO_FORMAT: Final = "%Y-%m-%dT%H:%M:%S.%fZ"
"""How wall-clock (``*_utc``) times are written to CSV: ISO 8601, UTC."""

REP_COLUMNS: Final = (
    ("recording", "str"),
    ("set", "int64"),
    ("set_side", "str"),
    ("rep", "int64"),
    ("start_s", "float64"),
    ("top_start_s", "float64"),
    ("top_end_s", "float64"),
    ("end_s", "float64"),
    ("concentric_s", "float64"),
    ("top_hold_s", "float64"),
    ("eccentric_s", "float64"),
    ("bottom_pause_s", "float64"),
    ("rom_deg", "float64"),
    ("peak_tilt_deg", "float64"),
    ("bottom_deg", "float64"),
    ("top_deg", "float64"),
    ("lift_side", "str"),
    ("confidence", "float64"),
    ("faults", "str"),
)
"""Columns of :func:`reps_frame` and their dtypes (``faults``: codes joined by commas)."""

SET_COLUMNS: Final = (
    ("recording", "str"),
    ("exercise", "str"),
    ("placement", "str"),
    ("set", "int64"),
    ("side", "str"),
    ("start_s", "float64"),
    ("end_s", "float64"),
    ("confidence", "float64"),
    ("tilt_baseline", "str"),
    ("reps", "int64"),
    ("clean_reps", "int64"),
    ("time_under_tension_s", "float64"),
    ("mean_concentric_s", "float64"),
    ("mean_top_hold_s", "float64"),
    ("mean_eccentric_s", "float64"),
    ("mean_rom_deg", "float64"),
    ("max_peak_tilt_deg", "float64"),
    *((f"reps_{code}", "int64") for code in FAULTS),
    *((f"lifts_{side}", "int64") for side in SIDES),
)
"""Columns of :func:`sets_frame` and their dtypes (``reps_<fault>``: reps with that fault;
``lifts_<side>``: leg lifts of that side)."""


def _frame(rows: list[dict[str, Any]], columns: Sequence[tuple[str, str]], utc: bool) -> pd.DataFrame:
    names = [c for c, _ in columns]
    frame = pd.DataFrame(rows, columns=names + (["start_utc", "end_utc"] if utc else []))
    frame = frame.astype({col: (object if dtype == "str" else dtype) for col, dtype in columns})
    if utc:
        for col in ("start_utc", "end_utc"):
            frame[col] = pd.to_datetime(frame[col].astype("float64"), unit="s", utc=True)
    return frame


def _wall_clock(doc: Mapping[str, Any]) -> tuple[float, float] | None:
    """``(started_unix_s, first_sample_t_s)`` of a document whose sidecar states the start time."""
    from imurep.api import FIRST_SAMPLE_KEY

    meta = doc.get("metadata") or {}
    start, first = meta.get("started_unix_s"), meta.get(FIRST_SAMPLE_KEY)
    if isinstance(start, int | float) and isinstance(first, int | float):
        return float(start), float(first)
    return None


def _utc(row: dict[str, Any], clock: tuple[float, float] | None, start: float, end: float) -> None:
    if clock is not None:
        row["start_utc"] = clock[0] + start - clock[1]
        row["end_utc"] = clock[0] + end - clock[1]


def reps_frame(doc: Mapping[str, Any], *, wall_clock: bool | None = None) -> pd.DataFrame:
    """One row per rep of an analysis (columns :data:`REP_COLUMNS`, then ``start_utc, end_utc``).

    Parameters
    ----------
    doc
        The analysis' JSON document (:meth:`imurep.api.Analysis.to_dict`).
    wall_clock
        Add the ``*_utc`` columns (NaT when unknown); None: when the sidecar has ``started_unix_s``.
    """
    clock = _wall_clock(doc)
    rows = []
    for s in doc.get("sets", []):
        for r in s["reps"]:
            row = {k: r.get(k) for k, _ in REP_COLUMNS}
            row.update(recording=doc.get("source"), set=s["index"], set_side=s["side"], rep=r["index"])
            row.update(lift_side=r.get("side"), faults=",".join(r.get("faults", [])))
            _utc(row, clock, r["start_s"], r["end_s"])
            rows.append(row)
    return _frame(rows, REP_COLUMNS, clock is not None if wall_clock is None else wall_clock)


def sets_frame(doc: Mapping[str, Any], *, wall_clock: bool | None = None) -> pd.DataFrame:
    """One row per set of an analysis (columns :data:`SET_COLUMNS`, then ``start_utc, end_utc``);
    ``doc`` and ``wall_clock`` as for :func:`reps_frame`."""
    clock = _wall_clock(doc)
    rows = []
    for s in doc.get("sets", []):
        summary = s["summary"]
        row = {k: summary.get(k, s.get(k)) for k, _ in SET_COLUMNS}
        row.update(
            recording=doc.get("source"),
            exercise=(doc.get("metadata") or {}).get("exercise"),
            placement=doc.get("placement"),
            set=s["index"],
            side=s["side"],
            start_s=s["start_s"],
            end_s=s["end_s"],
            confidence=s.get("confidence"),
            tilt_baseline=s.get("tilt_baseline"),
        )
        row.update({f"reps_{c}": summary.get("fault_counts", {}).get(c, 0) for c in FAULTS})
        row.update({f"lifts_{side}": summary.get("reps_by_side", {}).get(side, 0) for side in SIDES})
        _utc(row, clock, s["start_s"], s["end_s"])
        rows.append(row)
    return _frame(rows, SET_COLUMNS, clock is not None if wall_clock is None else wall_clock)


def concat_frames(docs: Iterable[Mapping[str, Any]], kind: str) -> pd.DataFrame:
    """The ``kind`` (``"reps"`` or ``"sets"``) table of several analyses, in the given order; the
    ``*_utc`` columns are there when any document has a wall clock."""
    docs = list(docs)
    utc = any(_wall_clock(d) is not None for d in docs)
    build = reps_frame if kind == "reps" else sets_frame
    frames = [build(d, wall_clock=utc) for d in docs]
    if not frames:
        return build({}, wall_clock=False)
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


# --- files -----------------------------------------------------------------------------------------


def check_table_path(path: str) -> str:
    """The kind of table file ``path`` names (``"csv"`` or ``"parquet"``), checked before any work.

    Raises
    ------
    SettingsError
        An unknown ending, or Parquet without pyarrow installed.
    """
    suffix = Path(path.split("?")[0]).suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise SettingsError(f"{path}: a table file must end in .csv or .parquet")
    if suffix == ".csv":
        return "csv"
    require_pyarrow("writing Parquet")
    return "parquet"


def require_pyarrow(what: str) -> None:
    """Raise a one-line :class:`SettingsError` when pyarrow is not installed."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise SettingsError(f"{what} needs pyarrow: pip install 'imurep[parquet]'") from None


def write_table(frame: pd.DataFrame, path: str | Path) -> None:
    """Write ``frame`` to ``path`` (a file or any fsspec URL): ``.csv`` as CSV (ISO times, no
    index), ``.parquet``/``.pq`` as Parquet (pyarrow, UTC timestamps)."""
    kind = check_table_path(str(path))
    if kind == "csv":
        frame.to_csv(path, index=False, date_format=ISO_FORMAT)
    else:
        frame.to_parquet(path, index=False, engine="pyarrow")
    logger.info("wrote %d row(s) to %s", len(frame), path)


# --- the training history --------------------------------------------------------------------------


def history_frames(history: History, exercise: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(reps, sets)`` tables of the training history (optionally of one exercise), oldest first.

    Both start with ``session, recorded_utc, exercise, recording, set, side``; the sets table then
    has the columns of :func:`sets_frame` the history keeps, the reps table the rep's phase times
    (s), ``rom_deg``, ``peak_tilt_deg`` and ``faults``.
    """
    sources = {s.id: s.source for s in history.sessions(exercise)}
    set_rows = []
    for row in history.sets(exercise):
        m = row.stats
        set_rows.append(
            {
                "session": row.session_id,
                "recorded_utc": row.recorded_at,
                "exercise": row.exercise,
                "recording": sources.get(row.session_id),
                "set": m.index,
                "side": m.side,
                "reps": m.reps,
                "clean_reps": m.clean_reps,
                "time_under_tension_s": row.time_under_tension_s,
                "mean_concentric_s": m.mean_concentric_s,
                "mean_top_hold_s": m.mean_top_hold_s,
                "mean_eccentric_s": m.mean_eccentric_s,
                "mean_rom_deg": m.mean_rom_deg,
                "max_peak_tilt_deg": m.max_peak_tilt_deg,
                **{f"reps_{c}": m.fault_counts.get(c, 0) for c in FAULTS},
            }
        )
    rep_rows = [{**r, "recording": sources.get(r["session"])} for r in history.rep_rows(exercise)]
    head = ["session", "recorded_utc", "exercise", "recording", "set", "side"]
    rep_cols = [*head, "rep", "concentric_s", "top_hold_s", "eccentric_s", "rom_deg", "peak_tilt_deg"]
    rep_cols.append("faults")
    set_cols = head + [c for c, _ in SET_COLUMNS[9 : -len(SIDES)]]
    reps = pd.DataFrame(rep_rows, columns=rep_cols)
    sets = pd.DataFrame(set_rows, columns=set_cols)
    for frame in (reps, sets):
        frame["recorded_utc"] = pd.to_datetime(frame["recorded_utc"], utc=True)
    return reps, sets
