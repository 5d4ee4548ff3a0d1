"""Tests of the simulator's settings: validation and fault lists."""

from __future__ import annotations

from typing import Any

import pytest

from imurep.model.codes import FAULTS
from imurep.model.errors import SettingsError
from imurep.sim import SimSettings, parse_faults

# --- settings and parsing --------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"placement": "knee"},
        {"sample_rate_hz": 20.0},
        {"sample_rate_hz": 2000.0},
        {"sample_rate_hz": float("nan")},
        {"n_sets": 0},
        {"reps_per_set": (5, 3)},
        {"reps_per_set": (0, 3)},
        {"faults": ("hip_tilt", "wobbly")},
        {"faults": ("hip_tilt", "hip_tilt")},
        {"fault_probability": 1.5},
        {"sides": ()},
        {"sides": ("middle",)},
        {"t0_s": -1.0},
        {"seed": -3},
        {"seed": 1.5},
        {"gyro_bias_max_dps": -1.0},
        {"drop_probability": 0.9},
    ],
)
def test_settings_validation(kwargs: dict[str, Any]) -> None:
    with pytest.raises(SettingsError, match="SimSettings"):
        SimSettings(**kwargs)


def test_parse_faults() -> None:
    assert parse_faults("hip_tilt,rushed_lowering") == ("hip_tilt", "rushed_lowering")
    assert parse_faults(" none ") == ()
    assert parse_faults("") == ()
    assert parse_faults("all") == FAULTS
    assert parse_faults("short_hold, short_hold ,partial_rom") == ("short_hold", "partial_rom")
    with pytest.raises(SettingsError, match="unknown fault"):
        parse_faults("hip_tilt,bad_fault")
