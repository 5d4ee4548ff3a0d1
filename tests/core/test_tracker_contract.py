"""The Tracker contract (imurep.core.tracking.base.Tracker), run against every tracker.

The pipeline's per-block signals of a simulated recording are captured once, then replayed into
fresh trackers in different batchings, with and without markers.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import pytest

from imurep.coaching.exercises import get_profile
from imurep.core.pipeline import Pipeline
from imurep.core.settings import AnalysisSettings, resolve
from imurep.core.tracking.base import BlockSignals, Tracker
from imurep.core.tracking.lifts import LiftTracker
from imurep.core.tracking.reps import SetTracker
from imurep.model.events import Event, Marker, RepCompleted, SetDiscarded, SetEnded, SetStarted
from imurep.model.samples import ImuChunk
from imurep.sim import SimSettings, simulate

Factory = Callable[[AnalysisSettings], Tracker]

TRACKERS: dict[str, tuple[Factory, str, str]] = {
    # name: (factory, simulated exercise, profile)
    "reps": (
        lambda s: SetTracker(s.segmentation, s.faults, measure_tilt=True, sides=("left", "right")),
        "hip_thrust",
        "single_leg_hip_thrust",
    ),
    "lifts": (
        lambda s: LiftTracker(s.lifts, s.faults, measure_tilt=True, sides=("left",)),
        "glute_bridge_leg_lift",
        "glute_bridge_leg_lift",
    ),
}


@functools.cache
def _signals(kind: str) -> tuple[AnalysisSettings, tuple[BlockSignals, ...]]:
    """The signals a pipeline hands its tracker over a 2-set simulated recording (one batch per call)."""
    _, exercise, profile = TRACKERS[kind]
    rec = simulate(SimSettings(seed=41, exercise=exercise, n_sets=2, reps_per_set=(4, 6)))
    settings = resolve(profile=get_profile(profile).settings_overrides(), placement="hip")
    pipe = Pipeline(settings)
    captured: list[BlockSignals] = []
    tracker = pipe._tracker  # noqa: SLF001 - capture what the pipeline feeds its tracker
    original = tracker.update

    def spy(signals: BlockSignals) -> list[Event]:
        captured.append(signals)
        return original(signals)

    tracker.update = spy  # type: ignore[method-assign]
    for a in range(0, len(rec.t_s), 500):
        pipe.update(ImuChunk(rec.t_s[a : a + 500], rec.acc_mps2[a : a + 500], rec.gyr_rads[a : a + 500]))
    pipe.finish()
    return settings, tuple(captured)


def _blocks(signals: tuple[BlockSignals, ...]) -> list[BlockSignals]:
    """Every block of the captured signals on its own."""
    out = []
    for sig in signals:
        for a, b in sig.blocks():
            out.append(
                BlockSignals(
                    sig.t_s[a:b],
                    sig.up[a:b],
                    sig.gyr_rads[a:b],
                    sig.acc_hf_mps2[a:b],
                    sig.speed_rads[a:b],
                    np.array([0], dtype=np.intp),
                )
            )
    return out


def _batch(blocks: list[BlockSignals], size: int) -> list[BlockSignals]:
    out = []
    for k in range(0, len(blocks), size):
        part = blocks[k : k + size]
        lengths = [p.t_s.shape[0] for p in part]
        out.append(
            BlockSignals(
                np.concatenate([p.t_s for p in part]),
                np.concatenate([p.up for p in part]),
                np.concatenate([p.gyr_rads for p in part]),
                np.concatenate([p.acc_hf_mps2 for p in part]),
                np.concatenate([p.speed_rads for p in part]),
                np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.intp),
            )
        )
    return out


def _replay(kind: str, batch: int, markers: tuple[Marker, ...] = ()) -> tuple[Tracker, list[Event]]:
    settings, signals = _signals(kind)
    tracker = TRACKERS[kind][0](settings)
    for m in markers:
        tracker.mark(m)
    events: list[Event] = []
    for sig in _batch(_blocks(signals), batch):
        events.extend(tracker.update(sig))
    events.extend(tracker.finish())
    return tracker, events


def _check_event_order(events: list[Event]) -> None:
    open_set: int | None = None
    kept = 0
    for e in events:
        if isinstance(e, SetStarted):
            assert open_set is None
            assert e.set_index == kept + 1  # discarded sets give their index back
            open_set = e.set_index
        elif isinstance(e, RepCompleted):
            assert e.set_index == open_set
        elif isinstance(e, SetDiscarded):
            assert e.set_index == open_set
            open_set = None
        elif isinstance(e, SetEnded):
            assert open_set is not None
            kept += 1
            assert e.result.index == kept
            open_set = None
    assert open_set is None  # finish() closed it


@pytest.mark.parametrize("kind", sorted(TRACKERS))
def test_tracker_implements_the_protocol_and_orders_its_events(kind: str) -> None:
    tracker, events = _replay(kind, batch=1)
    assert isinstance(tracker, Tracker)
    _check_event_order(events)
    ended = [e.result for e in events if isinstance(e, SetEnded)]
    assert ended == tracker.sets and len(ended) == 2
    starts = [r.start_s for s in ended for r in s.reps]
    assert starts == sorted(starts)
    assert tracker.finish() == []  # a second finish returns nothing


@pytest.mark.parametrize("kind", sorted(TRACKERS))
@pytest.mark.parametrize("batch", [3, 40, 10_000])
def test_results_do_not_depend_on_batching(kind: str, batch: int) -> None:
    ref = _replay(kind, batch=1)[0].sets
    got = _replay(kind, batch=batch)[0].sets
    assert [s.to_dict() for s in got] == [s.to_dict() for s in ref]


@pytest.mark.parametrize("kind", sorted(TRACKERS))
def test_a_new_set_marker_splits_the_first_set(kind: str) -> None:
    ref = _replay(kind, batch=5)[0].sets
    first = ref[0].reps
    k = len(first) // 2  # both halves are sets (at least 2 reps or 4 lifts)
    t_mid = 0.5 * (first[k - 1].end_s + first[k].start_s)
    tracker, events = _replay(kind, batch=5, markers=(Marker(t_mid, "side", "right"),))
    _check_event_order(events)
    got = tracker.sets
    assert got[0].end_s <= t_mid < got[1].start_s
    assert sum(len(s.reps) for s in got) == sum(len(s.reps) for s in ref)
    assert got[1].reps[0].start_s == pytest.approx(first[k].start_s, abs=0.3)


@pytest.mark.parametrize("kind", sorted(TRACKERS))
def test_memory_is_bounded_by_the_retention_window(kind: str) -> None:
    settings, signals = _signals(kind)
    tracker = TRACKERS[kind][0](settings)
    longest = 0
    for sig in _batch(_blocks(signals), 20):
        tracker.update(sig)
        longest = max(longest, len(tracker.buf))  # type: ignore[attr-defined]
    rate = 1.0 / float(np.median(np.diff(signals[0].t_s)))
    # retention window (40 s) plus the longest open set of this recording, never the whole stream
    total = sum(s.t_s.shape[0] for s in signals)
    assert longest < total
    assert longest <= rate * (40.0 + 120.0)
