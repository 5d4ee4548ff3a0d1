"""Cutting a 1-D angle into rep cycles: rest side → far side → rest side (causal, event-driven).

A rep is a movement of the segment away from the posture it rests in (the *rest side*: the bottom
of a hip thrust, standing for a squat) to a far turning point and back.  On an angle ``x`` that
increases away from the rest side (degrees), :class:`CycleSegmenter` finds each cycle from what
the signal does, with hysteresis relative to the movement's own size -- never from its tempo:

``REST``
    The angle is at the rest side; its running minimum is the valley before the next rep.  A rep
    *opens* when the angle rises ``open_deg`` above that minimum.
``AWAY``
    Rising to the far side; the running maximum is the far turning point.  The far side is
    *confirmed* once the angle has come back ``return_fraction`` of the way from that maximum to
    the valley (a pulse or wobble at the top that does not come back that far is part of the rep).
``RETURN``
    Coming back.  The cycle *ends* at whichever comes first:

    * ``"end"`` -- the angle is back within ``band_fraction`` of the rep's range above the valley
      before it (the 5 % rule of the phases) and, when the angle's rate is given, the movement
      back has stopped or turned (rate towards the rest side below ``onset_fraction`` of the rep's
      peak rate, at least ``min_onset_deg_s``);
    * ``"valley"`` -- the angle turns and rises ``rise_fraction`` of the rep's range above its
      lowest point since the far side: the next rep began without the angle coming all the way
      back or pausing (touch-and-go); the two reps are separated at that turning point;
    * ``"settled"`` -- the segment is quiet for ``settle_quiet_s`` (or ``settle_s`` pass without a
      new minimum): the lifter rests higher than before the rep.

The segmenter decides at the exact sample where a condition is first met, scanning the samples
with vectorised searches (one numpy pass per decision, not per sample), so its cycles depend only
on the samples, never on how they were batched.  What a cycle *is* (a rep or not) is judged by the
tracker that owns the segmenter (:mod:`imurep.core.tracking.reps`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from imurep.core.metrics import MAX_ONSET_DEG_S
from imurep.model.samples import FloatArray

REST, AWAY, RETURN = 0, 1, 2
"""Modes of :class:`CycleSegmenter`."""


@dataclass(frozen=True)
class Cycle:
    """One rest → far → rest cycle (absolute sample indices).

    Attributes
    ----------
    kind
        How it ended: ``"end"``, ``"valley"`` or ``"settled"`` (see the module docstring).
    i_base, i_peak
        The valley before the rep and the far turning point.
    i_low
        The lowest sample after the far turning point (the valley that ends a touch-and-go rep,
        or where the segment settled); for ``"end"`` the sample that re-entered the band.
    i_decide
        The sample at which the cycle was decided (its data suffice to measure it).
    i_open
        Where the angle first rose ``open_deg`` above the valley.
    base_deg, peak_deg
        The angle at ``i_base`` and ``i_peak``, degrees.
    """

    kind: str
    i_base: int
    i_peak: int
    i_low: int
    i_decide: int
    i_open: int
    base_deg: float
    peak_deg: float

    @property
    def rise_deg(self) -> float:
        """Far turning point above the valley before it, degrees."""
        return self.peak_deg - self.base_deg


@dataclass(frozen=True)
class CycleSettings:
    """Hysteresis of :class:`CycleSegmenter` (fractions are of the rep's own range)."""

    band_fraction: float = 0.05
    return_fraction: float = 0.5
    rise_fraction: float = 0.2
    settle_quiet_s: float = 0.2
    settle_s: float = 2.0
    max_rep_s: float = 20.0
    onset_fraction: float = 0.05
    min_onset_deg_s: float = 2.0


def _first(cond: NDArray[np.bool_]) -> int:
    """Index of the first True, or -1."""
    k = int(np.argmax(cond)) if cond.size else 0
    return k if cond.size and bool(cond[k]) else -1


class CycleSegmenter:
    """Event-driven rest/away/return state machine on one angle (see the module docstring).

    Parameters
    ----------
    settings
        Hysteresis fractions and time limits.
    open_deg
        Rise above the running minimum at the rest side that opens a rep, degrees.  The owner may
        change it between calls (e.g. a fraction of the set's median range).
    """

    small_n = 48
    """Calls with at most this many samples (one or a few pipeline blocks, the live and offline
    case alike) are scanned sample by sample in plain Python (:meth:`_scan_small`), longer ones
    with numpy (:meth:`_scan`); both take the same decisions at the same samples (tested)."""

    def __init__(self, settings: CycleSettings, open_deg: float) -> None:
        self.settings = settings
        self.open_deg = open_deg
        self.mode = REST
        self.v = math.inf  # REST: running minimum; AWAY/RETURN: the valley before the rep
        self.i_v = -1
        self.p = -math.inf  # running maximum (far side)
        self.i_p = -1
        self.m = math.inf  # RETURN: running minimum after the far side
        self.i_m = -1
        self.i_open = -1
        self.t_open_s = math.nan
        self.t_m_s = math.nan
        self.peak_rate = 0.0  # largest |rate| of the rep under way
        self.quiet_since_s = math.nan  # start of the quiet run that the last sample scanned is in

    def flush(self, i_last: int) -> Cycle | None:
        """End of the stream: a rep that has come back at least ``return_fraction`` (``RETURN``) is
        over where it got lowest; one still away is not a rep."""
        if self.mode != RETURN:
            return None
        cyc = Cycle("settled", self.i_v, self.i_p, self.i_m, i_last, self.i_open, self.v, self.p)
        self.start_rest(self.m, self.i_m)
        return cyc

    def start_rest(self, x0: float, i0: int) -> None:
        """(Re)start at the rest side with ``x0`` at absolute index ``i0`` as the valley so far."""
        self.mode, self.v, self.i_v = REST, x0, i0
        self.p, self.i_p, self.m, self.i_m = -math.inf, -1, math.inf, -1
        self.peak_rate = 0.0

    def start_away(self, base: float, i_base: int, x: float, i: int, t_s: float) -> None:
        """Start in a rep already under way: valley ``base`` at ``i_base``, now ``x`` at ``i``."""
        self.mode, self.v, self.i_v = AWAY, base, i_base
        self.p, self.i_p = x, i
        self.i_open, self.t_open_s = i, t_s
        self.peak_rate = 0.0

    def update(
        self,
        i0: int,
        x: FloatArray,
        t_s: FloatArray,
        quiet: NDArray[np.bool_],
        *,
        rate: FloatArray | None = None,
        stop_at_cycle: bool = False,
    ) -> tuple[list[Cycle], int]:
        """Scan samples ``x`` (absolute indices ``i0 ...``); return the cycles ended and where it stopped.

        Parameters
        ----------
        i0
            Absolute index of ``x[0]``.
        x
            The angle, shape ``(n,)``, degrees, increasing away from the rest side.
        t_s
            Sample times, shape ``(n,)``, s.
        quiet
            Whether each sample is quiet, shape ``(n,)``.
        rate
            Rate of change of ``x``, shape ``(n,)``, degrees/s (None: a rep ends at the band).
        stop_at_cycle
            Return right after the first cycle (the owner may change the angle's frame there); the
            returned index is the first sample not yet scanned.

        Returns
        -------
        cycles, next
            The cycles decided, in order, and the absolute index of the first sample not scanned
            (``i0 + n`` unless ``stop_at_cycle`` stopped early).
        """
        out: list[Cycle] = []
        n = x.shape[0]
        if 0 < n <= self.small_n:
            xs = x.tolist()
            rs = None if rate is None else rate.tolist()
            # (NaN compares unlike numpy's min/max: non-finite input takes the array path)
            if math.isfinite(sum(xs)) and (rs is None or math.isfinite(sum(rs))):
                return self._update_small(i0, xs, t_s.tolist(), quiet.tolist(), rs, stop_at_cycle, out)
        # start time of the quiet run each sample is in (carried over from the previous call)
        last_moving = np.maximum.accumulate(np.where(~quiet, np.arange(n), -1)) if n else np.zeros(0, int)
        carried = self.quiet_since_s if math.isfinite(self.quiet_since_s) else (float(t_s[0]) if n else 0.0)
        quiet_from = np.where(last_moving >= 0, t_s[np.minimum(last_moving + 1, n - 1)], carried)
        cycles, nxt = self._scan(i0, x, t_s, quiet, quiet_from, rate, stop_at_cycle, out)
        j = nxt - i0 - 1
        if 0 <= j < n:
            self.quiet_since_s = float(quiet_from[j]) if bool(quiet[j]) else math.nan
        return cycles, nxt

    def _scan(
        self,
        i0: int,
        x: FloatArray,
        t_s: FloatArray,
        quiet: NDArray[np.bool_],
        quiet_from: FloatArray,
        rate: FloatArray | None,
        stop_at_cycle: bool,
        out: list[Cycle],
    ) -> tuple[list[Cycle], int]:
        s = self.settings
        n = x.shape[0]
        k = 0
        while k < n:
            if self.mode == REST:
                seg = x[k:]
                runmin = np.minimum.accumulate(np.minimum(seg, self.v))
                j = _first(seg > runmin + self.open_deg)
                if j < 0:
                    jm = int(np.argmin(seg))
                    if float(seg[jm]) < self.v:
                        self.v, self.i_v = float(seg[jm]), i0 + k + jm
                    return out, i0 + n
                jm = int(np.argmin(seg[: j + 1]))
                if float(seg[jm]) < self.v:
                    self.v, self.i_v = float(seg[jm]), i0 + k + jm
                self.mode = AWAY
                self.p, self.i_p = float(seg[j]), i0 + k + j
                self.i_open, self.t_open_s = i0 + k + j, float(t_s[k + j])
                self.peak_rate = 0.0
                k += j + 1
            elif self.mode == AWAY:
                seg = x[k:]
                runmax = np.maximum.accumulate(np.maximum(seg, self.p))
                j = _first(seg < runmax - s.return_fraction * (runmax - self.v))
                jt = _first(t_s[k:] - self.t_open_s > s.max_rep_s)
                if jt >= 0 and (j < 0 or jt < j):
                    # never came back: a change of posture, not a rep; rest from here
                    self.start_rest(float(seg[jt]), i0 + k + jt)
                    k += jt + 1
                    continue
                if rate is not None:
                    self.peak_rate = max(
                        self.peak_rate, float(np.max(np.abs(rate[k : k + j + 1 if j >= 0 else n])))
                    )
                if j < 0:
                    jp = int(np.argmax(seg))
                    if float(seg[jp]) > self.p:
                        self.p, self.i_p = float(seg[jp]), i0 + k + jp
                    return out, i0 + n
                jp = int(np.argmax(seg[: j + 1]))
                if float(seg[jp]) > self.p:
                    self.p, self.i_p = float(seg[jp]), i0 + k + jp
                self.mode = RETURN
                self.m, self.i_m, self.t_m_s = float(seg[j]), i0 + k + j, float(t_s[k + j])
                k += j + 1
            else:  # RETURN
                seg = x[k:]
                ts = t_s[k:]
                rise = self.p - self.v
                runmin = np.minimum.accumulate(np.minimum(seg, self.m))
                # index (into seg, or -1 for the carried minimum) of the running minimum
                is_new = seg < np.concatenate(([self.m], runmin[:-1]))
                idx = np.where(is_new, np.arange(seg.shape[0]), -1)
                i_run = np.maximum.accumulate(idx)
                t_run = np.where(i_run >= 0, ts[np.maximum(i_run, 0)], self.t_m_s)
                back = seg <= self.v + s.band_fraction * rise
                if rate is not None:
                    rs = rate[k:]
                    peak = np.maximum.accumulate(np.maximum(np.abs(rs), self.peak_rate))
                    thr = np.clip(s.onset_fraction * peak, s.min_onset_deg_s, MAX_ONSET_DEG_S)
                    back &= rs >= -thr
                j_end = _first(back)
                j_valley = _first(seg > runmin + s.rise_fraction * rise)
                # settled: quiet for settle_quiet_s, or no new minimum for settle_s
                settled = (quiet[k:] & (ts - quiet_from[k:] >= s.settle_quiet_s)) | (ts - t_run >= s.settle_s)
                j_settle = _first(settled)
                cands = [
                    (j, kind) for j, kind in ((j_end, "end"), (j_valley, "valley"), (j_settle, "settled"))
                ]
                cands = [(j, kind) for j, kind in cands if j >= 0]
                if rate is not None:
                    self.peak_rate = max(self.peak_rate, float(np.max(np.abs(rate[k:]))))
                if not cands:
                    jr = int(i_run[-1])
                    if jr >= 0:
                        self.m, self.i_m, self.t_m_s = float(seg[jr]), i0 + k + jr, float(ts[jr])
                    return out, i0 + n
                j, kind = min(cands)
                jr = int(i_run[j])
                if jr >= 0:
                    self.m, self.i_m, self.t_m_s = float(seg[jr]), i0 + k + jr, float(ts[jr])
                i_dec = i0 + k + j
                out.append(self._decide(kind, i_dec, float(seg[j]), float(ts[j])))
                k += j + 1
                if stop_at_cycle:
                    return out, i0 + k
        return out, i0 + n

    def _decide(self, kind: str, i_dec: int, x_dec: float, t_dec_s: float) -> Cycle:
        """The cycle decided at sample ``i_dec`` (angle ``x_dec``, time ``t_dec_s``) and the state it
        leaves: away again from its valley, or at rest."""
        cyc = Cycle(
            kind=kind,
            i_base=self.i_v,
            i_peak=self.i_p,
            i_low=i_dec if kind == "end" else self.i_m,
            i_decide=i_dec,
            i_open=self.i_open,
            base_deg=self.v,
            peak_deg=self.p,
        )
        if kind == "valley":
            self.start_away(self.m, self.i_m, x_dec, i_dec, t_dec_s)
        elif kind == "end":
            self.start_rest(x_dec, i_dec)
        else:
            self.start_rest(self.m, self.i_m)
        return cyc

    # -- the same scan, sample by sample (short calls: no per-call numpy overhead) --------------

    def _update_small(
        self,
        i0: int,
        x: list[float],
        t_s: list[float],
        quiet: list[bool],
        rate: list[float] | None,
        stop_at_cycle: bool,
        out: list[Cycle],
    ) -> tuple[list[Cycle], int]:
        """:meth:`update` on plain lists (no NaN)."""
        n = len(x)
        carried = self.quiet_since_s if math.isfinite(self.quiet_since_s) else t_s[0]
        quiet_from: list[float]
        if False not in quiet:  # all quiet (the common cases, all or none, without the loop)
            quiet_from = [carried] * n
        elif True not in quiet:  # all moving: each sample's run starts at the next one
            quiet_from = t_s[1:] + t_s[-1:]
        else:
            quiet_from = []
            last_moving = -1
            for j in range(n):
                if not quiet[j]:
                    last_moving = j
                quiet_from.append(t_s[min(last_moving + 1, n - 1)] if last_moving >= 0 else carried)
        cycles, nxt = self._scan_small(i0, x, t_s, quiet, quiet_from, rate, stop_at_cycle, out)
        j = nxt - i0 - 1
        if 0 <= j < n:
            self.quiet_since_s = quiet_from[j] if quiet[j] else math.nan
        return cycles, nxt

    def _scan_small(
        self,
        i0: int,
        x: list[float],
        t_s: list[float],
        quiet: list[bool],
        quiet_from: list[float],
        rate: list[float] | None,
        stop_at_cycle: bool,
        out: list[Cycle],
    ) -> tuple[list[Cycle], int]:
        """:meth:`_scan` sample by sample: each search stops at the first sample that meets it."""
        s = self.settings
        n = len(x)
        k = 0
        while k < n:
            if self.mode == REST:
                v0, thr_open = self.v, self.open_deg
                mv, mi, found = math.inf, -1, -1
                for j in range(k, n):
                    xj = x[j]
                    if xj < mv:
                        mv, mi = xj, j
                    if xj > (v0 if v0 < mv else mv) + thr_open:
                        found = j
                        break
                if mv < self.v:
                    self.v, self.i_v = mv, i0 + mi
                if found < 0:
                    return out, i0 + n
                self.mode = AWAY
                self.p, self.i_p = x[found], i0 + found
                self.i_open, self.t_open_s = i0 + found, t_s[found]
                self.peak_rate = 0.0
                k = found + 1
            elif self.mode == AWAY:
                p0, v, rf = self.p, self.v, s.return_fraction
                t_open, max_rep = self.t_open_s, s.max_rep_s
                mp, mpi, found, timeout = -math.inf, -1, -1, -1
                for j in range(k, n):
                    xj = x[j]
                    if xj > mp:
                        mp, mpi = xj, j
                    rm = p0 if p0 > mp else mp
                    if xj < rm - rf * (rm - v):
                        found = j
                        break
                    if t_s[j] - t_open > max_rep:
                        timeout = j
                        break
                if timeout >= 0:
                    # never came back: a change of posture, not a rep; rest from here
                    self.start_rest(x[timeout], i0 + timeout)
                    k = timeout + 1
                    continue
                if rate is not None:
                    stop = found + 1 if found >= 0 else n
                    self.peak_rate = max(self.peak_rate, max(abs(r) for r in rate[k:stop]))
                if mp > self.p:
                    self.p, self.i_p = mp, i0 + mpi
                if found < 0:
                    return out, i0 + n
                self.mode = RETURN
                self.m, self.i_m, self.t_m_s = x[found], i0 + found, t_s[found]
                k = found + 1
            else:  # RETURN
                rise = self.p - self.v
                band_level = self.v + s.band_fraction * rise
                rise_level = s.rise_fraction * rise
                prev_min, i_run, t_run = self.m, -1, self.t_m_s
                peak = self.peak_rate
                onset, lo_on = s.onset_fraction, s.min_onset_deg_s
                j_dec, kind = -1, ""
                for j in range(k, n):
                    xj = x[j]
                    if xj < prev_min:
                        prev_min, i_run, t_run = xj, j, t_s[j]
                    back = xj <= band_level
                    if rate is not None:
                        a = abs(rate[j])
                        if a > peak:
                            peak = a
                        back = back and rate[j] >= -min(max(onset * peak, lo_on), MAX_ONSET_DEG_S)
                    tj = t_s[j]
                    if back:
                        j_dec, kind = j, "end"
                    elif (quiet[j] and tj - quiet_from[j] >= s.settle_quiet_s) or tj - t_run >= s.settle_s:
                        j_dec, kind = j, "settled"
                    elif xj > prev_min + rise_level:
                        j_dec, kind = j, "valley"
                    else:
                        continue
                    break
                if rate is not None:
                    self.peak_rate = max(self.peak_rate, max(abs(r) for r in rate[k:]))
                if i_run >= 0:
                    self.m, self.i_m, self.t_m_s = x[i_run], i0 + i_run, t_s[i_run]
                if j_dec < 0:
                    return out, i0 + n
                i_dec = i0 + j_dec
                out.append(self._decide(kind, i_dec, x[j_dec], t_s[j_dec]))
                k = j_dec + 1
                if stop_at_cycle:
                    return out, i0 + k
        return out, i0 + n
