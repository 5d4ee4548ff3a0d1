"""Tests of the simulator's settings: validation, fault lists and the exercise names."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from imurep.cli import main as cli
from imurep.coaching.exercises import load_catalog
from imurep.model.codes import FAULTS
from imurep.model.errors import SettingsError
from imurep.sim import (
    DEFAULT_EXERCISE,
    EXERCISE_ALIASES,
    EXERCISES,
    MOTION_OF_EXERCISE,
    MOTIONS,
    SimRecording,
    SimSettings,
    canonical_exercise,
    parse_faults,
    simulate,
)

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


def test_unknown_exercise_is_rejected() -> None:
    with pytest.raises(SettingsError, match="SimSettings.exercise must be one of"):
        SimSettings(exercise="front_squat")
    with pytest.raises(SettingsError, match="SimSettings.exercise"):
        canonical_exercise("bench_thrust")  # a motion, not an exercise


# --- exercise names --------------------------------------------------------------------------


def _short(seed: int = 3, **kw: Any) -> SimSettings:
    return SimSettings(seed=seed, n_sets=1, reps_per_set=(3, 4), pre_activity=False, **kw)


def _same_signals(a: SimRecording, b: SimRecording) -> bool:
    return (
        np.array_equal(a.t_s, b.t_s)
        and np.array_equal(a.acc_mps2, b.acc_mps2)
        and np.array_equal(a.gyr_rads, b.gyr_rads)
    )


def test_exercise_names_are_profile_names() -> None:
    catalog = load_catalog()
    assert set(EXERCISES) <= set(catalog.profiles)
    assert set(MOTION_OF_EXERCISE.values()) == set(MOTIONS)
    assert DEFAULT_EXERCISE == catalog.default == "single_leg_hip_thrust"
    for name in EXERCISES:
        kind = catalog.profiles[name].kind
        assert (kind == "leg_lift") == (MOTION_OF_EXERCISE[name] == "bridge_leg_lift"), name
    assert MOTION_OF_EXERCISE["hip_thrust"] == MOTION_OF_EXERCISE["single_leg_hip_thrust"] == "bench_thrust"
    assert (
        MOTION_OF_EXERCISE["glute_bridge"] == MOTION_OF_EXERCISE["single_leg_glute_bridge"] == "floor_bridge"
    )
    assert set(EXERCISE_ALIASES.values()) <= set(EXERCISES)
    assert not set(EXERCISE_ALIASES) & set(EXERCISES)


def test_default_exercise_is_the_single_leg_hip_thrust() -> None:
    assert SimSettings().exercise == "single_leg_hip_thrust"
    rec = simulate(_short())
    assert rec.metadata["exercise"] == rec.truth["exercise"] == "single_leg_hip_thrust"
    assert rec.metadata["notes"].startswith("simulated single-leg hip thrust, 1 set(s)")


@pytest.mark.parametrize(
    ("alias", "name"), [("floor_bridge", "single_leg_glute_bridge"), ("leg_lift", "glute_bridge_leg_lift")]
)
def test_deprecated_exercise_aliases(alias: str, name: str) -> None:
    with pytest.warns(DeprecationWarning, match=f"{alias!r} is deprecated; use {name!r}") as caught:
        settings = _short(exercise=alias)
    assert caught[0].filename == __file__  # attributed to the caller
    assert settings.exercise == name and settings == _short(exercise=name)
    assert canonical_exercise(alias) == name
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the canonical name does not warn
        canonical = simulate(_short(exercise=name))
    aliased = simulate(settings)
    assert _same_signals(aliased, canonical)
    assert aliased.truth == canonical.truth and aliased.metadata == canonical.metadata
    assert canonical.metadata["exercise"] == canonical.truth["exercise"] == name


def test_hip_thrust_is_the_two_leg_profile_with_the_thrust_motion() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        two_legs = simulate(_short(exercise="hip_thrust"))
    one_leg = simulate(_short(exercise="single_leg_hip_thrust"))
    assert two_legs.metadata["exercise"] == two_legs.truth["exercise"] == "hip_thrust"
    assert "hip thrust (two legs) as the single-leg hip thrust motion" in two_legs.metadata["notes"]
    assert _same_signals(two_legs, one_leg)
    assert two_legs.truth["sets"] == one_leg.truth["sets"]


def test_cli_names_follow_the_simulator() -> None:
    assert cli.SIM_EXERCISES == EXERCISES
    assert tuple(EXERCISE_ALIASES) == cli.SIM_EXERCISE_ALIASES
    assert cli.SIM_DEFAULT_EXERCISE == DEFAULT_EXERCISE
    simulate_parser = cli.build_parser()._subparsers._group_actions[0].choices["simulate"]
    action = next(a for a in simulate_parser._actions if a.dest == "exercise")
    assert tuple(action.choices) == EXERCISES + tuple(EXERCISE_ALIASES)
    assert all(name in action.help for name in EXERCISES)


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "160", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "imurep", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_cli_simulate_exercise_names(tmp_path: Path) -> None:
    out = tmp_path / "bridge.csv"
    p = _cli("simulate", out, "--sets", "1", "--no-noise", "--exercise", "floor_bridge")
    assert p.returncode == 0, p.stderr
    assert (
        "imurep: WARNING: --exercise floor_bridge is deprecated; use --exercise single_leg_glute_bridge"
        in p.stderr
    )
    assert json.loads(out.with_suffix(".json").read_text())["exercise"] == "single_leg_glute_bridge"
    out = tmp_path / "thrust.csv"
    p = _cli("simulate", out, "--sets", "1", "--no-noise", "--exercise", "hip_thrust")
    assert p.returncode == 0 and "deprecated" not in p.stderr, p.stderr
    assert json.loads(out.with_suffix(".json").read_text())["exercise"] == "hip_thrust"
    p = _cli("simulate", tmp_path / "x.csv", "--exercise", "front_squat")
    assert p.returncode == 2 and "invalid choice: 'front_squat'" in p.stderr
