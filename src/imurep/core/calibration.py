"""Gyroscope bias estimation from still periods (causal, stateful).

The bias is learned whenever the sensor is still: over the last ``still_window_s`` the gyroscope
and accelerometer scatter (standard deviation per axis) are below thresholds.  Scatter, not
magnitude, is tested, so a bias of many °/s does not prevent its own estimation.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from imurep.model.errors import SettingsError
from imurep.model.samples import FloatArray

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CalibrationSettings:
    """Settings of the gyroscope bias estimator.

    Attributes
    ----------
    still_window_s
        Length of the window tested for stillness, s.
    still_gyr_std_rads
        Largest per-axis gyroscope standard deviation of a still window, rad/s.
    still_acc_std_mps2
        Largest per-axis accelerometer standard deviation of a still window, m/s².
    still_turn_deg
        Largest turn of the accelerometer's direction between the first and the last block of a
        still window, degrees: a still sensor's gravity does not turn, whatever its gyroscope's
        bias, while a slow, steady rotation (a 4-6 s lowering turns the pelvis 5-10 °/s) turns it
        with little scatter.
    bias_time_constant_s
        Time constant of the running bias average over still periods, s.
    max_bias_rads
        Larger apparent biases are rejected as not-still (slow steady rotation), rad/s.
    max_bias_step_rads
        Once calibrated, a window whose mean rate differs from the estimate by more than this is
        a slow, smooth rotation (a pelvis rolling by a degree as a foot lifts has little scatter),
        not stillness, rad/s.
    rebias_s
        ... unless such windows persist this long (s, summed): then the bias itself has changed
        (or the first estimate was taken during a slow movement) and is re-learned.
    """

    still_window_s: float = 0.6
    still_gyr_std_rads: float = 0.03
    still_acc_std_mps2: float = 0.15
    still_turn_deg: float = 1.5
    bias_time_constant_s: float = 1.5
    max_bias_rads: float = 0.2
    max_bias_step_rads: float = 0.01
    rebias_s: float = 5.0

    def __post_init__(self) -> None:
        for name in (
            "still_window_s",
            "still_gyr_std_rads",
            "still_acc_std_mps2",
            "still_turn_deg",
            "bias_time_constant_s",
            "max_bias_step_rads",
            "rebias_s",
        ):
            if not getattr(self, name) > 0:
                raise SettingsError(f"calibration.{name} must be > 0, got {getattr(self, name)!r}")
        if not 0 < self.max_bias_rads <= 1.0:
            raise SettingsError(f"calibration.max_bias_rads must be in (0, 1], got {self.max_bias_rads!r}")


class GyroCalibrator:
    """Running gyroscope-bias estimate and stillness flag, updated once per pipeline block.

    Stillness is judged over the last ``round(still_window_s / hop_s)`` blocks, so the result
    depends only on the samples and the block grid, never on how the stream was chunked.

    Parameters
    ----------
    settings
        Calibration settings.
    hop_s
        Block length of the pipeline's time grid, s.
    """

    def __init__(self, settings: CalibrationSettings, hop_s: float) -> None:
        self.settings = settings
        self._k = max(2, round(settings.still_window_s / hop_s))
        # per-block sums of the last k-1 blocks: n, sum(6), sum of squares(6)
        self._carry = np.zeros((0, 13))
        self.bias_rads = np.zeros(3)
        """Current bias estimate, rad/s, sensor frame."""
        self.calibrated = False
        """True once a still window has been seen."""
        self.n_still_blocks = 0
        self.n_blocks = 0
        self._off_s = 0.0  # still-by-scatter time whose mean disagreed with the estimate

    def update(
        self, acc_mps2: FloatArray, gyr_rads: FloatArray, block_starts: NDArray[np.intp], hop_s: float
    ) -> tuple[FloatArray, NDArray[np.bool_]]:
        """Process whole blocks.

        Parameters
        ----------
        acc_mps2, gyr_rads
            Specific force (m/s²) and angular rate (rad/s) of consecutive whole blocks, shape
            ``(n, 3)``, sensor frame.
        block_starts
            Index of the first sample of each block, shape ``(m,)``, starting with 0.
        hop_s
            Block length, s.

        Returns
        -------
        gyr_rads
            Bias-corrected angular rate, shape ``(n, 3)``, rad/s, sensor frame (each block corrected
            with the estimate after that block).
        still
            Stillness of the window ending with each block, shape ``(m,)``.
        """
        s = self.settings
        x = np.concatenate((acc_mps2, gyr_rads), axis=1)
        stats = np.concatenate(
            (
                np.diff(np.append(block_starts, x.shape[0]))[:, None].astype(np.float64),
                np.add.reduceat(x, block_starts, axis=0),
                np.add.reduceat(x * x, block_starts, axis=0),
            ),
            axis=1,
        )
        m = stats.shape[0]
        allstats = np.concatenate((self._carry, stats))
        # window sums of the last k blocks, summed directly (not as differences of running sums) so
        # that the rounding is the same whatever batch a block arrives in
        k = self._k
        pad = np.concatenate((np.full((k - 1 + m - allstats.shape[0], 13), np.nan), allstats))
        win = np.lib.stride_tricks.sliding_window_view(pad, k, axis=0).sum(axis=-1)[-m:]
        full = ~np.isnan(win[:, 0])
        # the accelerometer's direction in the window's first and last blocks
        # (window j spans the pad's rows j .. j + k - 1)
        a_first = np.nan_to_num(pad[:m, 1:4])
        a_last = np.nan_to_num(pad[k - 1 : k - 1 + m, 1:4])
        cos_turn = np.einsum("ij,ij->i", a_first, a_last) / np.maximum(
            np.linalg.norm(a_first, axis=1) * np.linalg.norm(a_last, axis=1), 1e-12
        )
        win = np.nan_to_num(win)
        n = win[:, :1]
        mean = win[:, 1:7] / np.maximum(n, 1.0)
        var = np.maximum(win[:, 7:13] / np.maximum(n, 1.0) - mean * mean, 0.0)
        still = (
            full
            & (n[:, 0] >= 5)
            & (var[:, 3:6] < s.still_gyr_std_rads**2).all(axis=1)
            & (var[:, 0:3] < s.still_acc_std_mps2**2).all(axis=1)
            & (np.einsum("ij,ij->i", mean[:, 3:6], mean[:, 3:6]) < s.max_bias_rads**2)
            & (cos_turn > math.cos(math.radians(s.still_turn_deg)))
        )
        alpha = 1.0 - math.exp(-hop_s / s.bias_time_constant_s)
        biases = np.empty((m, 3))
        b = self.bias_rads
        step2 = s.max_bias_step_rads**2
        for i in range(m):
            if still[i] and self.calibrated:
                d = mean[i, 3:6] - b
                if float(d @ d) > step2:
                    self._off_s += hop_s
                    if self._off_s < s.rebias_s:
                        still[i] = False
                    else:
                        logger.debug("gyro bias re-learned (moved by %.4f rad/s)", math.sqrt(float(d @ d)))
                        b = mean[i, 3:6].copy()
                        self._off_s = 0.0
                else:
                    self._off_s = max(0.0, self._off_s - hop_s)
            if still[i]:
                if self.calibrated:
                    b = b + alpha * (mean[i, 3:6] - b)
                else:
                    b = mean[i, 3:6].copy()
                    self.calibrated = True
                    logger.debug("gyro bias initialised to %s rad/s", b)
            biases[i] = b
        self.bias_rads = b
        self._carry = allstats[-(k - 1) :]
        self.n_blocks += m
        self.n_still_blocks += int(still.sum())
        counts = stats[:, 0].astype(np.intp)
        return gyr_rads - np.repeat(biases, counts, axis=0), still
