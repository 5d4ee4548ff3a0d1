"""What the simulator simulates: :class:`SimSettings`, the exercise names and the motion of each."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from imurep.model.codes import FAULTS, PLACEMENTS, SIDES
from imurep.model.errors import SettingsError

MOTIONS = ("bench_thrust", "floor_bridge", "bridge_leg_lift")
"""The motions the trajectory builder can make: a hip thrust with the shoulders on a bench, a
glute bridge with the shoulders on the floor (smaller range), and a held floor bridge with
alternating leg lifts."""

MOTION_OF_EXERCISE = {
    "hip_thrust": "bench_thrust",
    "floor_bridge": "floor_bridge",
    "leg_lift": "bridge_leg_lift",
}
"""Motion (one of :data:`MOTIONS`) simulated for each exercise."""

EXERCISES = tuple(MOTION_OF_EXERCISE)
"""What :func:`imurep.sim.simulate` can simulate: the hip thrust with the shoulders on a bench
(single-leg or not: the sensor sees the same), the glute bridge on the floor (smaller range), and
the glute bridge with alternating leg lifts (a held floor bridge)."""

EXERCISE_PROFILES = {
    "hip_thrust": "single_leg_hip_thrust",
    "floor_bridge": "single_leg_glute_bridge",
    "leg_lift": "glute_bridge_leg_lift",
}
"""Exercise profile (imurep/coaching/data/exercises.toml) written into the sidecar."""

EXERCISE_TITLES = {
    "hip_thrust": "single-leg hip thrust",
    "floor_bridge": "single-leg glute bridge (floor)",
    "leg_lift": "glute bridge with leg lift",
}
"""Title of each exercise in the sidecar's ``notes``."""


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
        One of :data:`EXERCISES`.  ``"floor_bridge"``: shoulders on the floor, 18-30° of range.
        ``"leg_lift"``: each set is one held floor bridge with ``reps_per_set`` lifts *per side*,
        alternating sides (starting with the set's side); the pelvis rolls towards the lifted side
        (1-2.5°, or 4-7° for an injected ``hip_tilt``) and side-bends a little.  Faults that may be
        injected into lifts: ``hip_tilt``, ``rushed_lowering`` (foot dropped), ``short_hold``.
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
    exercise: str = "hip_thrust"

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
        if self.exercise not in EXERCISES:
            raise bad("exercise", f"one of {EXERCISES}", self.exercise)

    @property
    def motion(self) -> str:
        """The motion simulated for :attr:`exercise` (one of :data:`MOTIONS`)."""
        return MOTION_OF_EXERCISE[self.exercise]

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
