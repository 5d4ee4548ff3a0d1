"""Training history: every analysed or live-recorded set, in a local SQLite database (no server).

Location: ``--db PATH``, else the ``IMUREP_DB`` environment variable, else
``$XDG_DATA_HOME/imurep/history.sqlite`` (``~/.local/share/imurep/history.sqlite``).

A recording is identified by the SHA-256 of its content (:func:`content_hash`): storing the same
recording again replaces its earlier entry (e.g. re-analysed with another exercise), it is never
duplicated.  The schema is versioned with ``PRAGMA user_version`` and migrated step by step by
:data:`MIGRATIONS` when a database is opened.

Storage only: the trends over weeks are in :mod:`imurep.coaching.trends`, the advice in
:mod:`imurep.coaching.advice`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from imurep.coaching.advice import SetStats
from imurep.model.errors import DataValidationError, HistoryError
from imurep.model.results import SessionResult

logger = logging.getLogger(__name__)

DB_ENV = "IMUREP_DB"
"""Environment variable naming the history database (overrides the default location)."""


def default_db_path() -> Path:
    """``$IMUREP_DB``, else ``$XDG_DATA_HOME/imurep/history.sqlite``, else ``~/.local/share/imurep/…``."""
    env = os.environ.get(DB_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "imurep" / "history.sqlite"


def content_hash(path: str | Path) -> str:
    """SHA-256 (hex) of a recording's content: the file's bytes, or every file of a folder export
    (relative names and bytes, in sorted order)."""
    p = Path(path)
    h = hashlib.sha256()
    files = [p] if p.is_file() else sorted(f for f in p.rglob("*") if f.is_file())
    for f in files:
        if p.is_dir():
            h.update(str(f.relative_to(p)).encode() + b"\0")
        with f.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def result_hash(result: SessionResult) -> str:
    """A content key for a result without a file: its source, quality figures and rep times."""
    key = {
        "source": result.source,
        "quality": result.quality.to_dict(),
        "reps": [[round(r.start_s, 4), round(r.end_s, 4)] for s in result.sets for r in s.reps],
    }
    return "result:" + hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


# --- schema and migrations -------------------------------------------------------------------------


def _v1(db: sqlite3.Connection) -> None:
    db.executescript(
        """
        CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            content_hash TEXT NOT NULL UNIQUE,
            source TEXT NOT NULL,
            recorded_at TEXT NOT NULL,      -- ISO 8601, UTC
            stored_at TEXT NOT NULL,        -- ISO 8601, UTC
            exercise TEXT NOT NULL,
            placement TEXT NOT NULL,
            metadata TEXT NOT NULL DEFAULT '{}'
        );
        CREATE TABLE sets (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            set_index INTEGER NOT NULL,
            side TEXT,
            reps INTEGER NOT NULL,
            clean_reps INTEGER NOT NULL,
            time_under_tension_s REAL NOT NULL,
            mean_concentric_s REAL,
            mean_top_hold_s REAL,
            mean_eccentric_s REAL,
            mean_rom_deg REAL,
            max_peak_tilt_deg REAL,
            fault_counts TEXT NOT NULL DEFAULT '{}'
        );
        """
    )


def _v2(db: sqlite3.Connection) -> None:
    """v2: how a session was recorded (``origin``), per-rep rows, indexes for the progress queries."""
    db.executescript(
        """
        ALTER TABLE sessions ADD COLUMN origin TEXT NOT NULL DEFAULT 'analyze';
        CREATE TABLE reps (
            id INTEGER PRIMARY KEY,
            set_id INTEGER NOT NULL REFERENCES sets(id) ON DELETE CASCADE,
            rep_index INTEGER NOT NULL,
            concentric_s REAL NOT NULL,
            top_hold_s REAL NOT NULL,
            eccentric_s REAL NOT NULL,
            rom_deg REAL NOT NULL,
            peak_tilt_deg REAL,
            faults TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX sets_session ON sets(session_id);
        CREATE INDEX reps_set ON reps(set_id);
        CREATE INDEX sessions_exercise ON sessions(exercise, recorded_at);
        """
    )


MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _v1, 2: _v2}
"""Migration to each schema version from the one before (version 1 creates the tables)."""
SCHEMA_VERSION = max(MIGRATIONS)


def migrate(db: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring ``db`` to schema version ``target``, one transaction per step; returns the old version.

    Raises
    ------
    DataValidationError
        The database is newer than this imurep knows.
    """
    (current,) = db.execute("PRAGMA user_version").fetchone()
    if current > SCHEMA_VERSION:
        raise DataValidationError(
            f"history database schema version {current} is newer than this imurep supports "
            f"({SCHEMA_VERSION}); upgrade imurep or use another --db"
        )
    for version in range(current + 1, target + 1):
        logger.info("migrating the history database to version %d", version)
        with db:
            MIGRATIONS[version](db)
            db.execute(f"PRAGMA user_version = {version}")
    return int(current)


_TABLES: dict[str, tuple[str, ...]] = {
    "sessions": ("id", "content_hash", "source", "recorded_at", "stored_at", "exercise", "placement",
                 "metadata", "origin"),
    "sets": ("id", "session_id", "set_index", "side", "reps", "clean_reps", "time_under_tension_s",
             "mean_concentric_s", "mean_top_hold_s", "mean_eccentric_s", "mean_rom_deg",
             "max_peak_tilt_deg", "fault_counts"),
    "reps": ("id", "set_id", "rep_index", "concentric_s", "top_hold_s", "eccentric_s", "rom_deg",
             "peak_tilt_deg", "faults"),
}  # fmt: skip
"""The columns every table of the current schema must have (a foreign database is refused)."""


def _check_schema(db: sqlite3.Connection) -> None:
    for table, columns in _TABLES.items():
        have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        missing = [c for c in columns if c not in have]
        if missing:
            what = f"has no table {table!r}" if not have else f"table {table!r} lacks {', '.join(missing)}"
            raise HistoryError(f"is not an imurep training history ({what})")


def _db_problem(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    low = text.lower()
    if "readonly" in low or "read-only" in low:
        return "the file is read-only; make it writable or use another --db"
    if "malformed" in low or "not a database" in low or "encrypted" in low:
        return f"the file is damaged or not a SQLite database ({text}); move it away or use another --db"
    if "unable to open" in low:
        return f"cannot open it ({text}); check that it is a file you may write, or use another --db"
    if "locked" in low or "busy" in low:
        return f"it is in use by another program ({text}); try again"
    return f"{text}; move it away or use another --db"


def _when(text: object) -> datetime:
    try:
        return datetime.fromisoformat(str(text))
    except ValueError:
        raise HistoryError(f"holds a damaged date {str(text)[:40]!r}; move the file away") from None


def _counts(text: object) -> dict[str, int]:
    try:
        value = json.loads(str(text))
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, dict):
        raise HistoryError(f"holds damaged fault counts {str(text)[:40]!r}; move the file away")
    return value


# --- rows ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionRow:
    """One stored session (a recording of one exercise)."""

    id: int
    recorded_at: datetime
    exercise: str
    source: str
    placement: str
    origin: str
    n_sets: int
    reps: int
    clean_reps: int


@dataclass(frozen=True)
class SetRow:
    """One stored set with the date and exercise of its session."""

    session_id: int
    recorded_at: datetime
    exercise: str
    stats: SetStats
    time_under_tension_s: float


@dataclass(frozen=True)
class StoreOutcome:
    """What :meth:`History.store` did."""

    session_id: int
    replaced: bool
    n_sets: int


def _iso(t: datetime) -> str:
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.astimezone(UTC).isoformat(timespec="seconds")


def recorded_at_of(result: SessionResult, path: str | Path | None = None) -> datetime:
    """When a recording was made: the sidecar's ``started_unix_s`` / ``recorded_at``, else the file's
    modification time, else now (UTC)."""
    meta = result.metadata
    if isinstance(meta.get("started_unix_s"), int | float):
        return datetime.fromtimestamp(float(meta["started_unix_s"]), UTC)
    if isinstance(meta.get("recorded_at"), str):
        try:
            t = datetime.fromisoformat(meta["recorded_at"])
            return t if t.tzinfo else t.replace(tzinfo=UTC)
        except ValueError:
            logger.warning("sidecar recorded_at %r is not an ISO date; ignored", meta["recorded_at"])
    if path is not None and Path(path).exists():
        return datetime.fromtimestamp(Path(path).stat().st_mtime, UTC)
    return datetime.now(UTC)


class History:
    """The training-history database.

    Parameters
    ----------
    path
        The SQLite file (created with its folder if missing); None: :func:`default_db_path`.

    Raises
    ------
    HistoryError
        The file cannot be opened, read or written as a training history (a folder, read-only,
        damaged, another program's database); raised by every method, the message names the
        file and what is wrong.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        if self.path.is_dir():
            raise HistoryError(f"{self.path}: the training history is a folder, not a file; use another --db")
        self.db: sqlite3.Connection | None = None
        with self._guard("open"):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path)
            self.db.execute("PRAGMA foreign_keys = ON")
            migrate(self.db)
            _check_schema(self.db)

    @contextlib.contextmanager
    def _guard(self, doing: str) -> Iterator[None]:
        """Turn any database or file error into a :class:`HistoryError` naming the file."""
        try:
            yield
        except HistoryError as exc:
            self.close()
            raise HistoryError(f"{self.path}: {exc}") from None
        except DataValidationError as exc:
            self.close()
            raise HistoryError(f"{self.path}: {exc}") from None
        except (sqlite3.Error, OSError) as exc:
            self.close()
            detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise HistoryError(
                f"{self.path}: cannot {doing} the history database: {_db_problem(detail)}"  # type: ignore[arg-type]
            ) from None

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (idempotent)."""
        if self.db is not None:
            with contextlib.suppress(sqlite3.Error):
                self.db.close()
            self.db = None

    @property
    def _db(self) -> sqlite3.Connection:
        if self.db is None:
            raise HistoryError(f"{self.path}: the training history is closed")
        return self.db

    @property
    def version(self) -> int:
        """Schema version of the open database."""
        with self._guard("read"):
            return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def store(
        self,
        result: SessionResult,
        *,
        key: str | None = None,
        recorded_at: datetime | None = None,
        exercise: str | None = None,
        origin: str = "analyze",
    ) -> StoreOutcome:
        """Store the sets of ``result``; an earlier entry with the same ``key`` is replaced.

        Parameters
        ----------
        result
            The analysis.
        key
            Content hash of the recording (:func:`content_hash`); None: :func:`result_hash`.
        recorded_at
            When it was recorded (default: :func:`recorded_at_of`).
        exercise
            Profile name (default: ``result.metadata["exercise"]``).
        origin
            ``"analyze"`` or ``"live"``.

        Raises
        ------
        DataValidationError
            No exercise given and none in ``result.metadata``.
        """
        exercise = exercise or result.metadata.get("exercise")
        if not isinstance(exercise, str) or not exercise:
            raise DataValidationError(
                f"{result.source}: no exercise to store the sets under (give exercise or metadata)"
            )
        key = key or result_hash(result)
        when = recorded_at or recorded_at_of(result)
        meta = json.dumps(result.metadata, default=str, allow_nan=False)
        with self._guard("store the session in"), self._db as db:
            cur = db.execute("DELETE FROM sessions WHERE content_hash = ?", (key,))
            replaced = cur.rowcount > 0
            cur = db.execute(
                "INSERT INTO sessions (content_hash, source, recorded_at, stored_at, exercise, placement,"
                " metadata, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    result.source,
                    _iso(when),
                    _iso(datetime.now(UTC)),
                    exercise,
                    result.placement,
                    meta,
                    origin,
                ),
            )
            session_id = int(cur.lastrowid or 0)
            for s in result.sets:
                m = s.summary
                cur = db.execute(
                    "INSERT INTO sets (session_id, set_index, side, reps, clean_reps, time_under_tension_s,"
                    " mean_concentric_s, mean_top_hold_s, mean_eccentric_s, mean_rom_deg, max_peak_tilt_deg,"
                    " fault_counts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        session_id, s.index, s.side, m.reps, m.clean_reps, m.time_under_tension_s,
                        m.mean_concentric_s, m.mean_top_hold_s, m.mean_eccentric_s, m.mean_rom_deg,
                        m.max_peak_tilt_deg, json.dumps(m.fault_counts),
                    ),
                )  # fmt: skip
                set_id = cur.lastrowid
                db.executemany(
                    "INSERT INTO reps (set_id, rep_index, concentric_s, top_hold_s, eccentric_s, rom_deg,"
                    " peak_tilt_deg, faults) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (set_id, r.index, r.concentric_s, r.top_hold_s, r.eccentric_s, r.rom_deg,
                         r.peak_tilt_deg, ",".join(r.faults))
                        for r in s.reps
                    ],
                )  # fmt: skip
        logger.info("stored %d set(s) of %s (%s)", len(result.sets), result.source, exercise)
        return StoreOutcome(session_id, replaced, len(result.sets))

    def sessions(self, exercise: str | None = None) -> list[SessionRow]:
        """Stored sessions, oldest first (optionally of one exercise)."""
        sql = (
            "SELECT s.id, s.recorded_at, s.exercise, s.source, s.placement, s.origin, COUNT(t.id),"
            " COALESCE(SUM(t.reps), 0), COALESCE(SUM(t.clean_reps), 0)"
            " FROM sessions s LEFT JOIN sets t ON t.session_id = s.id"
        )
        args: tuple[str, ...] = ()
        if exercise:
            sql += " WHERE s.exercise = ?"
            args = (exercise,)
        sql += " GROUP BY s.id ORDER BY s.recorded_at, s.id"
        with self._guard("read"):
            return [
                SessionRow(r[0], _when(r[1]), r[2], r[3], r[4], r[5], r[6], r[7], r[8])
                for r in self._db.execute(sql, args)
            ]

    def sets(self, exercise: str | None = None, side: str | None = None) -> list[SetRow]:
        """Stored sets, oldest session first (optionally of one exercise and/or one side)."""
        sql = (
            "SELECT s.id, s.recorded_at, s.exercise, t.set_index, t.side, t.reps, t.clean_reps,"
            " t.fault_counts, t.mean_concentric_s, t.mean_top_hold_s, t.mean_eccentric_s, t.mean_rom_deg,"
            " t.max_peak_tilt_deg, t.time_under_tension_s FROM sets t JOIN sessions s ON t.session_id = s.id"
        )
        where: list[str] = []
        args: list[str] = []
        if exercise:
            where.append("s.exercise = ?")
            args.append(exercise)
        if side:
            where.append("t.side = ?")
            args.append(side)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY s.recorded_at, s.id, t.set_index"
        out = []
        with self._guard("read"):
            for r in self._db.execute(sql, args):
                stats = SetStats(
                    index=r[3], side=r[4], reps=r[5], clean_reps=r[6], fault_counts=_counts(r[7]),
                    mean_concentric_s=r[8], mean_top_hold_s=r[9], mean_eccentric_s=r[10],
                    mean_rom_deg=r[11], max_peak_tilt_deg=r[12],
                )  # fmt: skip
                out.append(SetRow(r[0], _when(r[1]), r[2], stats, r[13]))
        return out

    def rep_rows(self, exercise: str | None = None) -> list[dict[str, Any]]:
        """Stored reps, oldest session first (optionally of one exercise): ``session, recorded_utc
        (datetime), exercise, set, side, rep, concentric_s, top_hold_s, eccentric_s, rom_deg,
        peak_tilt_deg, faults`` (codes joined by commas)."""
        sql = (
            "SELECT s.id, s.recorded_at, s.exercise, t.set_index, t.side, r.rep_index, r.concentric_s,"
            " r.top_hold_s, r.eccentric_s, r.rom_deg, r.peak_tilt_deg, r.faults FROM reps r"
            " JOIN sets t ON r.set_id = t.id JOIN sessions s ON t.session_id = s.id"
        )
        args: tuple[str, ...] = ()
        if exercise:
            sql += " WHERE s.exercise = ?"
            args = (exercise,)
        sql += " ORDER BY s.recorded_at, s.id, t.set_index, r.rep_index"
        keys = ("session", "recorded_utc", "exercise", "set", "side", "rep", "concentric_s", "top_hold_s",
                "eccentric_s", "rom_deg", "peak_tilt_deg", "faults")  # fmt: skip
        rows = [dict(zip(keys, r, strict=True)) for r in self._db.execute(sql, args)]
        for row in rows:
            row["recorded_utc"] = datetime.fromisoformat(row["recorded_utc"])
        return rows

    def sessions_of(self, exercise: str) -> list[list[SetStats]]:
        """The sets of each session of ``exercise``, oldest session first (input to coaching.advise)."""
        grouped: dict[int, list[SetStats]] = {}
        for row in self.sets(exercise):
            grouped.setdefault(row.session_id, []).append(row.stats)
        return list(grouped.values())
