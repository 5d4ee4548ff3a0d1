"""What the simulator simulates: :class:`SimSettings`, the exercise names and the motion of each.

The exercise names are the profile names of ``imurep/coaching/data/exercises.toml`` (the simulator
may not import :mod:`imurep.coaching`; ``tests/sim/test_sim_settings.py`` checks the names
against the catalogue).  Each exercise is simulated with one of three motions (:data:`MOTIONS`):
the sensor on one pelvis or thigh sees a two-leg thrust as the same motion as a single-leg one,
and the pause, deficit and banded variants are simulated with the plain thrust's timing and range.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from imurep.model.codes import FAULTS, PLACEMENTS, SIDES
from imurep.model.errors import SettingsError

MOTIONS = (
    "bench_thrust",
    "floor_bridge",
    "bridge_leg_lift",
    "squat",
    "split_squat",
    "step_up",
    "hinge",
    "pistol",
)
"""The motions the trajectory builder can make: a hip thrust with the shoulders on a bench, a
glute bridge with the shoulders on the floor (smaller range), a held floor bridge with
alternating leg lifts, and the standing movements (:data:`STANDING_MOTIONS`)."""

STANDING_MOTIONS = ("squat", "split_squat", "step_up", "hinge", "pistol")
"""Motions done standing (the thigh turns about the knee, the pelvis rides on the hip end of the
thigh and tilts forward; see :func:`imurep.sim.sets.standing_pose`): a two-leg squat, a
Bulgarian split squat (front leg), a step-up onto a knee-high box, a single-leg hip hinge (RDL)
and a pistol squat.  All but the step-up rest standing at the top and lower first."""

MOTION_OF_EXERCISE = {
    "single_leg_hip_thrust": "bench_thrust",
    "single_leg_hip_thrust_pause": "bench_thrust",
    "single_leg_hip_thrust_deficit": "bench_thrust",
    "single_leg_hip_thrust_banded": "bench_thrust",
    "hip_thrust": "bench_thrust",
    "elevated_glute_bridge": "floor_bridge",
    "glute_bridge": "floor_bridge",
    "single_leg_glute_bridge": "floor_bridge",
    "glute_bridge_leg_lift": "bridge_leg_lift",
    "squat": "squat",
    "bulgarian_split_squat": "split_squat",
    "step_up": "step_up",
    "single_leg_rdl": "hinge",
    "pistol_squat": "pistol",
}
"""Motion (one of :data:`MOTIONS`) simulated for each exercise profile name."""

EXERCISES = tuple(MOTION_OF_EXERCISE)
"""What :func:`imurep.sim.simulate` can simulate: exercise profile names (the sidecar's
``exercise``, so the analysis picks the profile)."""

DEFAULT_EXERCISE = "single_leg_hip_thrust"
"""Default of :attr:`SimSettings.exercise` (the catalogue's default profile)."""

EXERCISE_ALIASES = {
    "floor_bridge": "single_leg_glute_bridge",
    "leg_lift": "glute_bridge_leg_lift",
}
"""Deprecated simulator names, still accepted (with a :class:`DeprecationWarning`)."""

EXERCISE_TITLES = {
    "single_leg_hip_thrust": "single-leg hip thrust",
    "single_leg_hip_thrust_pause": "single-leg hip thrust with pause",
    "single_leg_hip_thrust_deficit": "deficit single-leg hip thrust",
    "single_leg_hip_thrust_banded": "banded single-leg hip thrust",
    "hip_thrust": "hip thrust (two legs)",
    "elevated_glute_bridge": "elevated glute bridge (two legs)",
    "glute_bridge": "glute bridge (floor, two legs)",
    "single_leg_glute_bridge": "single-leg glute bridge (floor)",
    "glute_bridge_leg_lift": "glute bridge with leg lift",
    "squat": "squat (two legs)",
    "bulgarian_split_squat": "Bulgarian split squat",
    "step_up": "step-up",
    "single_leg_rdl": "single-leg Romanian deadlift",
    "pistol_squat": "pistol squat",
}
"""Title of each exercise in the sidecar's ``notes``."""

MOTION_EXERCISE = {
    "bench_thrust": "single_leg_hip_thrust",
    "floor_bridge": "single_leg_glute_bridge",
    "bridge_leg_lift": "glute_bridge_leg_lift",
    "squat": "squat",
    "split_squat": "bulgarian_split_squat",
    "step_up": "step_up",
    "hinge": "single_leg_rdl",
    "pistol": "pistol_squat",
}
"""The exercise each motion was made for (other exercises' notes name it)."""


def canonical_exercise(name: str) -> str:
    """The exercise profile name for a simulator exercise name (resolves deprecated aliases).

    Parameters
    ----------
    name
        One of :data:`EXERCISES` or :data:`EXERCISE_ALIASES`.

    Returns
    -------
    str
        The profile name; ``name`` itself unless it is an alias.

    Raises
    ------
    SettingsError
        If ``name`` is neither.
    """
    if name in MOTION_OF_EXERCISE:
        return name
    if name in EXERCISE_ALIASES:
        return EXERCISE_ALIASES[name]
    raise SettingsError(f"SimSettings.exercise must be one of {EXERCISES}, got {name!r}")


@dataclass(frozen=True)
class SimSettings:
    """Settings of :func:`imurep.sim.simulate`.

    Parameters
    ----------
    seed
        Seed of ``numpy.random.default_rng``; everything is deterministic from it.
    placement
        ``"hip"`` (sensor on the pelvis) or ``"thigh"`` (sensor on the working thigh).
    sample_rate_hz
        Nominal output sample rate, Hz, 50..1000.
    n_sets
        Number of sets, 1..20.
    reps_per_set
        Inclusive range ``(lo, hi)`` the rep count of each set is drawn from, 1 <= lo <= hi <= 40.
    faults
        Fault codes (from :data:`imurep.model.codes.FAULTS`) that may be injected.
    fault_probability
        Per rep and per allowed fault type, 0..1 (at most ~35 % of a set's reps get one fault).
    sides
        Working side of set ``i`` is ``sides[i % len(sides)]``.
    pre_activity
        Standing, walking, sitting down and getting up before, between and after the sets.
    t0_s
        Time origin of the recording, s; ``None`` draws it uniformly in [0, 5000).
    noise
        Sensor imperfections (bias, drift, noise, scale, quantisation, soft-tissue wobble, clock
        error, timestamp jitter, dropouts).  ``False`` gives an ideal, rigidly mounted sensor.
    gyro_bias_max_dps
        Gyro bias per axis is uniform in ±this, deg/s (0..50).
    drop_probability
        Per-sample dropout probability (0..0.5), plus 1-3 bursts of 5-50 samples (noise only).
    soft_tissue
        Soft-tissue wobble of the sensor (only when ``noise`` is on).
    exercise
        An exercise profile name from :data:`EXERCISES` (default ``"single_leg_hip_thrust"``);
        the deprecated names ``"floor_bridge"`` and ``"leg_lift"`` are replaced by
        ``"single_leg_glute_bridge"`` and ``"glute_bridge_leg_lift"`` with a
        :class:`DeprecationWarning`.  The motion is :data:`MOTION_OF_EXERCISE`: floor bridges have
        the shoulders on the floor, 18-30° of range; ``"glute_bridge_leg_lift"``: each set is one
        held floor bridge with ``reps_per_set`` lifts *per side*, alternating sides (starting with
        the set's side); the pelvis rolls towards the lifted side (1-2.5°, or 4-7° for an injected
        ``hip_tilt``) and side-bends a little.  Faults that may be injected into lifts:
        ``hip_tilt``, ``rushed_lowering`` (foot dropped), ``short_hold``.
    """

    seed: int = 0
    placement: str = "hip"
    sample_rate_hz: float = 104.0
    n_sets: int = 2
    reps_per_set: tuple[int, int] = (8, 14)
    faults: tuple[str, ...] = ("hip_tilt", "rushed_lowering", "short_hold", "partial_rom")
    fault_probability: float = 0.2
    sides: tuple[str, ...] = ("left", "right")
    pre_activity: bool = True
    t0_s: float | None = None
    noise: bool = True
    gyro_bias_max_dps: float = 3.0
    drop_probability: float = 0.003
    soft_tissue: bool = True
    exercise: str = DEFAULT_EXERCISE

    def __post_init__(self) -> None:
        def bad(name: str, expected: str, got: object) -> SettingsError:
            return SettingsError(f"SimSettings.{name} must be {expected}, got {got!r}")

        if isinstance(self.seed, bool) or not isinstance(self.seed, int | np.integer) or self.seed < 0:
            raise bad("seed", "a non-negative integer", self.seed)
        if self.placement not in PLACEMENTS:
            raise bad("placement", f"one of {PLACEMENTS}", self.placement)
        if not _is_real(self.sample_rate_hz) or not 50.0 <= float(self.sample_rate_hz) <= 1000.0:
            raise bad("sample_rate_hz", "a number in [50, 1000] Hz", self.sample_rate_hz)
        if isinstance(self.n_sets, bool) or not isinstance(self.n_sets, int) or not 1 <= self.n_sets <= 20:
            raise bad("n_sets", "an integer in [1, 20]", self.n_sets)
        rps = self.reps_per_set
        if (
            not isinstance(rps, tuple)
            or len(rps) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in rps)
            or not 1 <= rps[0] <= rps[1] <= 40
        ):
            raise bad("reps_per_set", "a tuple (lo, hi) of integers with 1 <= lo <= hi <= 40", rps)
        if not isinstance(self.faults, tuple) or any(f not in FAULTS for f in self.faults):
            raise bad("faults", f"a tuple of fault codes from {FAULTS}", self.faults)
        if len(set(self.faults)) != len(self.faults):
            raise bad("faults", "a tuple without repeated codes", self.faults)
        if not _is_real(self.fault_probability) or not 0.0 <= float(self.fault_probability) <= 1.0:
            raise bad("fault_probability", "a number in [0, 1]", self.fault_probability)
        if not isinstance(self.sides, tuple) or not self.sides or any(s not in SIDES for s in self.sides):
            raise bad("sides", f"a non-empty tuple of sides from {SIDES}", self.sides)
        if not isinstance(self.pre_activity, bool):
            raise bad("pre_activity", "a bool", self.pre_activity)
        if self.t0_s is not None and (not _is_real(self.t0_s) or not 0.0 <= float(self.t0_s) < 1e9):
            raise bad("t0_s", "None or a number in [0, 1e9) s", self.t0_s)
        if not isinstance(self.noise, bool):
            raise bad("noise", "a bool", self.noise)
        if not _is_real(self.gyro_bias_max_dps) or not 0.0 <= float(self.gyro_bias_max_dps) <= 50.0:
            raise bad("gyro_bias_max_dps", "a number in [0, 50] deg/s", self.gyro_bias_max_dps)
        if not _is_real(self.drop_probability) or not 0.0 <= float(self.drop_probability) < 0.5:
            raise bad("drop_probability", "a number in [0, 0.5)", self.drop_probability)
        if not isinstance(self.soft_tissue, bool):
            raise bad("soft_tissue", "a bool", self.soft_tissue)
        if not isinstance(self.exercise, str):
            raise bad("exercise", f"one of {EXERCISES}", self.exercise)
        name = canonical_exercise(self.exercise)
        if name != self.exercise:
            warnings.warn(
                f"SimSettings.exercise {self.exercise!r} is deprecated; use {name!r}",
                DeprecationWarning,
                stacklevel=3,
            )
            object.__setattr__(self, "exercise", name)

    @property
    def motion(self) -> str:
        """The motion simulated for :attr:`exercise` (one of :data:`MOTIONS`)."""
        return MOTION_OF_EXERCISE[self.exercise]

    @property
    def standing(self) -> bool:
        """Whether the exercise is done standing (:data:`STANDING_MOTIONS`)."""
        return self.motion in STANDING_MOTIONS

    @property
    def on_pelvis(self) -> bool:
        """Whether the sensor sits on the pelvis (``placement == "hip"``) rather than a thigh."""
        return self.placement == "hip"


def parse_faults(text: str) -> tuple[str, ...]:
    """Parse a comma-separated list of fault codes.

    Parameters
    ----------
    text
        E.g. ``"hip_tilt,rushed_lowering"``; ``"none"`` or ``""`` means no faults; ``"all"`` all.

    Returns
    -------
    tuple of str
        The codes, in the order given, without repeats.

    Raises
    ------
    SettingsError
        If a code is not one of :data:`imurep.model.codes.FAULTS`.
    """
    stripped = text.strip().lower()
    if stripped in ("", "none"):
        return ()
    if stripped == "all":
        return tuple(FAULTS)
    out: list[str] = []
    for part in stripped.split(","):
        code = part.strip().replace("-", "_")
        if not code:
            continue
        if code not in FAULTS:
            raise SettingsError(
                f"unknown fault {part.strip()!r}; expected a comma-separated subset of "
                f"{', '.join(FAULTS)} (or 'none')"
            )
        if code not in out:
            out.append(code)
    return tuple(out)


def _is_real(x: object) -> bool:
    if isinstance(x, bool) or not isinstance(x, int | float | np.integer | np.floating):
        return False
    return math.isfinite(float(x))
