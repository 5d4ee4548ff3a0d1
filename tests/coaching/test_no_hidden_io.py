"""The coaching layer does no hidden I/O: given a catalog, it loads no profiles file and reads no file.

The catalog here is built by :func:`parse_catalog` from a dict (not the packaged file), with other
rules and profiles than the packaged ones, so the results also show that the catalog passed in is
the one used.
"""

from __future__ import annotations

import builtins
import importlib.resources
import io
import pathlib
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import pytest

from imurep.coaching import advice, cues, exercises, history, trends
from imurep.coaching.advice import assess_set, coach, coaching_dict, leg_statuses, over_extended_reps
from imurep.coaching.cues import cue_lines, rep_cues, set_cues
from imurep.coaching.exercises import Catalog, parse_catalog
from imurep.coaching.history import History, SetRow
from imurep.coaching.trends import weekly_asymmetry, weekly_trends
from imurep.core.settings import AnalysisSettings
from imurep.model.codes import FAULTS, OVER_EXTENSION
from imurep.model.results import DataQuality, RepResult, SessionResult, SetResult, SetSummary

RULES = {
    "sets_required": 1,
    "max_faulty_reps": 0,
    "struggle_min_clean_reps": 2,
    "struggle_tilt_fraction": 0.5,
    "struggle_rushed_fraction": 0.8,
    "struggle_sets_fraction": 0.5,
    "struggle_sessions": 2,
    "plateau_sessions": 3,
    "plateau_min_gain": 1.0,
    "over_extension_deg": 3.0,  # packaged: 8 deg
}
OVER_CUE = "test cue: stop at the line"


def _n(value: object) -> dict[str, object]:
    return {"value": value, "reason": "a test value"}


def _exercise(title: str, **links: str) -> dict[str, object]:
    return {
        "title": title,
        "legs": 1,
        "kind": "reps",
        "faults": list(FAULTS),
        "rep_range": _n([4, 6]),
        "min_top_hold_s": _n(1.0),
        "min_eccentric_s": _n(1.0),
        "tilt_threshold_deg": _n(5.0),
        "rom_deg": _n([30.0, 55.0]),
        "cues": {OVER_EXTENSION: OVER_CUE},
        **links,
    }


def _catalog() -> Catalog:
    doc: dict[str, Any] = {
        "schema": exercises.EXERCISES_SCHEMA,
        "default": "test_thrust",
        "progression": {k: _n(v) for k, v in RULES.items()},
        "exercise": {
            "test_thrust": _exercise("Test thrust", harder="test_thrust_plus"),
            "test_thrust_plus": _exercise("Test thrust plus", easier="test_thrust"),
        },
    }
    return parse_catalog(doc, "test dict")


def _set(index: int, side: str) -> SetResult:
    """5 clean reps; rep 4 tops out 4 deg above the others (over-extended at 3 deg, not at 8)."""
    reps = tuple(
        RepResult(i, 10.0 * i, 10.0 * i + 1, 10.0 * i + 2.2, 10.0 * i + 4, 40.0, 1.0, (), 1.0, 0.0, top)
        for i, top in enumerate((40.0, 40.5, 39.5, 44.0, 40.0), start=1)
    )
    return SetResult(index, side, 0.0, 100.0, reps, SetSummary.from_reps(reps, FAULTS))


class HiddenIO(AssertionError):
    """Raised by the guard on any attempt to read a file or load the catalog."""


def _refuse(*args: object, **kwargs: object) -> NoReturn:
    raise HiddenIO(f"hidden I/O: {args!r}")


@contextmanager
def _no_io(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any file opened, resource read, database connected or catalog loaded raises HiddenIO."""
    with monkeypatch.context() as m:
        for target, name in [
            (builtins, "open"),
            (io, "open"),
            (pathlib.Path, "open"),
            (pathlib.Path, "read_text"),
            (pathlib.Path, "read_bytes"),
            (importlib.resources, "files"),
            (sqlite3, "connect"),
        ]:
            m.setattr(target, name, _refuse)
        for module in (exercises, cues, advice, history, trends):
            for name in ("load_catalog", "get_profile", "_packaged_catalog"):
                if hasattr(module, name):
                    m.setattr(module, name, _refuse)
        yield


def test_the_coaching_layer_loads_nothing_itself() -> None:
    for module in (cues, advice, history, trends):
        assert not hasattr(module, "load_catalog") and not hasattr(module, "get_profile"), module


def test_coaching_runs_on_a_catalog_given_without_any_file_io(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    catalog = _catalog()
    profile = catalog.get(None)
    result = SessionResult(
        "test.csv",
        "hip",
        100.0,
        AnalysisSettings(),
        (_set(1, "left"), _set(2, "right")),
        DataQuality(1000, 100.0, 100.0, 0, 0.0, 0.5),
        {"exercise": profile.name},
    )
    when = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
    db = History(tmp_path / "h.sqlite")  # opening the database is History's job, not a hidden one
    try:
        with _no_io(monkeypatch):
            with pytest.raises(HiddenIO):  # the guard is armed
                exercises.load_catalog()
            with pytest.raises(HiddenIO):
                (tmp_path / "x.txt").read_text()
            with pytest.raises(HiddenIO):
                open(tmp_path / "x.txt", "w")  # noqa: SIM115

            coaching = coach(result, profile, catalog=catalog)
            doc = coaching_dict(result, profile, catalog=catalog)
            s = result.sets[0]
            over = over_extended_reps(s, catalog.rules.over_extension_deg)
            lines = cue_lines(s, profile, over_extended=over)
            fault_cues = set_cues(s, profile, over_extended=over)
            one_rep = rep_cues(("hip_tilt", OVER_EXTENSION), profile)
            stats = [advice.SetStats.from_set(x) for x in result.sets]
            assessed = assess_set(stats[0], profile, catalog.rules)
            legs = leg_statuses(stats, profile, catalog.rules)
            stored = db.store(result, key="k1")
            rows = db.sets(profile.name)
            sessions = db.sessions_of(profile.name)
            rows = [SetRow(r.session_id, when, r.exercise, r.stats, r.time_under_tension_s) for r in rows]
            weeks = weekly_trends(rows, profile, catalog.rules)
            asym = weekly_asymmetry(weeks)
    finally:
        db.close()

    # the catalog given is the one used: its over-extension threshold, cue wording and ladder
    assert over == (4,) and coaching.sets[0].over_extended_reps == (4,)
    assert lines == [f"over-extension (rep 4): {OVER_CUE}"] == [c.text for c in fault_cues]
    assert one_rep == {"hip_tilt": cues.FAULT_CUES["hip_tilt"], OVER_EXTENSION: OVER_CUE}
    assert assessed.qualifies and set(legs) == {"left", "right"} and all(st.ready for st in legs.values())
    assert coaching.advice.action == "progress" and coaching.advice.suggestion == "test_thrust_plus"
    assert "move on to the test thrust plus" in coaching.advice.headline
    assert doc == coaching.to_dict()
    assert stored.n_sets == 2 and not stored.replaced and len(sessions) == 1
    assert [(w.leg, w.sets, w.qualifying_sets) for w in weeks] == [("left", 1, 1), ("right", 1, 1)]
    assert list(asym.values()) == [0.0]
