"""The cycle segmenter on synthetic angle traces: reps with pauses end at the band, touch-and-go
reps are separated at the turning point, a pulse at the top is part of its rep, a posture change
is no rep, and the result never depends on how the samples are batched."""

from __future__ import annotations

import numpy as np
import pytest

from imurep.core.tracking.cycles import AWAY, REST, Cycle, CycleSegmenter, CycleSettings

RATE = 100.0


def _trace(segments: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Angle (degrees), piecewise smooth: (duration s, end angle deg) with cosine ramps.

    Returns t (n,), angle (n,), rate (n,) deg/s.
    """
    t_parts, a_parts = [], []
    t0, a0 = 0.0, 0.0
    for dur, a1 in segments:
        tt = np.arange(0.0, dur, 1.0 / RATE)
        a_parts.append(a0 + (a1 - a0) * 0.5 * (1 - np.cos(np.pi * tt / dur)))
        t_parts.append(t0 + tt)
        t0, a0 = t0 + dur, a1
    t = np.concatenate(t_parts)
    x = np.concatenate(a_parts)
    return t, x, np.gradient(x, t)


def _run(
    t: np.ndarray, x: np.ndarray, rate: np.ndarray, block: int = 5
) -> tuple[CycleSegmenter, list[Cycle]]:
    seg = CycleSegmenter(CycleSettings(), open_deg=6.0)
    seg.start_rest(float(x[0]), 0)
    quiet = np.abs(rate) < 4.0
    out: list[Cycle] = []
    k = 1
    while k < t.size:
        b = min(k + block, t.size)
        cycles, k = seg.update(k, x[k:b], t[k:b], quiet[k:b], rate=rate[k:b], stop_at_cycle=True)
        out.extend(cycles)
    return seg, out


def test_a_rep_with_pauses_ends_when_the_movement_back_stops() -> None:
    t, x, r = _trace([(2.0, 0.0), (1.0, 40.0), (1.0, 40.0), (1.5, 0.0), (2.0, 0.0)])
    seg, cycles = _run(t, x, r)
    assert [c.kind for c in cycles] == ["end"]
    c = cycles[0]
    assert c.rise_deg == pytest.approx(40.0, abs=0.1)
    assert 3.0 <= t[c.i_peak] <= 4.0  # within the hold at the top
    assert 5.3 <= t[c.i_decide] <= 5.6  # back in the band and (nearly) stopped
    assert seg.mode == REST


def test_touch_and_go_reps_are_separated_at_the_turning_point() -> None:
    # three reps without any pause; the rest side is not reached exactly (30 % of the range left)
    t, x, r = _trace(
        [(1.0, 0.0), (0.8, 40.0), (0.8, 12.0), (0.8, 40.0), (0.8, 10.0), (0.8, 40.0), (1.0, 0.0)]
    )
    _, cycles = _run(t, x, r)
    # the first turn (at 12 deg) is above the band: the rise after it decides; the second (at 10
    # deg) is within the second rep's band, and its movement back stops there
    assert [c.kind for c in cycles] == ["valley", "end", "end"]
    assert t[cycles[0].i_low] == pytest.approx(2.6, abs=0.02)  # the turning point
    assert t[cycles[1].i_decide] == pytest.approx(4.2, abs=0.03)
    assert cycles[1].i_base == cycles[0].i_low  # the next rep starts at that turn


def test_a_pulse_at_the_top_is_part_of_its_rep_and_a_half_rep_is_a_rep() -> None:
    # a dip of 30 % at the top (a pulse), then a rep to 50 % of the first one
    t, x, r = _trace(
        [
            (1.0, 0.0),
            (1.0, 40.0),
            (0.4, 28.0),
            (0.4, 40.0),
            (1.2, 0.0),
            (1.0, 0.0),
            (0.8, 20.0),
            (0.8, 0.0),
            (1.0, 0.0),
        ]
    )
    _, cycles = _run(t, x, r)
    assert len(cycles) == 2
    assert cycles[0].rise_deg == pytest.approx(40.0, abs=0.1)
    assert cycles[1].rise_deg == pytest.approx(20.0, abs=0.1)


def test_fast_and_slow_reps_alike() -> None:
    # lifting in 0.2 s or 4 s, lowering in 0.3 s or 6 s: no tempo gate
    t, x, r = _trace(
        [(1.0, 0.0), (0.2, 30.0), (0.3, 0.0), (1.0, 0.0), (4.0, 30.0), (5.0, 30.0), (6.0, 0.0), (1.0, 0.0)]
    )
    _, cycles = _run(t, x, r)
    assert [round(c.rise_deg) for c in cycles] == [30, 30]


def test_a_posture_change_that_never_comes_back_is_no_cycle() -> None:
    t, x, r = _trace([(1.0, 0.0), (1.5, 60.0), (25.0, 60.0)])
    seg, cycles = _run(t, x, r)
    assert cycles == []
    assert seg.mode == REST  # timed out: rest at the new posture


def test_settled_higher_ends_the_rep_where_it_stopped() -> None:
    t, x, r = _trace([(1.0, 0.0), (1.0, 40.0), (1.0, 10.0), (3.0, 10.0)])
    _, cycles = _run(t, x, r)
    assert [c.kind for c in cycles] == ["settled"]
    assert t[cycles[0].i_low] == pytest.approx(3.0, abs=0.05)


@pytest.mark.parametrize("block", [1, 7, 50, 10_000])
def test_cycles_do_not_depend_on_batching(block: int) -> None:
    t, x, r = _trace(
        [
            (1.0, 0.0),
            (0.8, 40.0),
            (0.8, 12.0),
            (0.8, 40.0),
            (1.0, 0.0),
            (1.0, 0.0),
            (2.0, 35.0),
            (2.0, 0.0),
            (1, 0),
        ]
    )
    ref = [(c.kind, c.i_base, c.i_peak, c.i_low, c.i_decide) for c in _run(t, x, r, block=3)[1]]
    assert len(ref) == 3
    got = [(c.kind, c.i_base, c.i_peak, c.i_low, c.i_decide) for c in _run(t, x, r, block=block)[1]]
    assert got == ref


def test_flush_ends_a_rep_that_came_back_at_the_end_of_the_stream() -> None:
    t, x, r = _trace([(1.0, 0.0), (1.0, 40.0), (0.6, 15.0)])
    seg, cycles = _run(t, x, r)
    assert cycles == [] and seg.mode not in (REST, AWAY)
    last = seg.flush(t.size - 1)
    assert last is not None and last.kind == "settled" and last.rise_deg == pytest.approx(40.0, abs=0.1)


@pytest.mark.parametrize("seed", range(6))
def test_short_calls_scanned_sample_by_sample_decide_as_the_array_scan(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plain-Python scan of short calls and the numpy scan take every decision at the same
    sample with the same state: random rep-like traces (pauses, touch-and-go, pulses, posture
    changes, noise) in random batch sizes, with and without a rate."""
    rng = np.random.default_rng(seed)
    segs = [
        (float(rng.uniform(0.1, 3.0)), float(rng.choice([0.0, 0.0, 40.0, 25.0, 12.0]))) for _ in range(40)
    ]
    t, x, r = _trace(segs)
    x = x + rng.normal(scale=0.3, size=x.size)
    r = r + rng.normal(scale=1.0, size=r.size)
    quiet = np.abs(r) < 4.0
    cuts = np.cumsum(rng.integers(1, 60, size=t.size))
    cuts = cuts[cuts < t.size]
    settings = CycleSettings(settle_s=float(rng.uniform(0.5, 3.0)), max_rep_s=float(rng.uniform(2.0, 8.0)))

    def run(small_n: int, with_rate: bool) -> tuple[list[Cycle], list[object]]:
        monkeypatch.setattr(CycleSegmenter, "small_n", small_n)
        seg = CycleSegmenter(settings, open_deg=5.0)
        seg.start_rest(float(x[0]), 0)
        out: list[Cycle] = []
        states: list[object] = []
        k = 1
        for b in [*cuts.tolist(), t.size]:
            while k < b:
                rate = r[k:b] if with_rate else None
                cycles, k = seg.update(k, x[k:b], t[k:b], quiet[k:b], rate=rate, stop_at_cycle=True)
                out.extend(cycles)
                states.append(tuple(vars(seg).items()))
                if cycles:
                    seg.open_deg = max(0.2 * cycles[-1].rise_deg, 0.5)
        return out, states

    for with_rate in (True, False):
        small = run(10**9, with_rate)
        assert small[0], "the trace must hold cycles"
        assert repr(small) == repr(run(0, with_rate))
