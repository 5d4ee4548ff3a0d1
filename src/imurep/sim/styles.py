"""The style space: every way a set of hip thrusts is really done, drawn as per-set parameters.

A *style* fixes everything the lifter and the sensor do in one recording before it is simulated
by :mod:`imurep.sim.style_motion` (the body), :mod:`imurep.sim.style_sensor` (the IMU) and
:func:`imurep.sim.style_recording.simulate_style`.  It is a second, independent model of the
movement next to :mod:`imurep.sim.plans` (different trajectory shapes, noise and jitter), so that
the analysis is not tuned to one model.

:class:`StyleSpace` holds the bounds of the whole space (issue 12): lifting 0.2-4 s, squeeze
0-5 s, lowering 0.3-6 s, bottom pause 0-5 s (0 = touch-and-go), 1-30 reps per set, fatigue
(tempo slowing, range shrinking, tilt growing over the set), ROM 12-70° (pelvis and thigh),
partial reps down to 35 % of the set's range, both legs, two-leg thrusts, floor bridges,
25-400 Hz with the sensor's own low-pass filter, gyro bias up to 5 °/s, a strap slipping 8-15°
mid-set, lever arms, soft-tissue wobble and the non-rep motion around the sets.

:func:`draw_style` draws one recording's style for a *family* (:data:`FAMILIES`): a region of
the space (``"mixed"`` draws from all of it).  Values that decide a fault are drawn with a margin
around the fault rule (:data:`FAULT_MARGIN`), so the truth is not decided by a hair.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from imurep.model.errors import SettingsError
from imurep.sim.definitions import ECCENTRIC_MIN_S, HOLD_MIN_S, TILT_LIMIT_DEG

FAMILIES = (
    "ordinary",
    "explosive",
    "slow_pause",
    "touch_and_go",
    "partial",
    "fatigue",
    "floor_bridge",
    "two_leg",
    "strap_slip",
    "noisy_motion",
    "mixed",
)
"""Style families, each a region of :class:`StyleSpace` (``mixed``: the whole space)."""

RATE_BANDS = {"low": (25.0, 52.0), "mid": (52.0, 200.0), "high": (200.0, 400.0)}
"""Sample-rate bands, Hz (inclusive ranges a recording's nominal rate is drawn from)."""

AROUND_SET = ("walking", "sitting_down", "onto_bench", "restrap", "phone")
"""Non-rep activities drawn around the sets (:attr:`RecordingStyle.around`)."""

FAULT_MARGIN = 0.12
"""Relative margin around each fault threshold that fault-deciding values are kept out of."""

TWO_LEG_TILT_LIMIT_DEG = 4.0
"""``hip_tilt`` threshold of the two-leg profiles (``hip_thrust``, ``glute_bridge``)."""

EXERCISE_OF = {
    (False, False): "single_leg_hip_thrust",
    (False, True): "hip_thrust",
    (True, False): "single_leg_glute_bridge",
    (True, True): "glute_bridge",
}
"""Exercise profile of a set by (floor, two legs)."""


@dataclass(frozen=True)
class StyleSpace:
    """Bounds of the style space (all inclusive ranges ``(lo, hi)``).

    Durations are those of the rep's phases as the truth measures them (s), angles degrees.
    """

    lift_s: tuple[float, float] = (0.2, 4.0)
    squeeze_s: tuple[float, float] = (0.0, 5.0)
    lower_s: tuple[float, float] = (0.3, 6.0)
    pause_s: tuple[float, float] = (0.0, 5.0)
    reps: tuple[int, int] = (1, 30)
    rom_deg: tuple[float, float] = (12.0, 70.0)
    partial_min: float = 0.35
    """Smallest partial rep, fraction of the set's full range."""
    rate_hz: tuple[float, float] = (25.0, 400.0)
    gyro_bias_dps: float = 5.0
    """Largest gyro bias per axis, deg/s."""
    slip_deg: tuple[float, float] = (8.0, 15.0)
    lever_m: tuple[float, float] = (0.04, 0.16)
    """Distance of the sensor from the segment's axis point, m."""
    fatigue_slow: tuple[float, float] = (1.0, 1.8)
    """Lifting duration of the last rep over the first's (fatigue)."""
    fatigue_rom_loss: tuple[float, float] = (0.0, 0.25)
    """Range lost by the last rep, fraction (fatigue)."""
    fatigue_tilt_gain_deg: tuple[float, float] = (0.0, 6.0)
    """Tilt added by the last rep, degrees (fatigue)."""


SPACE = StyleSpace()
"""The default (whole) style space."""


@dataclass(frozen=True)
class RepStyle:
    """One rep.  Durations s (as the truth measures the phases), angles degrees."""

    lift_s: float
    squeeze_s: float
    lower_s: float
    pause_s: float
    """Still at the bottom after the rep, s (0: touch-and-go into the next rep)."""
    rom_deg: float
    partial: bool
    tilt_deg: float
    """Peak pelvis tilt (signed, + raises the right side) relative to the start position."""
    yaw_deg: float
    """Rotation about the vertical at the top (axis jitter), degrees."""
    sway_deg: float
    """Side-bend at the top (axis jitter), degrees."""
    lift_skew: float
    """Where the lifting speed peaks, fraction of the lift (0.3-0.7)."""
    lower_skew: float
    """Where the lowering speed peaks, fraction of the lowering (0.3-0.7)."""
    bottom_shift_deg: float
    """Change of the bottom angle after this rep, degrees (the lifter settles lower / higher)."""


@dataclass(frozen=True)
class StrapSlip:
    """The strap slips once in the set: the sensor turns on the segment."""

    rep: int
    """0-based rep during whose lowering (or, for the last, after which) the strap slips."""
    angle_deg: float
    axis: tuple[float, float, float]
    """Unit axis of the slip, segment frame (mostly the segment's long axis)."""
    duration_s: float


@dataclass(frozen=True)
class SetStyle:
    """One set."""

    side: str
    two_leg: bool
    floor: bool
    reps: tuple[RepStyle, ...]
    top_deg: float
    """θ at the top of a full rep (degrees; > 0 is over-extension)."""
    pivot_height_m: float
    """Shoulders (hip sensor; bench or floor) or knee (thigh sensor) height, m."""
    segment_length_m: float
    """Shoulders to hips (hip sensor) or knee to hip (thigh sensor), m."""
    still_before_s: float
    still_after_s: float
    touch_and_go: bool
    fatigue: float
    """0 (fresh) .. 1 (strong fatigue over the set)."""
    slip: StrapSlip | None

    @property
    def exercise(self) -> str:
        """The exercise profile of the set (see :data:`EXERCISE_OF`)."""
        return EXERCISE_OF[(self.floor, self.two_leg)]


@dataclass(frozen=True)
class SensorStyle:
    """The IMU and how it is worn."""

    lpf_fraction: float
    """Cut-off of the sensor's own low-pass filter, fraction of the output rate."""
    gyro_bias_dps: tuple[float, float, float]
    gyro_scale: tuple[float, float, float]
    acc_scale: tuple[float, float, float]
    misalignment_deg: float
    """Axis misalignment (cross-axis) of gyro and accelerometer, degrees."""
    gyro_noise_dps: float
    """White gyro noise at the output, deg/s RMS."""
    acc_noise_mps2: float
    bias_walk_dps: float
    """Gauss-Markov bias instability of the gyro, deg/s RMS."""
    clock_error: float
    """Relative clock error of the sample rate."""
    jitter: float
    """Timestamp jitter, fraction of the sample period."""
    packet_loss: float
    """Probability per packet (4 samples) of being lost."""
    lever_m: tuple[float, float, float]
    """Sensor position on the segment, segment frame, m."""
    tissue_hz: float
    tissue_damping: float
    tissue_gain: float
    """Soft-tissue wobble: natural frequency (Hz), damping ratio and rotational gain (rad per m/s²)."""


@dataclass(frozen=True)
class RecordingStyle:
    """One recording: the sets, the sensor and the motion around the sets."""

    family: str
    placement: str
    sample_rate_hz: float
    sets: tuple[SetStyle, ...]
    sensor: SensorStyle
    around: tuple[tuple[str, ...], ...]
    """Non-rep activities (:data:`AROUND_SET`) before each set and, last, after the last set."""

    @property
    def exercise(self) -> str:
        """The exercise profile of the recording (that of its first set)."""
        return self.sets[0].exercise


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def _log_u(rng: np.random.Generator, lo: float, hi: float) -> float:
    """Log-uniform in [lo, hi] (lo > 0)."""
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _off_threshold(x: float, threshold: float, margin: float = FAULT_MARGIN) -> float:
    """``x`` kept out of ``threshold`` ± ``margin`` (relative): a value inside is reflected at the
    nearer edge (so the values stay spread, not piled up on the edge)."""
    lo, hi = threshold * (1.0 - margin), threshold * (1.0 + margin)
    if lo < x <= threshold:
        return max(0.0, 2.0 * lo - x)
    if threshold < x < hi:
        return 2.0 * hi - x
    return x


@dataclass(frozen=True)
class _Tempo:
    """Ranges of a family's tempo and set, s / count / degrees."""

    lift: tuple[float, float]
    squeeze: tuple[float, float]
    lower: tuple[float, float]
    pause: tuple[float, float]
    reps: tuple[int, int]
    rom: tuple[float, float]
    partial_p: float = 0.06
    fatigue: tuple[float, float] = (0.0, 0.3)
    tilt_p: float = 0.2
    touch_p: float = 0.0


_PARTIAL_MAX = 0.6
"""Largest partial rep, fraction of the full range (the rule's 0.8 of a median that fatigue may
lower to 0.875 of the full range, less the margin)."""
_BENCH_ROM = (30.0, 62.0)
_FLOOR_ROM = (12.0, 30.0)
_TEMPO = {
    "ordinary": _Tempo((0.7, 2.0), (0.2, 2.5), (0.8, 3.0), (0.3, 2.0), (5, 15), _BENCH_ROM),
    "explosive": _Tempo((0.2, 0.5), (0.0, 1.5), (0.6, 4.0), (0.2, 1.5), (5, 15), _BENCH_ROM),
    "slow_pause": _Tempo((2.0, 4.0), (1.5, 5.0), (2.5, 6.0), (1.0, 5.0), (1, 6), _BENCH_ROM),
    "touch_and_go": _Tempo((0.4, 1.4), (0.0, 1.2), (0.3, 1.6), (0.0, 0.0), (8, 30), _BENCH_ROM, touch_p=1.0),
    "partial": _Tempo((0.6, 1.8), (0.2, 2.0), (0.8, 2.5), (0.3, 1.5), (6, 15), _BENCH_ROM, partial_p=0.3),
    "fatigue": _Tempo((0.6, 1.4), (0.3, 2.0), (0.8, 2.5), (0.2, 1.2), (12, 30), _BENCH_ROM, fatigue=(0.6, 1)),
    "floor_bridge": _Tempo((0.4, 1.8), (0.2, 2.5), (0.5, 2.5), (0.2, 2.0), (6, 20), _FLOOR_ROM),
    "two_leg": _Tempo((0.5, 2.0), (0.2, 2.5), (0.8, 3.0), (0.2, 2.0), (5, 15), (35.0, 65.0), tilt_p=0.1),
    "strap_slip": _Tempo((0.7, 2.0), (0.2, 2.5), (0.8, 3.0), (0.3, 2.0), (6, 15), _BENCH_ROM),
    "noisy_motion": _Tempo((0.7, 2.0), (0.2, 2.5), (0.8, 3.0), (0.3, 2.0), (5, 12), _BENCH_ROM),
    "mixed": _Tempo(
        SPACE.lift_s, SPACE.squeeze_s, SPACE.lower_s, SPACE.pause_s, SPACE.reps, (25.0, 70.0),
        partial_p=0.12, fatigue=(0.0, 1.0), touch_p=0.3,
    ),
}  # fmt: skip


def draw_style(
    rng: np.random.Generator,
    family: str,
    *,
    placement: str | None = None,
    sample_rate_hz: float | None = None,
    n_sets: int | None = None,
    space: StyleSpace = SPACE,
) -> RecordingStyle:
    """Draw the style of one recording of ``family``.

    Parameters
    ----------
    rng
        The random generator (draw order is part of the behaviour).
    family
        One of :data:`FAMILIES`.
    placement
        ``"hip"`` or ``"thigh"``; drawn when None.
    sample_rate_hz
        Nominal output rate, Hz (25-400); drawn log-uniformly from the space when None.
    n_sets
        Number of sets (1-3); drawn (1 or 2) when None.
    space
        The bounds.

    Raises
    ------
    SettingsError
        For an unknown family or a rate / set count outside the space.
    """
    if family not in FAMILIES:
        raise SettingsError(f"unknown style family {family!r}; expected one of {', '.join(FAMILIES)}")
    if placement is None:
        placement = "hip" if rng.random() < 0.5 else "thigh"
    if placement not in ("hip", "thigh"):
        raise SettingsError(f"placement must be 'hip' or 'thigh', got {placement!r}")
    lo, hi = space.rate_hz
    if sample_rate_hz is None:
        sample_rate_hz = _log_u(rng, lo, hi)
    if not lo <= float(sample_rate_hz) <= hi:
        raise SettingsError(f"sample rate must be in [{lo:g}, {hi:g}] Hz, got {sample_rate_hz!r}")
    if n_sets is None:
        n_sets = 1 + int(rng.random() < 0.5)
    if not 1 <= n_sets <= 3:
        raise SettingsError(f"n_sets must be 1..3, got {n_sets!r}")
    first_side = "left" if rng.random() < 0.5 else "right"
    floor = family == "floor_bridge" or (family == "mixed" and rng.random() < 0.2)
    two_leg = family == "two_leg" or (family in ("floor_bridge", "mixed") and rng.random() < 0.3)
    sets = []
    for k in range(n_sets):
        side = first_side if (k % 2 == 0 or rng.random() < 0.3) else _other(first_side)
        sets.append(
            draw_set_style(rng, family, placement == "hip", side, floor=floor, two_leg=two_leg, space=space)
        )
    sensor = _draw_sensor(rng, placement == "hip", sets[0].side, space)
    noisy = family == "noisy_motion"
    around = tuple(_draw_around(rng, noisy, k, n_sets) for k in range(n_sets + 1))
    return RecordingStyle(
        family=family,
        placement=placement,
        sample_rate_hz=float(sample_rate_hz),
        sets=tuple(sets),
        sensor=sensor,
        around=around,
    )


def _other(side: str) -> str:
    return "right" if side == "left" else "left"


def draw_set_style(
    rng: np.random.Generator,
    family: str,
    on_pelvis: bool,
    side: str,
    *,
    floor: bool,
    two_leg: bool,
    space: StyleSpace = SPACE,
) -> SetStyle:
    """Draw one set of ``family`` (see :func:`draw_style`) on the floor or a bench, with one or two
    legs working."""
    tempo = _TEMPO[family]
    touch = rng.random() < tempo.touch_p
    n = int(rng.integers(tempo.reps[0], tempo.reps[1] + 1))
    rom_range = _FLOOR_ROM if floor else tempo.rom
    rom_full = _u(rng, *rom_range)
    fatigue = _u(rng, *tempo.fatigue)
    slow_end = 1.0 + fatigue * (space.fatigue_slow[1] - 1.0) * _u(rng, 0.5, 1.0)
    rom_loss = fatigue * space.fatigue_rom_loss[1] * _u(rng, 0.4, 1.0)
    tilt_gain = fatigue * space.fatigue_tilt_gain_deg[1] * _u(rng, 0.3, 1.0) if on_pelvis else 0.0
    lift0 = _log_u(rng, *tempo.lift)
    squeeze0 = _u(rng, *tempo.squeeze)
    lower0 = _u(rng, *tempo.lower)
    pause0 = 0.0 if touch else _u(rng, *tempo.pause)
    tilt_limit = TWO_LEG_TILT_LIMIT_DEG if two_leg else TILT_LIMIT_DEG
    tilt_sign = 1.0 if rng.random() < 0.5 else -1.0
    # partial reps: a minority, so that the set's median range stays the full range
    n_partial_max = max(0, (n - 1) // 2 - 1) if n >= 4 else 0
    partial = rng.random(n) < tempo.partial_p
    if partial.sum() > n_partial_max:
        keep = rng.choice(np.flatnonzero(partial), size=n_partial_max, replace=False)
        partial = np.zeros(n, dtype=bool)
        partial[keep] = True
    reps = []
    for k in range(n):
        f = k / max(1, n - 1)  # progress through the set (fatigue grows with it)
        jit = np.exp(rng.normal(0.0, 0.08, 4))
        lift = float(np.clip(lift0 * (1.0 + (slow_end - 1.0) * f) * jit[0], *space.lift_s))
        squeeze = float(np.clip(squeeze0 * jit[1] * (1.0 - 0.5 * fatigue * f), *space.squeeze_s))
        lower = float(np.clip(lower0 * jit[2] * (1.0 - 0.3 * fatigue * f), *space.lower_s))
        pause = 0.0 if touch else float(np.clip(pause0 * jit[3], *space.pause_s))
        if family == "mixed" and rng.random() < 0.3:  # tempo changes within the set
            lift = _log_u(rng, *space.lift_s)
            lower = _u(rng, *space.lower_s)
        squeeze = _off_threshold(squeeze, HOLD_MIN_S)
        lower = _off_threshold(lower, ECCENTRIC_MIN_S)
        # partial: below the rule's fraction of the (fatigued) median by the margin
        frac = _u(rng, space.partial_min, _PARTIAL_MAX) if partial[k] else 1.0 - rom_loss * f
        rom = rom_full * frac if partial[k] else max(space.rom_deg[0], rom_full * frac)
        tilt = _u(rng, 0.2, 0.7 * tilt_limit) if on_pelvis else _u(rng, 0.0, 2.0)
        if on_pelvis and rng.random() < tempo.tilt_p:
            tilt = _u(rng, 1.3 * tilt_limit, 2.4 * tilt_limit)
        if two_leg:
            tilt *= 0.8
        tilt = tilt + tilt_gain * f
        if on_pelvis:
            tilt = _off_threshold(tilt, tilt_limit, 0.2)
        reps.append(
            RepStyle(
                lift_s=lift,
                squeeze_s=squeeze,
                lower_s=lower,
                pause_s=pause,
                rom_deg=rom,
                partial=bool(partial[k]),
                tilt_deg=tilt_sign * tilt if rng.random() < 0.85 else -tilt_sign * tilt,
                yaw_deg=float(rng.normal(0.0, 1.5)),
                sway_deg=float(rng.normal(0.0, 1.5)),
                lift_skew=_u(rng, 0.35, 0.65),
                lower_skew=_u(rng, 0.3, 0.65),
                bottom_shift_deg=float(rng.normal(0.0, 0.02 * rom)),
            )
        )
    slip = None
    if family == "strap_slip" or (family == "mixed" and rng.random() < 0.15):
        axis = np.array([rng.normal(0, 0.3), rng.normal(0, 0.3), 1.0])
        axis /= np.linalg.norm(axis)
        slip = StrapSlip(
            rep=int(rng.integers(max(0, n // 3), max(1, (2 * n) // 3 + 1))) if n > 1 else 0,
            angle_deg=_u(rng, *space.slip_deg) * (1 if rng.random() < 0.5 else -1),
            axis=(float(axis[0]), float(axis[1]), float(axis[2])),
            duration_s=_u(rng, 0.1, 0.5),
        )
    if floor:
        pivot, length = (_u(rng, 0.08, 0.12), _u(rng, 0.42, 0.58)) if on_pelvis else (
            _u(rng, 0.38, 0.48), _u(rng, 0.40, 0.48))  # fmt: skip
    else:
        pivot, length = (_u(rng, 0.38, 0.50), _u(rng, 0.42, 0.60)) if on_pelvis else (
            _u(rng, 0.45, 0.56), _u(rng, 0.40, 0.48))  # fmt: skip
    return SetStyle(
        side=side,
        two_leg=two_leg,
        floor=floor,
        reps=tuple(reps),
        top_deg=_u(rng, -3.0, 6.0),
        pivot_height_m=pivot,
        segment_length_m=length,
        still_before_s=_u(rng, 1.0, 4.0),
        still_after_s=_u(rng, 1.0, 3.0),
        touch_and_go=touch,
        fatigue=fatigue,
        slip=slip,
    )


def _draw_sensor(rng: np.random.Generator, on_pelvis: bool, side: str, space: StyleSpace) -> SensorStyle:
    """The IMU's imperfections and where it sits on the segment."""
    sgn = 1.0 if side == "right" else -1.0
    r = _u(rng, *space.lever_m)
    if on_pelvis:  # on the side of the pelvis or the sacrum, on a belt
        a = rng.uniform(-0.4, 1.6)
        lever = (sgn * r * float(np.cos(a)), -r * float(np.sin(a)) * 0.6, _u(rng, -0.03, 0.06))
    else:  # front / outside of the thigh, a third down from the hip
        a = rng.uniform(0.2, 1.4)
        lever = (sgn * r * float(np.cos(a)) * 0.6, r * float(np.sin(a)) * 0.6, -_u(rng, 0.10, 0.28))

    def tri(lo: float, hi: float) -> tuple[float, float, float]:
        v = rng.uniform(lo, hi, 3)
        return (float(v[0]), float(v[1]), float(v[2]))

    return SensorStyle(
        lpf_fraction=_u(rng, 0.2, 0.45),
        gyro_bias_dps=tri(-space.gyro_bias_dps, space.gyro_bias_dps),
        gyro_scale=tri(0.97, 1.03),
        acc_scale=tri(0.98, 1.02),
        misalignment_deg=_u(rng, 0.0, 1.5),
        gyro_noise_dps=_log_u(rng, 0.05, 0.4),
        acc_noise_mps2=_log_u(rng, 0.01, 0.08),
        bias_walk_dps=_u(rng, 0.0, 0.15),
        clock_error=_u(rng, -0.01, 0.01),
        jitter=_u(rng, 0.0, 0.15),
        packet_loss=_log_u(rng, 1e-4, 3e-3),
        lever_m=lever,
        tissue_hz=_u(rng, 6.0, 16.0),
        tissue_damping=_u(rng, 0.12, 0.4),
        tissue_gain=_u(rng, 0.0005, 0.004),
    )


def _draw_around(rng: np.random.Generator, noisy: bool, k: int, n_sets: int) -> tuple[str, ...]:
    """Non-rep activities before set ``k`` (``k == n_sets``: after the last set)."""
    out: list[str] = []
    if k == n_sets:
        out.append("sitting_down" if rng.random() < 0.3 else "walking")
        if noisy or rng.random() < 0.3:
            out.append("phone")
        return tuple(out)
    if k == 0 or rng.random() < 0.6:
        out.append("walking")
    if noisy or rng.random() < 0.25:
        out.append("phone")
    if noisy and rng.random() < 0.7 or rng.random() < 0.15:
        out.append("restrap")
    if rng.random() < 0.4 or noisy:
        out.append("sitting_down")
    out.append("onto_bench")
    return tuple(out)
