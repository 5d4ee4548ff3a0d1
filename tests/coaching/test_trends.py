"""Progress over weeks: advice read back from the history, weekly trends, asymmetry and the
progress page, on a simulated multi-week history (issue 7)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from imurep.coaching.advice import advise
from imurep.coaching.exercises import load_catalog
from imurep.coaching.history import History
from imurep.coaching.trends import asymmetry_pct, weekly_asymmetry, weekly_trends
from imurep.model.codes import FAULTS
from imurep.model.results import SessionResult, SetSummary
from imurep.report.progress_page import progress_page, write_progress_page

CATALOG = load_catalog()
SLHT = CATALOG.get(None)
T0 = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)  # a Monday


def _synthetic(result: SessionResult, clean: dict[str, int], reps: int = 13) -> SessionResult:
    """``result`` with each set rebuilt to ``reps`` reps of which ``clean[side]`` are clean."""
    sets = []
    for s in result.sets:
        base = s.reps[0]
        n_clean = clean[s.side or "left"]
        rs = tuple(
            replace(base, index=i + 1, faults=() if i < n_clean else ("short_hold",)) for i in range(reps)
        )
        sets.append(replace(s, reps=rs, summary=SetSummary.from_reps(rs, FAULTS)))
    return replace(result, sets=tuple(sets), metadata={"exercise": SLHT.name})


def test_simulated_multi_week_history_trends_and_advice(sim_result: SessionResult, tmp_path: Path) -> None:
    """Weekly sessions built from a simulated recording with controlled clean-rep counts: the
    advice read back from the database at each step, the weekly trends and the asymmetry."""
    plan = [  # (left clean, right clean) of 13-rep sets; 2 sets per session (one per leg)
        ({"left": 4, "right": 3}, "regress"),
        ({"left": 9, "right": 7}, "stay"),
        ({"left": 12, "right": 10}, "stay"),
        ({"left": 12, "right": 10}, "stay"),
        ({"left": 12, "right": 10}, "stay"),  # plateau
    ]
    with History(tmp_path / "h.sqlite") as h:
        for week, (clean, action) in enumerate(plan):
            result = _synthetic(sim_result, clean)
            h.store(result, key=f"w{week}", recorded_at=T0 + timedelta(weeks=week))
            advice = advise(h.sessions_of(SLHT.name), SLHT, catalog=CATALOG)
            assert advice.action == action, (week, advice.lines())
        assert advice.plateau
        rows = h.sets(SLHT.name)
    trends = weekly_trends(rows, SLHT, CATALOG.rules)
    assert [(t.week.isoformat(), t.leg) for t in trends[:2]] == [
        ("2026-03-02", "left"),
        ("2026-03-02", "right"),
    ]
    assert [t.mean_clean_reps for t in trends if t.leg == "left"] == [4, 9, 12, 12, 12]
    asym = list(weekly_asymmetry(trends).values())
    assert asym[0] == pytest.approx(25.0) and asym[-1] == pytest.approx(100 * 2 / 12)
    # three qualifying sets per leg in the next session: ready to progress
    ready = _synthetic(sim_result, {"left": 13, "right": 13})
    ready = replace(ready, sets=ready.sets + tuple(replace(s, index=s.index + 2) for s in ready.sets) * 1)
    ready = replace(ready, sets=ready.sets + tuple(replace(s, index=s.index + 4) for s in ready.sets[:2]))
    with History(tmp_path / "h.sqlite") as h:
        h.store(ready, key="w5", recorded_at=T0 + timedelta(weeks=5))
        advice = advise(h.sessions_of(SLHT.name), SLHT, catalog=CATALOG)
        rows = h.sets(SLHT.name)
    assert advice.action == "progress" and advice.suggestion == "single_leg_hip_thrust_pause"
    page = progress_page(rows, SLHT, catalog=CATALOG)
    assert (
        page.name == "progress"
        and page.summary.endswith(advice.headline)
        and "Latest session" in page.summary
    )
    gids = {a.get_gid() for ax in page.figure.axes for a in ax.get_children()}
    assert {"clean:left", "clean:right", "tilt-threshold", "asymmetry"} <= gids
    for suffix in (".png", ".pdf", ".html"):
        out = write_progress_page(rows, SLHT, tmp_path / f"progress{suffix}", catalog=CATALOG)
        assert out.stat().st_size > 1000


def test_asymmetry_is_a_percentage_of_the_stronger_leg() -> None:
    assert asymmetry_pct(40.0, 30.0) == pytest.approx(25.0) == asymmetry_pct(30.0, 40.0)
    assert asymmetry_pct(0.0, 0.0) is None and asymmetry_pct(None, 1.0) is None


def test_progress_page_same_day_even_legs_and_targets(sim_result: SessionResult, tmp_path: Path) -> None:
    """Issue 16: two sessions on one day are one point; an even day (0 %) is drawn and labelled;
    the advice names the session it judges; equal squeeze and lowering targets are one named line."""
    with History(tmp_path / "h.sqlite") as h:
        h.store(_synthetic(sim_result, {"left": 8, "right": 8}), key="a", recorded_at=T0)
        h.store(
            _synthetic(sim_result, {"left": 10, "right": 10}), key="b", recorded_at=T0 + timedelta(hours=2)
        )
        h.store(_synthetic(sim_result, {"left": 12, "right": 9}), key="c", recorded_at=T0 + timedelta(days=3))
        rows = h.sets(SLHT.name)
    from imurep.report.stats import session_points

    points = session_points(rows, SLHT)
    assert [(p.when.date().isoformat(), p.leg, p.clean_reps) for p in points] == [
        ("2026-03-02", "left", 9.0),
        ("2026-03-02", "right", 9.0),
        ("2026-03-05", "left", 12.0),
        ("2026-03-05", "right", 9.0),
    ]
    page = progress_page(rows, SLHT, catalog=CATALOG)
    assert page.summary.startswith("Latest session (Thu 5 Mar 2026, #3): ")
    ax_asym = next(ax for ax in page.figure.axes if ax.get_title(loc="left").startswith("Left–right"))
    labels = [t.get_text() for t in ax_asym.texts]
    assert labels == ["0 %", "25 %"]
    (pts,) = [a for a in ax_asym.get_children() if a.get_gid() == "asymmetry-points"]
    assert list(pts.get_ydata()) == [0.0, 25.0]
    ax_tempo = next(ax for ax in page.figure.axes if ax.get_title(loc="left").startswith("Tempo"))
    legend = [t.get_text() for t in ax_tempo.get_legend().get_texts()]
    if SLHT.min_top_hold_s == SLHT.min_eccentric_s:
        assert f"squeeze and down target {SLHT.min_top_hold_s:g} s" in legend
    else:
        assert (
            f"squeeze target {SLHT.min_top_hold_s:g} s" in legend
            and f"down target {SLHT.min_eccentric_s:g} s" in legend
        )
    page.figure.clear()
