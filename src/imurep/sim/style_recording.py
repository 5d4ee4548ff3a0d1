"""One recording drawn from the style space: :func:`simulate_style`.

Random draws, in this order, all from ``numpy.random.default_rng(seed)``: the time origin, the
style (:func:`imurep.sim.styles.draw_style`), the body (:func:`imurep.sim.style_activities.build_body`),
the sensor's imperfections.  The truth (schema :data:`imurep.sim.truth.TRUTH_SCHEMA`) is measured
on the noise-free segment kinematics with the product's definitions, by the same functions as the
planned simulator's (:func:`imurep.sim.truth.rep_set_truth`); each set adds ``style`` (touch-and-go,
fatigue, floor, two legs, exercise) and ``strap_slips`` (time s, angle degrees), the document adds
``style`` (the family).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from imurep.sim.definitions import TILT_LIMIT_DEG
from imurep.sim.kinematics import Kinematics, segment_angles
from imurep.sim.recording import SimRecording
from imurep.sim.style_activities import build_body
from imurep.sim.style_sensor import BodyKinematics, body_kinematics, sample
from imurep.sim.styles import TWO_LEG_TILT_LIMIT_DEG, RecordingStyle, draw_style
from imurep.sim.truth import TRUTH_SCHEMA, rep_set_truth

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StyleRun:
    """A style recording with what it was made from (for tests and diagnostics)."""

    recording: SimRecording
    style: RecordingStyle
    kinematics: BodyKinematics


def simulate_style(
    seed: int,
    family: str,
    *,
    placement: str | None = None,
    sample_rate_hz: float | None = None,
    n_sets: int | None = None,
    noise: bool = True,
) -> SimRecording:
    """Simulate one recording of style ``family`` (see :func:`run_style`)."""
    return run_style(
        seed, family, placement=placement, sample_rate_hz=sample_rate_hz, n_sets=n_sets, noise=noise
    ).recording


def run_style(
    seed: int,
    family: str,
    *,
    placement: str | None = None,
    sample_rate_hz: float | None = None,
    n_sets: int | None = None,
    noise: bool = True,
) -> StyleRun:
    """Simulate one recording of style ``family``.

    Parameters
    ----------
    seed
        Seed of ``numpy.random.default_rng``; everything is deterministic from it.
    family
        One of :data:`imurep.sim.styles.FAMILIES`.
    placement, sample_rate_hz, n_sets
        Fixed instead of drawn (see :func:`imurep.sim.styles.draw_style`).
    noise
        Sensor imperfections, its low-pass filter and soft tissue; off: the ideal sensor.

    Raises
    ------
    SettingsError
        For an unknown family or values outside the style space.
    """
    rng = np.random.default_rng(int(seed))
    t0 = float(rng.uniform(0.0, 5000.0))
    style = draw_style(rng, family, placement=placement, sample_rate_hz=sample_rate_hz, n_sets=n_sets)
    rate = style.sample_rate_hz
    dt = 1.0 / max(1000.0, 4.0 * rate)
    built = build_body(style, rng, dt)
    kin = body_kinematics(built.body, style.sensor, soft_tissue=noise)
    on_pelvis = style.placement == "hip"
    theta, ml = segment_angles(kin.R_ws, on_pelvis)
    truth_kin = Kinematics(
        t=kin.t, R_ws=kin.R_ws, acc_sensor_mps2=kin.acc_mps2, gyr_mid_rads=kin.gyr_rads, theta=theta,
        ml_elevation=ml,
    )  # fmt: skip
    sets_out: list[dict[str, Any]] = []
    for k, (st, tr) in enumerate(zip(style.sets, built.sets, strict=True)):
        doc = rep_set_truth(
            truth_kin,
            t0,
            on_pelvis,
            index=k + 1,
            side=st.side,
            mounting_quat_xyzw=tr.mounting_quat_xyzw,
            onsets_s=tr.onsets_s,
            i_still=tr.i_still,
            i_end=tr.i_end,
            injected=[("partial_rom",) if r.partial else () for r in st.reps],
            tilt_limit_deg=TWO_LEG_TILT_LIMIT_DEG if st.two_leg else TILT_LIMIT_DEG,
        )
        doc["style"] = {
            "touch_and_go": st.touch_and_go,
            "fatigue": st.fatigue,
            "floor": st.floor,
            "two_leg": st.two_leg,
            "exercise": st.exercise,
        }
        doc["strap_slips"] = [{"t_s": t0 + s["t_s"], "angle_deg": s["angle_deg"]} for s in tr.slips]
        sets_out.append(doc)
    truth = {
        "schema": TRUTH_SCHEMA,
        "seed": int(seed),
        "placement": style.placement,
        "sample_rate_hz": rate,
        "exercise": style.exercise,
        "style": family,
        "t0_s": t0,
        "sets": sets_out,
        "activities": [
            {"kind": kind, "start_s": t0 + a, "end_s": t0 + b} for kind, a, b in built.body.activities
        ],
    }
    t_s, acc, gyr = sample(kin, style.sensor, rate, noise, rng, t0)
    sides = [st.side for st in style.sets]
    metadata: dict[str, Any] = {
        "placement": style.placement,
        "side": sides[0],
        "sides": sides,
        "device": "imurep.sim.styles",
        "sample_rate_hz": rate,
        "simulated": True,
        "seed": int(seed),
        "exercise": style.exercise,
        "style": family,
        "notes": (
            f"simulated style '{family}' ({style.exercise}), {len(sides)} set(s), sensor on the "
            f"{'pelvis' if on_pelvis else 'working thigh'}, {rate:.0f} Hz; noise={'on' if noise else 'off'}"
        ),
    }
    logger.debug("style %s seed %d: %d samples, %d sets", family, seed, t_s.size, len(sides))
    rec = SimRecording(t_s=t_s, acc_mps2=acc, gyr_rads=gyr, truth=truth, metadata=metadata)
    return StyleRun(recording=rec, style=style, kinematics=kin)
