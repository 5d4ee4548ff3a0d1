"""The squeeze countdown at the top of a rep (issue 16, live): a real live session on simulated
recordings, its countdowns against the tops the tracker reports, and the bench screen showing it."""

from __future__ import annotations

import io

import pytest

from imurep.coaching.exercises import get_profile
from imurep.core.settings import AnalysisSettings, resolve
from imurep.live.screen import big_text
from imurep.live.session import LiveSession
from imurep.live.views import PlainView, RichView
from imurep.model.results import RepResult
from imurep.model.samples import ImuChunk
from imurep.sim import SimSettings, simulate


class _Recorded(PlainView):
    """The plain view, also noting when (recording time) each squeeze starts and ends."""

    def __init__(self) -> None:
        super().__init__(io.StringIO())
        self.session: LiveSession | None = None
        self.calls: list[tuple[float, float | None]] = []

    def squeeze(self, target_s: float | None) -> None:
        assert self.session is not None
        self.calls.append((self.session.pipeline.t_last_s, target_s))


def _run(placement: str, seed: int, step: int) -> tuple[LiveSession, _Recorded]:
    rec = simulate(SimSettings(seed=seed, n_sets=2, placement=placement))
    view = _Recorded()
    session = LiveSession(AnalysisSettings(placement=placement, sides=("left", "right")), view)
    view.session = session
    for a in range(0, rec.t_s.size, step):
        session.on_chunk(
            ImuChunk(rec.t_s[a : a + step], rec.acc_mps2[a : a + step], rec.gyr_rads[a : a + step])
        )
    session.finish()
    return session, view


@pytest.mark.parametrize(("placement", "seed", "step"), [("hip", 41, 26), ("thigh", 7, 5)])
def test_countdown_starts_at_the_top_the_tracker_reports(placement: str, seed: int, step: int) -> None:
    session, view = _run(placement, seed, step)
    starts = [t for t, target in view.calls if target is not None]
    # starts and ends alternate, every countdown ends, and it counts the exercise's squeeze
    kinds = ["start" if target is not None else "end" for _, target in view.calls]
    assert kinds == ["start", "end"] * len(starts)
    assert {target for _, target in view.calls if target is not None} == {1.0}
    reps = [r for s in session.pipeline.sets for r in s.reps]
    # the first rep of a set teaches the axis; a partial rep does not reach the top
    full = [r for r in reps if r.index > 1 and "partial_rom" not in r.faults]
    assert len(full) >= 10
    # at most one countdown per rep; most full reps get one, shown within the chunk's length
    # (+ 0.1 s) of the tracker's start of the squeeze (the view is told when a chunk is processed)
    tolerance_s = 0.1 + step / 104.0
    hits = 0
    for r in reps:
        at_top = [t for t in starts if r.top_start_s - 0.25 <= t <= r.top_end_s]
        assert len(at_top) <= 1
        hits += r in full and bool(at_top) and abs(at_top[0] - r.top_start_s) <= tolerance_s
    assert hits >= 0.8 * len(full), (hits, len(full))
    # elsewhere only once after a set's last rep (a move after the set can look like the next
    # rep's top until it turns out not to be one), and never later than 8 s after it
    tops = [(r.top_start_s - 0.25, r.top_end_s) for s in session.pipeline.sets for r in s.reps]
    stray = [t for t in starts if not any(a <= t <= b for a, b in tops)]
    for s in session.pipeline.sets:
        after = [t for t in stray if s.end_s < t <= s.end_s + 8.0]
        assert len(after) <= 1
        stray = [t for t in stray if t not in after]
    assert stray == []


def test_no_countdown_for_exercises_that_lower_first() -> None:
    settings = resolve(profile=get_profile("squat").settings_overrides(), placement="thigh")
    assert settings.faults.phase_order != "lift_first"
    session = LiveSession(settings, PlainView(io.StringIO()), profile=get_profile("squat"))
    assert session.squeeze is None


def test_bench_screen_counts_the_squeeze_down() -> None:
    from rich.console import Console

    view = RichView(Console(file=io.StringIO(), width=100, force_terminal=False, color_system=None))

    def shown() -> str:
        return "".join(seg.text for line in view.console.render_lines(view._render()) for seg in line)  # noqa: SLF001

    try:
        view.rep(RepResult(1, 0.0, 1.0, 2.0, 3.0, 40.0, None), 1, 5.0, get_profile(None))
        view.squeeze(2.0)
        plain = shown()
        assert "squeeze — hold it" in plain and "rep 2 at the top · hold 2 s · set 1" in plain
        assert big_text("2.0")[0] in plain or big_text("1.9")[0] in plain
        view.squeeze(0.0)  # held long enough already
        assert "squeeze held ✓ — now lower slowly" in shown() and big_text("0.0")[4] in shown()
        view.squeeze(None)
        assert "squeeze" not in shown()
    finally:
        view.close()
