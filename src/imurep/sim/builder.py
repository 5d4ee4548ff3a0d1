"""Simulated IMU recordings of the single-leg hip thrust, with exact ground truth.

The simulator builds a smooth rigid-body trajectory of one body segment (the pelvis for
``placement="hip"``, the working thigh for ``placement="thigh"``) on a fine internal time grid
(>= 1 kHz and >= 4x the output rate), derives the ideal accelerometer and gyroscope signals from
it, resamples them at the (imperfect) sensor sample times and optionally adds sensor
imperfections.  The ground truth (sets, reps, phase times, range of motion, pelvis tilt, faults)
is measured on the noise-free fine-grid kinematics with the product's definitions.

Frames
    ``world``: z up, x/y horizontal.  ``segment``: x = medio-lateral (to the lifter's right),
    y = anterior, z = longitudinal (cranial for the pelvis, proximal i.e. knee -> hip for the
    thigh).  ``sensor``: the IMU axes; ``R_seg_sensor`` (the mounting) maps sensor-frame vectors
    to segment-frame vectors and is uniformly random.

Segment orientation
    ``R_ws = Rz(heading) · Rx(flex) · Rz(roll) · Ry(yaw_wobble)`` (segment -> world).  Standing
    upright with the lifter facing world ``Rz(heading)·(0, 1, 0)`` is ``flex = 0``.  On the bench
    the lifter lies with the head towards ``-Rz(heading)·(0, 1, 0)``; the pelvis has
    ``flex = 90° + θ`` and the thigh ``flex = 90° - θ``.

Sagittal angle θ (truth)
    The elevation (degrees, above the horizontal plane) of the segment's longitudinal axis,
    signed so that θ increases as the hips rise:

    * hip (pelvis): ``θ = asin(-z_seg · ẑ_world)``, the elevation of the caudal axis
      (shoulders -> hips direction).  Bottom of a rep ≈ -35..-50°, top ≈ 0..+5°.
    * thigh: ``θ = asin(+z_seg · ẑ_world)``, the elevation of the proximal axis (knee -> hip).
      Bottom ≈ -35..-50° (knee above hip), top ≈ 0..+5° (thigh horizontal).

    A rotation about the segment's long axis (pelvis tilt) leaves θ unchanged; the small yaw
    wobble changes it only to second order (and the truth is measured on the actual θ anyway).

Pelvis tilt (truth, hip only)
    Elevation (degrees) of the segment medio-lateral axis above the horizontal plane,
    ``asin(x_seg · ẑ_world)``; positive when the lifter's right side is higher.  Reported relative
    to its value in the still start position of the set (``baseline_tilt_deg``).

Truth document (schema ``imurep.truth/1``; times in the recording time base, s)
    ``{"schema", "seed", "placement", "sample_rate_hz" (nominal), "t0_s", "sets": [...],
    "activities": [...]}``.  Each set: ``index`` (1-based), ``side``, ``start_s`` / ``end_s``
    (first rep start / last rep end), ``mounting_quat_xyzw`` (sensor -> segment, scalar last),
    ``baseline_tilt_deg`` (absolute ML-axis elevation in the still start position; ``None`` for the
    thigh) and ``reps``.  Each rep: ``index``, ``start_s``, ``top_start_s``, ``top_end_s``,
    ``end_s``, ``concentric_s``, ``top_hold_s``, ``eccentric_s``, ``rom_deg``, ``peak_tilt_deg``
    (``None`` for the thigh), ``faults`` (from the true metrics with the default rules), plus the
    extras ``bottom_deg`` / ``top_deg`` (absolute θ at rest before the rep / rep maximum) and
    ``injected_faults`` (what the generator intended; equal to ``faults`` by construction).
    Phase times use the 5 %-of-ROM thresholds, crossings interpolated linearly on the 1 kHz (or
    finer) grid.  ``activities`` lists primitive segments (``standing``, ``walking``, ``sitting``,
    ``transition``, ``fidget``, ``set``) that tile the recording in order, plus ``rest`` entries
    that overlap them (from the end of one ``set`` activity to the start of the next).  A ``set``
    activity spans the still start position, the reps and the still bottom after the last rep.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation, Slerp
from scipy.special import betainc, betaincinv

from imurep.model.codes import FAULTS, PLACEMENTS, SIDES
from imurep.model.errors import SettingsError
from imurep.model.units import STANDARD_GRAVITY_MPS2

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
_Arr = NDArray[Any]

TRUTH_SCHEMA = "imurep.truth/1"
"""Schema name written into every truth document."""

_DEG = math.pi / 180.0
_G = float(STANDARD_GRAVITY_MPS2)
_THRESH = 0.05
"""Phase threshold, fraction of the rep's ROM (product definition)."""

# default fault rules used to label the truth (product defaults)
_TILT_LIMIT_DEG = 5.0
_ECC_MIN_S = 1.0
_HOLD_MIN_S = 1.0
_PARTIAL_FRACTION = 0.8
# ... and those of the glute bridge with leg lift (src/imurep/data/exercises.toml)
_LIFT_TILT_LIMIT_DEG = 3.0
_LIFT_DOWN_MIN_S = 0.25
_LIFT_HOLD_MIN_S = 1.0
_LIFT_BAND = 0.2
"""Lift phase threshold, fraction of the lift's peak (product definition, imurep.lifts)."""

EXERCISES = ("hip_thrust", "floor_bridge", "leg_lift")
"""What :func:`simulate` can simulate: the hip thrust with the shoulders on a bench (single-leg or
not: the sensor sees the same), the glute bridge on the floor (smaller range), and the glute bridge
with alternating leg lifts (a held floor bridge)."""


# --------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SimSettings:
    """Settings of :func:`simulate`.

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
        Fault codes (from :data:`imurep.conventions.FAULTS`) that may be injected.
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


@dataclass(frozen=True)
class SimRecording:
    """A simulated recording.

    Attributes
    ----------
    t_s
        Sample timestamps, shape ``(n,)``, s, strictly increasing, recording time base.
    acc_mps2
        Specific force (gravity included), shape ``(n, 3)``, m/s², sensor frame.
    gyr_rads
        Angular rate, shape ``(n, 3)``, rad/s, sensor frame.
    truth
        Ground truth, JSON-serialisable, schema ``imurep.truth/1``.
    metadata
        Sidecar metadata (placement, sides, device, nominal rate, seed, notes).
    """

    t_s: FloatArray
    acc_mps2: FloatArray
    gyr_rads: FloatArray
    truth: dict[str, Any]
    metadata: dict[str, Any]


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
        If a code is not one of :data:`imurep.conventions.FAULTS`.
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


def simulate(settings: SimSettings) -> SimRecording:
    """Simulate one recording.

    Parameters
    ----------
    settings
        What to simulate.

    Returns
    -------
    SimRecording
        Samples (sensor frame) and the exact ground truth.
    """
    rng = np.random.default_rng(int(settings.seed))
    t0 = float(rng.uniform(0.0, 5000.0)) if settings.t0_s is None else float(settings.t0_s)
    rate = float(settings.sample_rate_hz)
    fs_fine = max(1000.0, 4.0 * rate)
    b = _Builder(settings, rng, 1.0 / fs_fine)
    b.run()
    kin = b.kinematics()
    truth = _truth(settings, b, kin, t0)
    t_s, acc, gyr = _sample(settings, rng, kin, t0)
    sides = [s.side for s in b.sets]
    metadata: dict[str, Any] = {
        "placement": settings.placement,
        "side": sides[0],
        "sides": sides,
        "device": "imurep.sim",
        "sample_rate_hz": rate,
        "simulated": True,
        "seed": int(settings.seed),
        "exercise": _PROFILES[settings.exercise],
        "notes": (
            f"simulated {_TITLES[settings.exercise]}, {len(sides)} set(s), sensor on the "
            f"{'pelvis' if settings.placement == 'hip' else 'working thigh'}; "
            f"noise={'on' if settings.noise else 'off'}, pre_activity={settings.pre_activity}"
        ),
    }
    logger.debug("simulated %d samples (%.1f s), %d sets", t_s.size, kin.t[-1], len(sides))
    return SimRecording(t_s=t_s, acc_mps2=acc, gyr_rads=gyr, truth=truth, metadata=metadata)


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _is_real(x: object) -> bool:
    if isinstance(x, bool) or not isinstance(x, int | float | np.integer | np.floating):
        return False
    return math.isfinite(float(x))


def _mj(s: _Arr) -> _Arr:
    """Minimum-jerk profile 10s³ - 15s⁴ + 6s⁵ on s clipped to [0, 1]."""
    s = np.clip(s, 0.0, 1.0)
    return s**3 * (10.0 - 15.0 * s + 6.0 * s * s)


def _transient(tau: _Arr, f_hz: float, tau_d: float) -> _Arr:
    """Smooth damped oscillation (τ/τd)² exp(-τ/τd) sin(2π f τ) / 0.54, zero for τ < 0.

    Position and its first two derivatives are continuous at the onset; peak ≈ 1.
    """
    x = np.clip(tau, 0.0, None) / tau_d
    return np.where(tau > 0.0, x * x * np.exp(-x) * np.sin(2.0 * math.pi * f_hz * tau) / 0.5413, 0.0)


def _beta_band(a: float, b: float) -> tuple[float, float]:
    """Fractions of a beta(a, b) CDF profile's duration where it crosses 5 % and 95 %."""
    return float(betaincinv(a, b, _THRESH)), float(betaincinv(a, b, 1.0 - _THRESH))


def _unit_acc_shape(tau: _Arr, f_hz: float, tau_d: float, dt: float) -> _Arr:
    """:func:`_transient` scaled so that its second derivative peaks at 1 (displacement per m/s²)."""
    x = _transient(tau, f_hz, tau_d)
    if x.size < 3:
        return np.zeros_like(x)
    d2 = np.abs(np.diff(x, 2)).max() / (dt * dt)
    return x / d2 if d2 > 0 else x


_TITLES = {
    "hip_thrust": "single-leg hip thrust",
    "floor_bridge": "single-leg glute bridge (floor)",
    "leg_lift": "glute bridge with leg lift",
}
_PROFILES = {
    "hip_thrust": "single_leg_hip_thrust",
    "floor_bridge": "single_leg_glute_bridge",
    "leg_lift": "glute_bridge_leg_lift",
}
"""Exercise profile (src/imurep/data/exercises.toml) written into the sidecar."""


def _capped_flags(rng: np.random.Generator, n: int, p: float, cap: int) -> NDArray[np.bool_]:
    """``n`` random flags with probability ``p``, at most ``cap`` of them set."""
    m = rng.random(n) < p
    if m.sum() > cap:
        keep = rng.choice(np.flatnonzero(m), size=cap, replace=False)
        m = np.zeros(n, dtype=bool)
        m[keep] = True
    return m


def _wrap(a: float) -> float:
    return (a + math.pi) % (2.0 * math.pi) - math.pi


def _heading_dirs(h: _Arr) -> tuple[_Arr, _Arr]:
    """World directions of the segment's lateral (x) and anterior (y) axes for heading h."""
    c, s = np.cos(h), np.sin(h)
    z = np.zeros_like(h)
    return np.stack([c, s, z], axis=-1), np.stack([-s, c, z], axis=-1)


def _orient(h: _Arr, flex: _Arr, roll: _Arr, wob: _Arr) -> Rotation:
    """Segment -> world rotation Rz(h)·Rx(flex)·Rz(roll)·Ry(wob), angles in rad, shape (n,)."""
    r = Rotation.from_euler("ZXZ", np.column_stack([h, flex, roll]))
    return r * Rotation.from_euler("Y", np.asarray(wob)[:, None])


@dataclass
class _State:
    """Pose of the segment: anchor position H (world, m) and angles (rad)."""

    H: _Arr
    h: float
    flex: float
    roll: float = 0.0
    wob: float = 0.0

    def copy(self) -> _State:
        return _State(H=self.H.copy(), h=self.h, flex=self.flex, roll=self.roll, wob=self.wob)


@dataclass
class _RepPlan:
    bottom: float  # rad, θ at rest before the rep
    rom: float  # rad
    next_bottom: float  # rad
    conc_m: float  # s, movement durations
    hold_m: float
    ecc_m: float
    pause_m: float  # s, plateau after the rep
    a_c: float  # beta exponents
    a_e: float
    e0: float  # first beta exponent of the eccentric (2: brisk start, 3: smooth start)
    tilt: float  # rad, peak roll (hip) / roll wobble (thigh)
    wob: float  # rad
    injected: tuple[str, ...]
    onset: float = 0.0  # s, absolute τ of the concentric onset (filled by the builder)
    i_on: int = 0
    i_next: int = 0


@dataclass
class _LiftPlan:
    """One leg lift during a held bridge (times relative to the end of the bridge's rise, s)."""

    side: str
    start: float
    up_m: float  # s, min-jerk lift
    hold_m: float  # s, foot held up
    down_m: float  # s, min-jerk set-down
    roll: float  # rad, pelvis roll at the top (> 0 raises the right side)
    wob: float  # rad, side-bend at the top
    dip: float  # rad, change of θ (hip: hips sag)
    flex: float  # rad, thigh flexion of the lifted leg
    injected: tuple[str, ...]
    onset: float = 0.0  # s, absolute τ (filled by the builder)


@dataclass
class _SetPlan:
    index: int
    side: str
    mount: Rotation
    theta_b: float
    reps: list[_RepPlan]
    lifts: list[_LiftPlan] = field(default_factory=list)
    i_still: int = 0
    i_end: int = 0
    t_still: float = 0.0
    t_end: float = 0.0


@dataclass
class _Kin:
    """Fine-grid true kinematics."""

    t: _Arr  # (n,) s from recording start
    R_ws: Rotation  # segment -> world
    acc_s: _Arr  # (n,3) specific force, sensor frame, m/s²
    gyr_mid: _Arr  # (n-1,3) rad/s, sensor frame, at t[:-1] + dt/2
    theta: _Arr  # (n,) rad
    ml_elev: _Arr  # (n,) rad


@dataclass
class _Events:
    """Transient events, applied after the trajectory is assembled."""

    jolts: list[tuple[float, _Arr, float, float]] = field(default_factory=list)
    """(τ, world amplitude vector m/s², f Hz, τd s)."""
    soft: list[tuple[float, float]] = field(default_factory=list)
    """(τ, scale 0..1) soft-tissue excitations."""


# --------------------------------------------------------------------------------------------
# trajectory builder
# --------------------------------------------------------------------------------------------


class _Builder:
    """Assembles the fine-grid trajectory phase by phase (each phase continues the last state)."""

    def __init__(self, settings: SimSettings, rng: np.random.Generator, dt: float) -> None:
        self.s = settings
        self.rng = rng
        self.dt = dt
        self.hip = settings.placement == "hip"
        self.H: list[_Arr] = []
        self.ang: list[_Arr] = []  # (n,4): h, flex, roll, wob
        self.n = 1
        self.acts: list[dict[str, Any]] = []
        self.ev = _Events()
        self.sets: list[_SetPlan] = []
        # sensor lever arm (segment frame) and mounting, piecewise (start index, ...)
        self.mount_keys: list[tuple[int, Rotation]] = []
        self.lever_keys: list[tuple[int, _Arr]] = []
        self.lat = 0.0  # lateral offset of the anchor from the pelvis centre (thigh), m
        h0 = float(rng.uniform(-math.pi, math.pi))
        stand_h = 0.95 if self.hip else 0.90
        self.state = _State(H=np.array([0.0, 0.0, stand_h]), h=h0, flex=float(rng.uniform(-4, 4)) * _DEG)
        self.stand_flex = self.state.flex
        self.stand_h = stand_h
        self.H.append(self.state.H[None, :].copy())
        self.ang.append(np.array([[self.state.h, self.state.flex, 0.0, 0.0]]))

    # ---- bookkeeping ---------------------------------------------------------------------
    @property
    def tau(self) -> float:
        return (self.n - 1) * self.dt

    def _steps(self, dur: float) -> int:
        return max(1, round(dur / self.dt))

    def _push(self, H: _Arr, ang: _Arr) -> None:
        self.H.append(H)
        self.ang.append(ang)
        self.n += H.shape[0]
        self.state = _State(
            H=H[-1].copy(),
            h=float(ang[-1, 0]),
            flex=float(ang[-1, 1]),
            roll=float(ang[-1, 2]),
            wob=float(ang[-1, 3]),
        )

    def _act(self, kind: str, t_a: float, t_b: float) -> None:
        self.acts.append({"kind": kind, "start_s": t_a, "end_s": t_b})

    def _lever(self, side: str) -> _Arr:
        rng = self.rng
        sgn = 1.0 if side == "right" else -1.0
        if self.hip:
            return np.array(
                [sgn * rng.uniform(0.10, 0.16), rng.uniform(-0.05, 0.05), rng.uniform(-0.02, 0.08)]
            )
        return np.array([sgn * rng.uniform(0.06, 0.09), rng.uniform(0.03, 0.07), -rng.uniform(0.15, 0.25)])

    # ---- phases --------------------------------------------------------------------------
    def still(self, dur: float, kind: str | None = "standing", sway: float = 1.0) -> None:
        """Quiet standing/sitting with postural sway (amplitude scale ``sway``)."""
        t_a = self.tau
        n = self._steps(dur)
        tl = np.arange(1, n + 1) * self.dt
        win = np.sin(math.pi * tl / (n * self.dt)) ** 2
        rng = self.rng
        H = np.repeat(self.state.H[None, :], n, axis=0)
        st = self.state
        ang = np.repeat(np.array([[st.h, st.flex, st.roll, st.wob]]), n, axis=0)
        if sway > 0.0:
            for k in range(3):
                for _ in range(2):
                    f = rng.uniform(0.1, 0.6)
                    ph = rng.uniform(0, 2 * math.pi)
                    H[:, k] += (
                        sway
                        * win
                        * rng.uniform(0.001, 0.004 if k < 2 else 0.0015)
                        * np.sin(2 * math.pi * f * tl + ph)
                    )
            for k in range(1, 4):
                f = rng.uniform(0.1, 0.5)
                ph = rng.uniform(0, 2 * math.pi)
                ang[:, k] += sway * win * rng.uniform(0.2, 0.8) * _DEG * np.sin(2 * math.pi * f * tl + ph)
        self._push(H, ang)
        if kind:
            self._act(kind, t_a, self.tau)

    def move(
        self,
        waypoints: list[tuple[_State, float]],
        kind: str | None = "transition",
        jolts: tuple[float, ...] = (),
    ) -> None:
        """Min-jerk moves through ``waypoints`` [(state, duration s)], with landing jolts.

        ``jolts`` lists (fractional) waypoint positions, e.g. 1.6 = 60 % into waypoint 2.
        """
        t_a = self.tau
        seg_starts = []
        for target, dur in waypoints:
            seg_starts.append(self.tau)
            n = self._steps(dur)
            s = _mj(np.arange(1, n + 1) / n)[:, None]
            st = self.state
            dh = _wrap(target.h - st.h)
            a0 = np.array([st.h, st.flex, st.roll, st.wob])
            a1 = np.array([st.h + dh, target.flex, target.roll, target.wob])
            H = st.H[None, :] + s * (target.H - st.H)[None, :]
            self._push(H, a0[None, :] + s * (a1 - a0)[None, :])
            self.ev.soft.append((seg_starts[-1], float(self.rng.uniform(0.3, 0.8))))
        durs = [d for _, d in waypoints]
        for j in jolts:
            k = min(int(j), len(waypoints) - 1)
            tj = seg_starts[k] + (j - k) * durs[k]
            amp = np.array([self.rng.normal(0, 0.6), self.rng.normal(0, 0.6), self.rng.uniform(1.5, 4.0)])
            f_j, td_j = float(self.rng.uniform(6, 12)), float(self.rng.uniform(0.012, 0.025))
            self.ev.jolts.append((tj, amp, f_j, td_j))
            self.ev.soft.append((tj, 1.0))
        if kind:
            self._act(kind, t_a, self.tau)

    def walk(self, dur: float) -> None:
        """Walking with gait oscillations, heel strikes and (for long walks) a turn."""
        rng = self.rng
        t_a = self.tau
        n = self._steps(dur)
        T = n * self.dt
        tl = np.arange(1, n + 1) * self.dt
        ramp = 1.2
        env = _mj(tl / ramp) * _mj((T - tl) / ramp)
        f_step = rng.uniform(1.7, 2.0)
        f_str = f_step / 2.0
        v0 = f_step * rng.uniform(0.62, 0.75)
        st = self.state
        h = np.full(n, st.h)
        if T > 14.0:
            tt = rng.uniform(0.35, 0.65) * T
            turn = rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 1.0) * math.pi
            h = h + turn * _mj((tl - tt) / rng.uniform(2.4, 3.4))
        lat_dir, fwd = _heading_dirs(h)
        lat0, _ = _heading_dirs(np.array([st.h]))
        centre0 = st.H - self.lat * lat0[0]
        ph0 = rng.uniform(0, 2 * math.pi)
        w_str = 2 * math.pi * f_str * tl + ph0
        w_step = 2 * w_str
        speed = v0 * env * (1.0 + 0.06 * np.sin(w_step))
        # pelvis centre path (no net drift in the oscillations: they are enveloped)
        step_xy = np.cumsum(speed[:, None] * fwd, axis=0) * self.dt
        c = centre0[None, :] + step_xy
        c[:, 2] += env * (-0.02 * np.cos(w_step))
        c += (env * 0.02 * np.sin(w_str))[:, None] * lat_dir
        H = c + self.lat * lat_dir
        ang = np.zeros((n, 4))
        ang[:, 0] = h
        if self.hip:
            ang[:, 1] = st.flex + env * 1.5 * _DEG * np.sin(w_step)
            ang[:, 2] = st.roll + env * rng.uniform(4.0, 7.0) * _DEG * np.sin(w_str + 0.5)  # pelvis rotation
            ang[:, 3] = st.wob + env * rng.uniform(3.0, 5.0) * _DEG * np.sin(w_str)  # obliquity
        else:
            side_ph = 0.0 if self.lat >= 0 else math.pi
            ang[:, 1] = st.flex + env * (rng.uniform(20, 28) * _DEG * np.sin(w_str + side_ph) + 5 * _DEG)
            ang[:, 2] = st.roll + env * 3.0 * _DEG * np.sin(w_str + side_ph + 1.0)
            ang[:, 3] = st.wob + env * 2.0 * _DEG * np.sin(w_str + side_ph)
        self._push(H, ang)
        # heel strikes: once per step while walking properly
        k0 = math.ceil(ramp * 0.8 * f_step)
        t_hs = np.arange(k0, int(T * f_step)) / f_step + (ph0 / (2 * math.pi)) / f_str
        for i, th in enumerate(t_hs):
            if th > T - ramp * 0.8:
                break
            idx = min(n - 1, int(th / self.dt))
            ipsi = (i % 2 == 0) if self.lat >= 0 else (i % 2 == 1)
            big = 1.0 if (self.hip or ipsi) else 0.45
            amp = big * (np.array([0.0, 0.0, rng.uniform(1.5, 3.5)]) + fwd[idx] * rng.uniform(-1.2, 0.3))
            f_j, td_j = float(rng.uniform(12, 20)), float(rng.uniform(0.008, 0.015))
            self.ev.jolts.append((t_a + th, amp, f_j, td_j))
            self.ev.soft.append((t_a + th, float(big)))
        self._act("walking", t_a, self.tau)

    # ---- poses ---------------------------------------------------------------------------
    def seated_floor(self, base: _State, h: float) -> _State:
        """Sitting on the floor in front of the bench, back against it (pose only)."""
        rng = self.rng
        _, fwd = _heading_dirs(np.array([h]))
        xy = base.H + fwd[0] * rng.uniform(-0.1, 0.1)
        if self.hip:
            return _State(
                H=np.array([xy[0], xy[1], rng.uniform(0.11, 0.15)]), h=h, flex=rng.uniform(20, 40) * _DEG
            )
        return _State(
            H=np.array([xy[0], xy[1], rng.uniform(0.09, 0.13)]), h=h, flex=rng.uniform(110, 130) * _DEG
        )

    def mid_squat(self, a: _State, b: _State) -> _State:
        hh = a.h + 0.6 * _wrap(b.h - a.h)
        H = 0.5 * (a.H + b.H)
        H[2] = self.rng.uniform(0.5, 0.6)
        flex = self.rng.uniform(-30, -15) * _DEG if self.hip else self.rng.uniform(70, 95) * _DEG
        return _State(H=H, h=hh, flex=flex)

    def standing_pose(self, near: _State) -> _State:
        _, fwd = _heading_dirs(np.array([near.h]))
        H = near.H.copy() + fwd[0] * self.rng.uniform(0.1, 0.3)
        H[2] = self.stand_h
        return _State(H=H, h=near.h + self.rng.normal(0, 0.5), flex=self.stand_flex)

    # ---- the set -------------------------------------------------------------------------
    def plan_set(self, index: int, side: str, mount: Rotation) -> tuple[_SetPlan, dict[str, float]]:
        rng = self.rng
        s = self.s
        # geometry
        floor = s.exercise != "hip_thrust"
        if floor:
            # shoulders on the floor: from the hips resting on the floor to the straight line
            rom_set = rng.uniform(18.0, 30.0)
            if self.hip:
                pivot_z, L = rng.uniform(0.10, 0.14), rng.uniform(0.45, 0.60)
                geo = {"pivot_z": pivot_z, "L": L}
                bottom_deg = math.degrees(math.asin((rng.uniform(0.08, 0.11) - pivot_z) / L))
            else:
                L = rng.uniform(0.40, 0.48)
                knee_z = rng.uniform(0.38, min(0.48, L + 0.04))
                geo = {"knee_z": knee_z, "L": L}
                bottom_deg = math.degrees(math.asin((rng.uniform(0.08, 0.11) - knee_z) / L))
            theta_b = bottom_deg * _DEG
        else:
            if self.hip:
                pivot_z = rng.uniform(0.42, 0.50)
                L = rng.uniform(0.45, 0.60)
                th_max = min(50.0, math.degrees(math.asin(min(1.0, (pivot_z - 0.06) / L))))
                geo = {"pivot_z": pivot_z, "L": L}
            else:
                knee_z = rng.uniform(0.45, 0.52)
                L = rng.uniform(0.40, 0.48)
                th_max = 50.0
                geo = {"knee_z": knee_z, "L": L}
            rom_set = rng.uniform(32.0, min(50.0, th_max + 4.0))
            top_lo, top_hi = max(-2.0, rom_set - th_max), min(5.0, rom_set - 30.0)
            top = rng.uniform(top_lo, max(top_lo, top_hi))
            theta_b = (top - rom_set) * _DEG
        rom_set *= _DEG
        if s.exercise == "leg_lift":
            return self.plan_lift_set(index, side, mount, geo, theta_b, rom_set)
        n = int(rng.integers(s.reps_per_set[0], s.reps_per_set[1] + 1))
        allowed = [f for f in FAULTS if f in s.faults and (self.hip or f != "hip_tilt")]
        cap = int(math.floor(0.35 * n))
        flags = {f: _capped_flags(rng, n, s.fault_probability, cap) for f in allowed}
        no = np.zeros(n, dtype=bool)
        tilt_sign = (-1.0 if side == "left" else 1.0) * (1.0 if rng.random() < 0.8 else -1.0)
        tng = rng.random(n) < 0.1  # touch-and-go after rep k
        reps: list[_RepPlan] = []
        bottom = theta_b
        for k in range(n):
            # on the floor a partial first rep (10-13 deg) is hardly a movement: not simulated
            partial = bool(flags.get("partial_rom", no)[k]) and not (floor and k == 0)
            rushed = bool(flags.get("rushed_lowering", no)[k])
            short = bool(flags.get("short_hold", no)[k])
            tilted = bool(flags.get("hip_tilt", no)[k])
            rom = rom_set * (rng.uniform(0.58, 0.72) if partial else 1.0 + rng.uniform(-0.03, 0.03))
            conc = rng.uniform(0.8, 1.6)
            ecc = rng.uniform(0.35, 0.75) if rushed else rng.uniform(1.4, 3.0)
            hold = rng.uniform(0.0, 0.6) if short else rng.uniform(1.1, 2.0)
            a_c = 2.0 if (k > 0 and tng[k - 1]) else 3.0
            a_e = 2.0 if tng[k] else 3.0
            # rushed lowering starts smoothly (a brisk start would exceed free fall)
            e0 = 3.0 if rushed else 2.0
            lo_c, hi_c = _beta_band(a_c, 2.0)
            lo_e, hi_e = _beta_band(e0, a_e)
            conc_m, ecc_m = conc / (hi_c - lo_c), ecc / (hi_e - lo_e)
            # the truth top hold also contains the profile ends within 5 % of the top
            hold_m = max(0.0, hold - (1.0 - hi_c) * conc_m - lo_e * ecc_m)
            pause = rng.uniform(0.0, 0.1) if tng[k] else rng.uniform(0.3, 2.5)
            nb = theta_b + rng.uniform(-0.3, 0.3) * _DEG
            nb = min(nb, bottom + 0.02 * rom)
            if self.hip:
                # a floor bridge's range is about half a thrust's: so is a visible tilt
                t_lo, t_hi, t_ok = (6.0, 8.0, 1.2) if floor else (7.0, 12.0, 1.8)
                tilt = (
                    tilt_sign * rng.uniform(t_lo, t_hi) * _DEG if tilted else rng.uniform(-t_ok, t_ok) * _DEG
                )
                wob = rng.uniform(-0.6, 0.6) * _DEG
            else:
                tilt = rng.uniform(-1.5, 1.5) * _DEG
                wob = rng.uniform(-1.5, 1.5) * _DEG
            on = {"partial_rom": partial, "rushed_lowering": rushed, "short_hold": short, "hip_tilt": tilted}
            inj = tuple(f for f in FAULTS if on[f] and f in flags)
            reps.append(
                _RepPlan(
                    bottom=bottom,
                    rom=rom,
                    next_bottom=nb,
                    conc_m=conc_m,
                    hold_m=hold_m,
                    ecc_m=ecc_m,
                    pause_m=pause,
                    a_c=a_c,
                    a_e=a_e,
                    e0=e0,
                    tilt=tilt,
                    wob=wob,
                    injected=inj,
                )
            )
            bottom = nb
        reps[-1].pause_m = rng.uniform(1.0, 3.0)  # still at the bottom after the last rep
        geo["roll0"] = rng.uniform(-2.0, 2.0) * _DEG if self.hip else rng.uniform(-3.0, 3.0) * _DEG
        geo["pre"] = rng.uniform(0.2, 0.5) if rng.random() < 0.15 else rng.uniform(1.5, 4.0)
        return _SetPlan(index=index, side=side, mount=mount, theta_b=theta_b, reps=reps), geo

    def plan_lift_set(
        self, index: int, side: str, mount: Rotation, geo: dict[str, float], theta_b: float, rom: float
    ) -> tuple[_SetPlan, dict[str, float]]:
        """A glute bridge with leg lift: rise, hold with alternating lifts, lower (one 'rep')."""
        rng = self.rng
        s = self.s
        n_side = int(rng.integers(s.reps_per_set[0], s.reps_per_set[1] + 1))
        other = "left" if side == "right" else "right"
        order = [side if k % 2 == 0 else other for k in range(2 * n_side)]
        n = len(order)
        allowed = [f for f in ("hip_tilt", "rushed_lowering", "short_hold") if f in s.faults]
        if not self.hip:  # pelvic rotation is not seen from a thigh
            allowed = [f for f in allowed if f != "hip_tilt"]
        flags = {f: _capped_flags(rng, n, s.fault_probability, int(math.floor(0.35 * n))) for f in allowed}
        no = np.zeros(n, dtype=bool)
        lifts: list[_LiftPlan] = []
        cur = rng.uniform(1.0, 2.0)  # settle into the bridge before the first lift
        for k, lside in enumerate(order):
            tilted = bool(flags.get("hip_tilt", no)[k])
            rushed = bool(flags.get("rushed_lowering", no)[k])
            short = bool(flags.get("short_hold", no)[k])
            up = rng.uniform(0.5, 0.9)
            hold = rng.uniform(0.0, 0.15) if short else rng.uniform(1.0, 1.8)
            down = rng.uniform(0.2, 0.45) if rushed else rng.uniform(1.0, 1.6)
            # the pelvis rolls towards the unsupported (lifted) side: that side drops
            drop = rng.uniform(4.0, 7.0) if tilted else rng.uniform(1.0, 2.3)
            sgn = -1.0 if lside == "right" else 1.0  # roll > 0 raises the right side
            roll = sgn * drop * _DEG
            wob = rng.uniform(-1.0, 1.0) * (2.0 if tilted else 0.5) * _DEG
            dip = -rng.uniform(0.3, 1.5) * _DEG  # the hips sag a little on one leg
            flex = rng.uniform(10.0, 22.0) * _DEG  # thigh flexion of the lifted leg
            inj = tuple(
                f
                for f, on in (("hip_tilt", tilted), ("rushed_lowering", rushed), ("short_hold", short))
                if on
            )
            lifts.append(_LiftPlan(lside, cur, up, hold, down, roll, wob, dip, flex, inj))
            cur += up + hold + down + rng.uniform(0.8, 2.0)
        bridge = _RepPlan(
            bottom=theta_b,
            rom=rom,
            next_bottom=theta_b + rng.uniform(-0.3, 0.3) * _DEG,
            conc_m=rng.uniform(1.2, 2.0),
            hold_m=cur,
            ecc_m=rng.uniform(1.5, 3.0),
            pause_m=rng.uniform(3.0, 5.0),  # lying a few seconds after the drill
            a_c=3.0,
            a_e=3.0,
            e0=2.0,
            tilt=rng.uniform(-0.5, 0.5) * _DEG,
            wob=rng.uniform(-0.3, 0.3) * _DEG,
            injected=(),
        )
        geo["roll0"] = rng.uniform(-2.0, 2.0) * _DEG if self.hip else rng.uniform(-3.0, 3.0) * _DEG
        geo["pre"] = rng.uniform(1.5, 4.0)
        sp = _SetPlan(index=index, side=side, mount=mount, theta_b=theta_b, reps=[bridge], lifts=lifts)
        return sp, geo

    def set_pose(
        self, geo: dict[str, float], h: float, theta: _Arr, roll: _Arr, wob: _Arr, u: _Arr
    ) -> tuple[_Arr, _Arr]:
        """Anchor position (n,3) and angles (n,4) on the bench for sagittal angle θ (rad)."""
        hh = np.full(theta.shape, h)
        flex = (0.5 * math.pi + theta) if self.hip else (0.5 * math.pi - theta)
        R = _orient(hh, flex, roll, wob)
        z = R.as_matrix()[:, :, 2]
        if self.hip:
            H = np.array([geo["px"], geo["py"], geo["pivot_z"]])[None, :] - geo["L"] * z
        else:
            _, fwd = _heading_dirs(hh)
            K = np.array([geo["kx"], geo["ky"], geo["knee_z"]])[None, :] + 0.015 * u[:, None] * fwd
            H = K + geo["L"] * z
        return H, np.column_stack([hh, flex, roll, wob])

    def place_set(self, geo: dict[str, float], h: float, theta_b: float, near: _State) -> _State:
        """Fix the bench geometry so that the start position sits near ``near``; return it."""
        flex = (0.5 * math.pi + theta_b) if self.hip else (0.5 * math.pi - theta_b)
        rot = _orient(np.array([h]), np.array([flex]), np.array([geo["roll0"]]), np.array([0.0]))
        z = rot.as_matrix()[0, :, 2]
        if self.hip:
            geo["px"], geo["py"] = near.H[0] + geo["L"] * z[0], near.H[1] + geo["L"] * z[1]
        else:
            geo["kx"], geo["ky"] = near.H[0] - geo["L"] * z[0], near.H[1] - geo["L"] * z[1]
        H, ang = self.set_pose(
            geo, h, np.array([theta_b]), np.array([geo["roll0"]]), np.array([0.0]), np.array([0.0])
        )
        return _State(H=H[0], h=h, flex=float(ang[0, 1]), roll=geo["roll0"], wob=0.0)

    def do_set(self, sp: _SetPlan, geo: dict[str, float], h: float) -> None:
        """The set: still start position, reps, still bottom (kind ``set``)."""
        t_a = self.tau
        sp.i_still = self.n - 1
        sp.t_still = t_a
        # knot times relative to t_a
        cur = geo["pre"]
        for r in sp.reps:
            r.onset = t_a + cur
            cur += r.conc_m + r.hold_m + r.ecc_m + r.pause_m
        n = self._steps(cur)
        tl = np.arange(1, n + 1) * self.dt
        ta = t_a + tl
        theta = np.full(n, sp.reps[0].bottom)
        u = np.zeros(n)
        roll = np.full(n, geo["roll0"])
        wob = np.zeros(n)
        for r in sp.reps:
            t1 = r.onset + r.conc_m
            t2 = t1 + r.hold_m
            t3 = t2 + r.ecc_m
            t4 = t3 + r.pause_m
            i0, i1, i2, i3, i4 = np.searchsorted(ta, [r.onset, t1, t2, t3, t4])
            top = r.bottom + r.rom
            sc = (ta[i0:i1] - r.onset) / r.conc_m
            fc = betainc(r.a_c, 2.0, np.clip(sc, 0, 1))
            theta[i0:i1] = r.bottom + r.rom * fc
            u[i0:i1] = fc
            theta[i1:i2] = top
            u[i1:i2] = 1.0
            se = (ta[i2:i3] - t2) / r.ecc_m
            fe = betainc(r.e0, r.a_e, np.clip(se, 0, 1))
            theta[i2:i3] = top - (top - r.next_bottom) * fe
            u[i2:i3] = 1.0 - fe
            theta[i3:i4] = r.next_bottom
            theta[i4:] = r.next_bottom
            uu = u[i0:i4]
            roll[i0:i4] = geo["roll0"] + r.tilt * uu * uu
            wob[i0:i4] = r.wob * uu
            self.ev.soft.append((r.onset, 0.5))
            self.ev.soft.append((t2, 0.4))
        if sp.lifts:
            t_hold = sp.reps[0].onset + sp.reps[0].conc_m
            for lf in sp.lifts:
                lf.onset = t_hold + lf.start
                t1 = lf.onset + lf.up_m
                t2 = t1 + lf.hold_m
                t3 = t2 + lf.down_m
                i0, i1, i2, i3 = np.searchsorted(ta, [lf.onset, t1, t2, t3])
                w = np.ones(i3 - i0)
                w[: i1 - i0] = _mj((ta[i0:i1] - lf.onset) / lf.up_m)
                w[i2 - i0 :] = 1.0 - _mj((ta[i2:i3] - t2) / lf.down_m)
                if self.hip:
                    roll[i0:i3] += lf.roll * w
                    wob[i0:i3] += lf.wob * w
                    theta[i0:i3] += lf.dip * w
                elif lf.side == sp.side:  # the sensor's thigh is lifted (hip flexion: θ falls)
                    theta[i0:i3] -= lf.flex * w
                    roll[i0:i3] += 0.1 * lf.roll * w
                else:  # the other foot is lifted: the sensor's thigh only takes the load
                    roll[i0:i3] += 0.15 * lf.roll * w
                self.ev.soft.append((lf.onset, 0.15))
        H, ang = self.set_pose(geo, h, theta, roll, wob, u)
        self._push(H, ang)
        sp.i_end = self.n - 1
        sp.t_end = self.tau
        self._act("set", t_a, self.tau)

    # ---- the whole session ---------------------------------------------------------------
    def run(self) -> None:
        s = self.s
        rng = self.rng
        sides = [s.sides[i % len(s.sides)] for i in range(s.n_sets)]
        mount = Rotation.random(random_state=rng)
        lever = self._lever(sides[0])
        self.mount_keys.append((0, mount))
        self.lever_keys.append((0, lever))
        if not self.hip:
            self.lat = (1.0 if sides[0] == "right" else -1.0) * 0.09
        if s.pre_activity:
            self.still(rng.uniform(3.0, 6.0))
            self.walk(rng.uniform(10.0, 20.0))
            self.still(rng.uniform(2.0, 4.0))
        seated = False
        for i, side in enumerate(sides):
            sp, geo = self.plan_set(i + 1, side, mount)
            h_bench = self.state.h
            if s.pre_activity and not seated:  # turn around to sit down in front of the bench
                h_bench += rng.uniform(0.7, 1.3) * math.pi
            if not s.pre_activity and i == 0:
                start = self.place_set(geo, h_bench, sp.theta_b, self.state)
                # begin the recording directly in the start position
                self.H[0][0] = start.H
                self.ang[0][0] = [start.h, start.flex, start.roll, start.wob]
                self.state = start
            elif seated:
                start = self.place_set(geo, h_bench, sp.theta_b, self.state)
                self.move([(start, rng.uniform(1.2, 2.2))], jolts=(0.5,))
            elif s.pre_activity:
                seat = self.seated_floor(self.state, h_bench)
                start = self.place_set(geo, h_bench, sp.theta_b, seat)
                turned = self.state.copy()
                turned.h = h_bench
                mid = self.mid_squat(turned, seat)
                self.move(
                    [
                        (turned, rng.uniform(1.8, 2.6)),
                        (mid, rng.uniform(0.9, 1.4)),
                        (seat, rng.uniform(0.8, 1.2)),
                        (start, rng.uniform(1.0, 1.6)),
                    ],
                    jolts=(2.85, 3.55),
                )
            else:  # no pre-activity, later set: adjust into the new start position while lying
                start = self.place_set(geo, h_bench, sp.theta_b, self.state)
                self.move([(start, rng.uniform(1.5, 2.5))])
            self.do_set(sp, geo, h_bench)
            self.sets.append(sp)
            last = i == len(sides) - 1
            next_side = None if last else sides[i + 1]
            seated = False
            if not s.pre_activity:
                if not last:
                    t_r = self.tau
                    self.still(rng.uniform(6.0, 12.0), kind="sitting", sway=0.3)
                    if not self.hip and next_side != side:
                        mount, lever = self._restrap(mount, str(next_side))
                    self._rest_mark(t_r)
                continue
            t_r = self.tau
            if last:
                self._get_up()
                self.still(rng.uniform(2.0, 5.0))
                self.walk(rng.uniform(4.0, 10.0))
                self.still(rng.uniform(2.0, 4.0))
                break
            rest_total = rng.uniform(30.0, 60.0) if rng.random() < 0.8 else rng.uniform(60.0, 90.0)
            must_stand = (not self.hip) and next_side != side
            if not must_stand and rng.random() < 0.4:
                # sit up and rest on the floor, back against the bench
                seat = self.seated_floor(self.state, self.state.h)
                self.move([(seat, rng.uniform(1.5, 2.5))], jolts=(0.7,))
                remain = max(8.0, rest_total - (self.tau - t_r) - 2.0)
                if rng.random() < 0.6:
                    a = rng.uniform(0.3, 0.6) * remain
                    self.still(a, kind="sitting", sway=0.6)
                    self._fidget()
                    self.still(max(2.0, remain - a - 3.0), kind="sitting", sway=0.6)
                else:
                    self.still(remain, kind="sitting", sway=0.6)
                seated = True
            else:
                self._get_up()
                self.still(rng.uniform(2.0, 6.0))
                if must_stand:
                    mount, lever = self._restrap(mount, str(next_side))
                    self.still(rng.uniform(1.0, 3.0))
                used = self.tau - t_r
                if rest_total - used > 18.0 and rng.random() < 0.7:
                    self.walk(min(25.0, rng.uniform(10.0, rest_total - used - 6.0)))
                self.still(max(2.0, rest_total - (self.tau - t_r) - 4.0))
            self._rest_mark(t_r)

    def _rest_mark(self, t_r: float) -> None:
        # the rest spans until the next set's still start (fixed up in kinematics())
        self.acts.append({"kind": "rest", "start_s": t_r, "end_s": None})

    def _get_up(self) -> None:
        seat = self.seated_floor(self.state, self.state.h)
        stand = self.standing_pose(seat)
        mid = self.mid_squat(seat, stand)
        self.move(
            [
                (seat, self.rng.uniform(0.8, 1.4)),
                (mid, self.rng.uniform(0.8, 1.2)),
                (stand, self.rng.uniform(0.8, 1.2)),
            ],
            jolts=(0.6,),
        )

    def _fidget(self) -> None:
        rng = self.rng
        st = self.state
        _, fwd = _heading_dirs(np.array([st.h]))
        lat, _ = _heading_dirs(np.array([st.h]))
        up = st.copy()
        up.H = st.H + np.array([0, 0, rng.uniform(0.04, 0.09)]) + lat[0] * rng.uniform(-0.05, 0.05)
        up.flex = st.flex + (1 if self.hip else -1) * rng.uniform(5, 12) * _DEG
        up.h = st.h + rng.uniform(-0.15, 0.15)
        up.roll = st.roll + rng.uniform(-4, 4) * _DEG
        down = st.copy()
        down.H = st.H + fwd[0] * rng.uniform(-0.12, 0.12) + lat[0] * rng.uniform(-0.06, 0.06)
        down.flex = st.flex + rng.uniform(-5, 5) * _DEG
        down.h = st.h + rng.uniform(-0.2, 0.2)
        down.roll = rng.uniform(-2, 2) * _DEG
        self.move([(up, rng.uniform(0.6, 1.0)), (down, rng.uniform(0.7, 1.2))], kind="fidget", jolts=(1.8,))

    def _restrap(self, mount: Rotation, side: str) -> tuple[Rotation, _Arr]:
        """Thigh: move the sensor to the other thigh (new random mounting, mirrored side)."""
        rng = self.rng
        new_mount = Rotation.random(random_state=rng)
        new_lever = self._lever(side)
        i0 = self.n - 1
        dur = rng.uniform(4.0, 7.0)
        new_lat = (1.0 if side == "right" else -1.0) * 0.09
        lat_dir, _ = _heading_dirs(np.array([self.state.h]))
        target = self.state.copy()
        target.H = self.state.H + (new_lat - self.lat) * lat_dir[0]
        self.lat = new_lat
        self.move([(target, dur)], kind="transition")
        i1 = self.n - 1
        mid = mount * Rotation.from_rotvec(rng.normal(0, 0.5, 3))
        self.mount_keys.append((i0, mount))
        self.mount_keys.append(((i0 + i1) // 2, mid))  # handling waypoint
        self.mount_keys.append((i1, new_mount))
        self.lever_keys.append((i0, self.lever_keys[-1][1]))
        self.lever_keys.append((i1, new_lever))
        return new_mount, new_lever

    # ---- assembly ------------------------------------------------------------------------
    def kinematics(self) -> _Kin:
        """Assemble the fine-grid kinematics and the ideal sensor signals."""
        dt = self.dt
        H = np.concatenate(self.H, axis=0)
        ang = np.concatenate(self.ang, axis=0)
        n = H.shape[0]
        t = np.arange(n) * dt
        # fix up open "rest" activities: they end where the next set's still position starts
        starts = [a["start_s"] for a in self.acts if a["kind"] == "set"]
        for a in self.acts:
            if a["end_s"] is None:
                later = [s for s in starts if s > a["start_s"]]
                a["end_s"] = later[0] if later else t[-1]
        R_ws = _orient(ang[:, 0], ang[:, 1], ang[:, 2], ang[:, 3])
        # world-frame transients (heel strikes, jolts): displacement with peak acceleration = |amp|
        for tj, amp, f, td in self.ev.jolts:
            i0 = max(0, int(tj / dt))
            i1 = min(n, i0 + int(20 * td / dt) + 2)
            H[i0:i1] += _unit_acc_shape(t[i0:i1] - tj, f, td, dt)[:, None] * amp[None, :]
        # sensor mounting and lever arm (piecewise constant, slerp / min-jerk during re-strapping)
        mount_q = np.empty((n, 4))
        lever = np.empty((n, 3))
        self._fill_mount(mount_q, lever)
        R_mount = Rotation.from_quat(mount_q)
        # soft-tissue wobble (segment frame): small rotation + displacement
        soft_rv = np.zeros((n, 3))
        soft_d = np.zeros((n, 3))
        if self.s.noise and self.s.soft_tissue:
            rng = self.rng
            for ts, scale in self.ev.soft:
                f = rng.uniform(8.0, 15.0)
                td = rng.uniform(0.02, 0.05)
                i0 = max(0, int(ts / dt))
                i1 = min(n, i0 + int(20 * td / dt) + 2)
                shp = _transient(t[i0:i1] - ts, f, td)
                ax = rng.normal(size=3)
                ax /= np.linalg.norm(ax)
                soft_rv[i0:i1] += (scale * rng.uniform(0.4, 1.5) * _DEG * shp)[:, None] * ax
                dv = rng.normal(size=3)
                dv /= np.linalg.norm(dv)
                a_pk = scale * rng.uniform(0.5, 2.0)
                soft_d[i0:i1] += (a_pk * _unit_acc_shape(t[i0:i1] - ts, f, td, dt))[:, None] * dv
        R_sensor = R_ws * Rotation.from_rotvec(soft_rv) * R_mount
        p = H + R_ws.apply(lever + soft_d)
        acc_w = np.empty_like(p)
        acc_w[1:-1] = (p[2:] - 2.0 * p[1:-1] + p[:-2]) / (dt * dt)
        acc_w[0] = acc_w[1]
        acc_w[-1] = acc_w[-2]
        acc_w[:, 2] += _G
        acc_s = R_sensor.inv().apply(acc_w)
        gyr_mid = (R_sensor[:-1].inv() * R_sensor[1:]).as_rotvec() / dt
        m = R_ws.as_matrix()
        zz = np.clip(m[:, 2, 2], -1.0, 1.0)
        theta = np.arcsin(-zz) if self.hip else np.arcsin(zz)
        ml = np.arcsin(np.clip(m[:, 2, 0], -1.0, 1.0))
        return _Kin(t=t, R_ws=R_ws, acc_s=acc_s, gyr_mid=gyr_mid, theta=theta, ml_elev=ml)

    def _fill_mount(self, mount_q: _Arr, lever: _Arr) -> None:
        keys = self.mount_keys
        mount_q[:] = keys[0][1].as_quat()
        lever[:] = self.lever_keys[0][1]
        if len(keys) == 1:
            return
        # keys after the first come in triples (start, waypoint, end) per re-strap
        for j in range(1, len(keys), 3):
            (i0, r0), (im, rm), (i1, r1) = keys[j], keys[j + 1], keys[j + 2]
            for a, ra, bb, rb in ((i0, r0, im, rm), (im, rm, i1, r1)):
                idx = np.arange(a, bb + 1)
                w = _mj((idx - a) / max(1, bb - a))
                sl = Slerp([0.0, 1.0], Rotation.concatenate([ra, rb]))
                mount_q[a : bb + 1] = sl(w).as_quat()
            mount_q[i1 + 1 :] = r1.as_quat()
        for j in range(1, len(self.lever_keys), 2):
            (i0, l0), (i1, l1) = self.lever_keys[j], self.lever_keys[j + 1]
            w = _mj((np.arange(i0, i1 + 1) - i0) / max(1, i1 - i0))[:, None]
            lever[i0 : i1 + 1] = l0[None, :] + w * (l1 - l0)[None, :]
            lever[i1 + 1 :] = l1


# --------------------------------------------------------------------------------------------
# truth
# --------------------------------------------------------------------------------------------


def _cross_up(t: _Arr, y: _Arr, i: int, level: float) -> float:
    """Linear crossing time between samples i-1 and i (y[i-1] < level <= y[i])."""
    y0, y1 = y[i - 1], y[i]
    return float(t[i - 1] + (level - y0) / (y1 - y0) * (t[i] - t[i - 1])) if y1 != y0 else float(t[i])


def _cross_after(t: _Arr, y: _Arr, i: int, level: float) -> float:
    """Linear crossing time between samples i and i+1 (level crossed right after i)."""
    y0, y1 = y[i], y[i + 1]
    return float(t[i] + (level - y0) / (y1 - y0) * (t[i + 1] - t[i])) if y1 != y0 else float(t[i])


def _rep_truth(t: _Arr, th: _Arr, i_on: int, i_stop: int) -> dict[str, Any]:
    """Phase times (s, from recording start) and ROM of one rep, product definitions."""
    bottom = float(th[i_on])
    win = th[i_on:i_stop]
    i_top = i_on + int(np.argmax(win))
    top = float(th[i_top])
    rom = top - bottom
    lo = bottom + _THRESH * rom
    hi = top - _THRESH * rom
    below = np.flatnonzero(th[i_on:i_top] <= lo)
    i_s = i_on + int(below[-1])
    start = _cross_after(t, th, i_s, lo)
    above = np.flatnonzero(win >= hi)
    i_ts = i_on + int(above[0])
    top_start = _cross_up(t, th, i_ts, hi) if i_ts > i_on else float(t[i_ts])
    i_te = i_on + int(above[-1])
    top_end = _cross_after(t, th, i_te, hi)
    after = np.flatnonzero(th[i_te:i_stop] <= lo)
    if after.size == 0:  # pragma: no cover - prevented by construction
        raise RuntimeError("simulated rep does not return to its bottom")
    i_e = i_te + int(after[0])
    end = _cross_up(t, -th, i_e, -lo)
    return {
        "start": start,
        "top_start": top_start,
        "top_end": top_end,
        "end": end,
        "rom": rom,
        "bottom": bottom,
        "top": top,
    }


def _lift_set_truth(sp: _SetPlan, kin: _Kin, t0: float, hip: bool) -> dict[str, Any]:
    """Truth of a glute bridge with leg lift: the lifts are the reps (product definitions of
    :mod:`imurep.lifts`, band :data:`_LIFT_BAND` of the peak).

    Hip: the lift signal is the pelvis deviation from its posture right before the lift,
    ``hypot(roll, yaw)`` (roll: change of the medio-lateral axis elevation; yaw: rotation about the
    vertical), ``rom_deg`` the bridge height (θ before the lift minus θ at rest before the bridge)
    and ``peak_tilt_deg`` the deviation's peak.  Thigh: only lifts of the sensor's leg, signal =
    thigh flexion from the posture before the lift, ``rom_deg`` its peak.
    """
    t, th = kin.t, kin.theta
    bridge = sp.reps[0]
    theta_floor = float(th[int(np.searchsorted(t, bridge.onset))])
    bounds = [lf.onset for lf in sp.lifts[1:]] + [bridge.onset + bridge.conc_m + bridge.hold_m]
    reps_out: list[dict[str, Any]] = []
    for lf, t_next in zip(sp.lifts, bounds, strict=True):
        if not hip and lf.side != sp.side:
            continue
        i_ref = int(np.searchsorted(t, lf.onset))
        i_stop = int(np.searchsorted(t, t_next))
        if hip:
            roll = kin.ml_elev[i_ref:i_stop] - kin.ml_elev[i_ref]
            rel = kin.R_ws[i_ref + 1 : i_stop] * kin.R_ws[i_ref : i_stop - 1].inv()
            yaw = np.concatenate(([0.0], np.cumsum(rel.as_rotvec()[:, 2])))
            sig = np.hypot(roll, yaw)
        else:
            sig = th[i_ref] - th[i_ref:i_stop]
        tw = t[i_ref:i_stop]
        peak = float(np.max(sig))
        i_pk = int(np.argmax(sig))
        lo, hi = _LIFT_BAND * peak, (1.0 - _LIFT_BAND) * peak
        i_s = int(np.flatnonzero(sig[: i_pk + 1] <= lo)[-1])
        start = _cross_after(tw, sig, i_s, lo)
        above = np.flatnonzero(sig >= hi)
        top_start = _cross_up(tw, sig, int(above[0]), hi)
        top_end = _cross_after(tw, sig, int(above[-1]), hi)
        i_e = int(above[-1]) + int(np.flatnonzero(sig[int(above[-1]) :] <= lo)[0])
        end = _cross_up(tw, -sig, i_e, -lo)
        hold, down = top_end - top_start, end - top_end
        tilt = peak / _DEG if hip else None
        rom = (float(th[i_ref]) - theta_floor) / _DEG if hip else peak / _DEG
        faults = [
            code
            for code, on in (
                ("hip_tilt", tilt is not None and tilt > _LIFT_TILT_LIMIT_DEG),
                ("rushed_lowering", down < _LIFT_DOWN_MIN_S),
                ("short_hold", hold < _LIFT_HOLD_MIN_S),
            )
            if on
        ]
        reps_out.append(
            {
                "index": len(reps_out) + 1,
                "side": lf.side,
                "start_s": t0 + start,
                "top_start_s": t0 + top_start,
                "top_end_s": t0 + top_end,
                "end_s": t0 + end,
                "concentric_s": top_start - start,
                "top_hold_s": hold,
                "eccentric_s": down,
                "rom_deg": rom,
                "peak_tilt_deg": tilt,
                "faults": faults,
                "injected_faults": list(lf.injected),
            }
        )
    return {
        "index": sp.index,
        "side": None if hip else sp.side,
        "exercise": "leg_lift",
        "start_s": reps_out[0]["start_s"],
        "end_s": reps_out[-1]["end_s"],
        "bridge_start_s": t0 + bridge.onset,
        "bridge_end_s": t0 + bridge.onset + bridge.conc_m + bridge.hold_m + bridge.ecc_m,
        "mounting_quat_xyzw": [float(v) for v in sp.mount.as_quat()],
        "baseline_tilt_deg": None,
        "reps": reps_out,
    }


def _truth(settings: SimSettings, b: _Builder, kin: _Kin, t0: float) -> dict[str, Any]:
    t = kin.t
    th = kin.theta
    hip = settings.placement == "hip"
    sets_out: list[dict[str, Any]] = []
    for sp in b.sets:
        if sp.lifts:
            sets_out.append(_lift_set_truth(sp, kin, t0, hip))
            continue
        onsets = [int(np.searchsorted(t, r.onset)) for r in sp.reps]
        stops = onsets[1:] + [sp.i_end + 1]
        raw = [_rep_truth(t, th, max(0, i0 - 1), i1) for i0, i1 in zip(onsets, stops, strict=True)]
        med = float(np.median([x["rom"] for x in raw]))
        base = float(kin.ml_elev[sp.i_still]) if hip else None
        reps_out = []
        for k, x in enumerate(raw):
            conc = x["top_start"] - x["start"]
            hold = x["top_end"] - x["top_start"]
            ecc = x["end"] - x["top_end"]
            peak: float | None = None
            if hip and base is not None:
                i_a = int(np.searchsorted(t, x["start"]))
                i_b = int(np.searchsorted(t, x["end"], side="right"))
                peak = float(np.max(np.abs(kin.ml_elev[i_a:i_b] - base)) / _DEG)
            rom_deg = x["rom"] / _DEG
            faults = []
            if peak is not None and peak > _TILT_LIMIT_DEG:
                faults.append("hip_tilt")
            if ecc < _ECC_MIN_S:
                faults.append("rushed_lowering")
            if hold < _HOLD_MIN_S:
                faults.append("short_hold")
            if x["rom"] < _PARTIAL_FRACTION * med:
                faults.append("partial_rom")
            faults = [f for f in FAULTS if f in faults]
            reps_out.append(
                {
                    "index": k + 1,
                    "start_s": t0 + x["start"],
                    "top_start_s": t0 + x["top_start"],
                    "top_end_s": t0 + x["top_end"],
                    "end_s": t0 + x["end"],
                    "concentric_s": conc,
                    "top_hold_s": hold,
                    "eccentric_s": ecc,
                    "rom_deg": rom_deg,
                    "peak_tilt_deg": peak,
                    "faults": faults,
                    "bottom_deg": x["bottom"] / _DEG,
                    "top_deg": x["top"] / _DEG,
                    "injected_faults": list(sp.reps[k].injected),
                }
            )
        sets_out.append(
            {
                "index": sp.index,
                "side": sp.side,
                "start_s": reps_out[0]["start_s"],
                "end_s": reps_out[-1]["end_s"],
                "mounting_quat_xyzw": [float(v) for v in sp.mount.as_quat()],
                "baseline_tilt_deg": (base / _DEG) if base is not None else None,
                "reps": reps_out,
            }
        )
    acts = sorted(
        (
            {"kind": a["kind"], "start_s": t0 + float(a["start_s"]), "end_s": t0 + float(a["end_s"])}
            for a in b.acts
        ),
        key=lambda a: (a["start_s"], a["kind"] == "rest"),
    )
    return {
        "schema": TRUTH_SCHEMA,
        "seed": int(settings.seed),
        "placement": settings.placement,
        "sample_rate_hz": float(settings.sample_rate_hz),
        "exercise": settings.exercise,
        "t0_s": t0,
        "sets": sets_out,
        "activities": acts,
    }


# --------------------------------------------------------------------------------------------
# sampling and sensor imperfections
# --------------------------------------------------------------------------------------------


def _interp3(x: _Arr, xp: _Arr, fp: _Arr) -> _Arr:
    return np.column_stack([np.interp(x, xp, fp[:, k]) for k in range(3)])


def _sample(settings: SimSettings, rng: np.random.Generator, kin: _Kin, t0: float) -> tuple[_Arr, _Arr, _Arr]:
    rate = float(settings.sample_rate_hz)
    noise = settings.noise
    eps = rng.uniform(-0.005, 0.005) if noise else 0.0
    f_act = rate * (1.0 + eps)
    t_end = float(kin.t[-1])
    dt_f = float(kin.t[1] - kin.t[0])
    n = int(math.floor((t_end - dt_f) * f_act)) + 1
    tau = np.arange(n) / f_act
    acc = _interp3(tau, kin.t, kin.acc_s)
    gyr = _interp3(tau, kin.t[:-1] + 0.5 * dt_f, kin.gyr_mid)
    ts = t0 + tau
    if noise:
        # gyro: scale, bias + random-walk drift, white noise
        g_scale = 1.0 + rng.uniform(-0.02, 0.02, 3)
        g_bias = rng.uniform(-1.0, 1.0, 3) * settings.gyro_bias_max_dps * _DEG
        drift = np.cumsum(rng.normal(0.0, 0.3 * _DEG / math.sqrt(n), (n, 3)), axis=0)
        gyr = gyr * g_scale + g_bias + drift + rng.normal(0.0, 0.01, (n, 3))
        a_scale = 1.0 + rng.uniform(-0.02, 0.02, 3)
        a_bias = rng.uniform(-0.1, 0.1, 3)
        acc = acc * a_scale + a_bias + rng.normal(0.0, 0.05, (n, 3))
        a_lsb = 32.0 * _G / 65536.0
        g_lsb = 4000.0 * _DEG / 65536.0
        acc = np.clip(np.round(acc / a_lsb), -32768, 32767) * a_lsb
        gyr = np.clip(np.round(gyr / g_lsb), -32768, 32767) * g_lsb
        ts = ts + rng.uniform(-0.1, 0.1, n) / f_act
        keep = rng.random(n) >= settings.drop_probability
        for _ in range(int(rng.integers(1, 4))):
            ln = int(rng.integers(5, 51))
            a = int(rng.integers(1, max(2, n - ln - 1)))
            keep[a : a + ln] = False
        keep[0] = True
        ts, acc, gyr = ts[keep], acc[keep], gyr[keep]
    return ts.astype(np.float64), np.ascontiguousarray(acc), np.ascontiguousarray(gyr)


__all__ = [
    "TRUTH_SCHEMA",
    "SimRecording",
    "SimSettings",
    "parse_faults",
    "simulate",
]
