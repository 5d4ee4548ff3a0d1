"""One simulated recording: :func:`simulate` runs the builder, the truth and the sensor.

The simulator builds a smooth rigid-body trajectory of one body segment (the pelvis for
``placement="hip"``, the working thigh for ``placement="thigh"``) on a fine internal time grid
(>= 1 kHz and >= 4x the output rate, :mod:`imurep.sim.builder`), derives the ideal accelerometer
and gyroscope signals from it (:mod:`imurep.sim.kinematics`), resamples them at the (imperfect)
sensor sample times and optionally adds sensor imperfections (:mod:`imurep.sim.sensor`).  The
ground truth (sets, reps, phase times, range of motion, pelvis tilt, faults) is measured on the
noise-free fine-grid kinematics with the product's definitions (:mod:`imurep.sim.truth`).

Random draws, in this order, all from ``numpy.random.default_rng(seed)``: the time origin (unless
given), the session (trajectory and set plans), the soft-tissue wobble, the sensor.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from imurep.model.samples import FloatArray
from imurep.sim.builder import build_session
from imurep.sim.kinematics import assemble_kinematics
from imurep.sim.sensor import sample_sensor
from imurep.sim.settings import EXERCISE_TITLES, MOTION_EXERCISE, SimSettings
from imurep.sim.truth import measure_truth

logger = logging.getLogger(__name__)


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
        Ground truth, JSON-serialisable, schema ``imurep.truth/1`` (see :mod:`imurep.sim.truth`).
    metadata
        Sidecar metadata (placement, sides, device, nominal rate, seed, exercise profile, notes).
    """

    t_s: FloatArray
    acc_mps2: FloatArray
    gyr_rads: FloatArray
    truth: dict[str, Any]
    metadata: dict[str, Any]


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
    session = build_session(settings, rng, 1.0 / fs_fine)
    kin = assemble_kinematics(session.trajectory, settings)
    truth = measure_truth(settings, session, kin, t0)
    t_s, acc, gyr = sample_sensor(settings, rng, kin, t0)
    sides = [s.side for s in session.sets]
    metadata: dict[str, Any] = {
        "placement": settings.placement,
        "side": sides[0],
        "sides": sides,
        "device": "imurep.sim",
        "sample_rate_hz": rate,
        "simulated": True,
        "seed": int(settings.seed),
        "exercise": settings.exercise,
        "notes": (
            f"simulated {_title(settings)}, {len(sides)} set(s), sensor on the "
            f"{'pelvis' if settings.on_pelvis else 'working thigh'}; "
            f"noise={'on' if settings.noise else 'off'}, pre_activity={settings.pre_activity}"
        ),
    }
    logger.debug("simulated %d samples (%.1f s), %d sets", t_s.size, kin.t[-1], len(sides))
    return SimRecording(t_s=t_s, acc_mps2=acc, gyr_rads=gyr, truth=truth, metadata=metadata)


def _title(settings: SimSettings) -> str:
    """The exercise's title, and the motion simulated if that was made for another exercise."""
    title = EXERCISE_TITLES[settings.exercise]
    native = MOTION_EXERCISE[settings.motion]
    if native == settings.exercise:
        return title
    return f"{title} as the {EXERCISE_TITLES[native]} motion"
