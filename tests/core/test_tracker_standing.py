"""Standing exercises with the thigh sensor: walking off after a set is not more reps of it
(``segmentation.max_past_rest_deg`` of the standing profiles)."""

from __future__ import annotations

import pytest

from imurep.coaching.exercises import get_profile
from imurep.core.pipeline import analyze
from imurep.core.settings import resolve
from imurep.model.samples import ImuChunk
from imurep.sim import SimSettings, simulate


@pytest.mark.parametrize(("exercise", "seed"), [("squat", 1), ("pistol_squat", 1), ("squat", 2)])
def test_steps_after_a_standing_set_are_not_its_reps(exercise: str, seed: int) -> None:
    rec = simulate(SimSettings(seed=seed, exercise=exercise, placement="thigh"))
    truth = [len(s["reps"]) for s in rec.truth["sets"]]
    profile = get_profile(exercise).settings_overrides()
    found = analyze(
        [ImuChunk(rec.t_s, rec.acc_mps2, rec.gyr_rads)], resolve(profile=profile, placement="thigh")
    )
    assert [len(s.reps) for s in found.sets] == truth
    # without the profile's limit the walk-off is counted (what the setting is for)
    loose = resolve(profile=profile, placement="thigh", overrides=[("segmentation.max_past_rest_deg", 0.0)])
    plain = analyze([ImuChunk(rec.t_s, rec.acc_mps2, rec.gyr_rads)], loose)
    assert sum(len(s.reps) for s in plain.sets) > sum(truth)
