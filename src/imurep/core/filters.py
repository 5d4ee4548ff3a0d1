"""A first-order recursive filter, stateful across calls (pure functions, no SciPy).

The pipeline's two smoothers (the accelerometer's low-pass and the angular speed's average) are
first-order IIR filters.  :func:`first_order` computes exactly what
``scipy.signal.lfilter([b0], [1.0, a1], x, axis=0, zi=zi)`` computes, the same floating-point
operations in the same order (the tests compare them bit for bit), so the analysis does not import
SciPy's signal package (most of a second of start-up) for two one-line recursions.
"""

from __future__ import annotations

from itertools import accumulate

import numpy as np

from imurep.model.samples import FloatArray


def first_order(b0: float, a1: float, x: FloatArray, zi: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Filter ``y[n] = b0 * x[n] - a1 * y[n - 1]`` along the first axis, from the state ``zi``.

    Parameters
    ----------
    b0, a1
        Coefficients (``b = [b0]``, ``a = [1, a1]`` in SciPy's terms).
    x
        Input, shape ``(n,)`` or ``(n, k)`` (each column filtered on its own).
    zi
        State before ``x[0]``, shape ``(1,)`` or ``(1, k)`` (SciPy's ``zi``).

    Returns
    -------
    y, zf
        The output, shaped like ``x``, and the state after it, shaped like ``zi``.
    """
    x2 = x.reshape(x.shape[0], -1) if x.ndim > 1 else x[:, None]
    z2 = np.asarray(zi, dtype=np.float64).reshape(1, x2.shape[1])
    y = np.empty(x2.shape)
    zf = np.empty(z2.shape)
    if x2.shape[0] == 0:
        return y.reshape(x.shape), z2.copy().reshape(np.shape(zi))
    u = b0 * x2
    finite = bool(np.isfinite(x2).all())
    for j in range(x2.shape[1]):
        col = u[:, j].tolist()
        z0 = float(z2[0, j])
        if finite:
            # the state after each sample is 0 * x - a1 * y, i.e. -(a1 * y) for finite x
            col[0] = z0 + col[0]
            y[:, j] = list(accumulate(col, lambda yp, un: un - a1 * yp))
        else:
            y[:, j] = _with_zero_terms(col, x2[:, j].tolist(), z0, a1)
        zf[0, j] = 0.0 * float(x2[-1, j]) - a1 * float(y[-1, j])
    return y.reshape(x.shape), zf.reshape(np.shape(zi))


def _with_zero_terms(u: list[float], x: list[float], z: float, a1: float) -> list[float]:
    """The recursion with the state's ``0 * x`` term kept (it is NaN after an infinite input)."""
    out: list[float] = []
    for un, xn in zip(u, x, strict=True):
        yn = z + un
        out.append(yn)
        z = 0.0 * xn - a1 * yn
    return out
