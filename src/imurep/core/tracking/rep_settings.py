"""Settings of rep and set detection (:mod:`imurep.core.tracking.reps`).

Every limit here is physical (how far a segment must move to be moving at all, how long a posture
must be held to be a posture, what a return to the start looks like), never a tempo: a rep is not
rejected for being fast or slow, short or long, nor a partial rep for being small -- down to
``min_rep_fraction`` of its set's median range.  The limits that remain and the style space they
were checked against are listed in the README ("Limits").
"""

from __future__ import annotations

from dataclasses import dataclass

from imurep.model.errors import SettingsError

DEPRECATED_KEYS: dict[str, str] = {
    "min_rom_deg": "a rep is no longer rejected for its absolute range (see min_rep_fraction)",
    "min_concentric_s": "a rep is no longer rejected for its tempo",
    "max_concentric_s": "a rep is no longer rejected for its tempo",
    "min_eccentric_s": "a rep is no longer rejected for its tempo",
}
"""Settings of earlier versions that no longer exist: accepted (with a warning) in stored settings
so that old recordings stay readable, and ignored."""


@dataclass(frozen=True)
class SegmentationSettings:
    """Settings of rep and set detection.

    Attributes
    ----------
    open_deg
        A set's first rep leaves the quiet start position by more than this, degrees (the
        smallest movement that is a movement at all).
    min_set_rom_deg
        A set whose reps' median range is below this is discarded, degrees: the smallest rep of
        the style space is 12° (a floor bridge on the pelvis); walking steps turn the pelvis 5-11°.
    min_set_rom_thigh_deg
        With a thigh sensor, a set's median range must also reach this, degrees (0: only
        ``min_set_rom_deg``).  An exercise whose thigh turns far in every rep (a squat: 60-100°)
        sets it, so that shuffling before the set (5-18° turns) is not a set.
    ref_quiet_s
        Quiet time that establishes a posture (the start position), s.
    quiet_rads
        Smoothed angular speed below which the segment counts as quiet, rad/s.
    quiet_drift_deg
        A quiet run ends when the posture drifts this far from the run's mean (slow movement), degrees.
    band_fraction
        Fraction of a rep's range that counts as at the rest side / at the far side (the 5 % rule).
    return_fraction
        The far turning point of a rep is confirmed once the angle has come back this fraction of
        the way to the valley before it (smaller dips are part of the rep: pulses, wobble).
    rise_fraction
        Reps that follow each other without coming back to the band (touch-and-go) are separated at
        the turning point once the angle rises this fraction of the rep's range above it; within a
        set, a rep opens when the angle rises this fraction of the set's median range above the rest
        side.
    settle_quiet_s, settle_s
        A rep also ends when the segment is quiet this long (s), or makes no new low for
        ``settle_s`` (s), after coming back: the lifter rests higher than before the rep.
    min_rep_fraction
        A movement is a rep if it reaches this fraction of the set's median range (partial reps
        are reps, flagged ``partial_rom``); smaller ones are not reps.
    max_rom_deg
        Larger movements are not reps (a rotation of the segment that large is a change of
        posture: sitting up, the sensor turned in the hand), degrees.  Default: the hip thrust
        family's (the pelvis turns 15-30 deg in a floor bridge and up to ~70 deg from a bench, the
        trunk from reclined to level; the thigh 30-60 deg); the standing exercises' profiles
        allow more.
    max_rep_s
        A movement that has not come back after this long is a change of posture, not a rep, s.
    max_off_axis
        Largest fraction of a rep's rotation energy off its main axis (walking, fidgeting twist), 0..1.
    max_impact_mps2
        Largest high-frequency acceleration (heel strikes, bumps) during a set's first rep, m/s².
    baseline_quiet_s
        Quiet time in the start position needed to use it as tilt reference (otherwise the first
        rep's bottom is used), s.
    set_gap_s
        A set ends when no rep starts for this long after the last one, s.
    leave_deg, leave_s
        A set also ends when the segment stays this far (degrees) outside the set's range of motion
        (beyond the rest side, beyond the far side, or rolled sideways) for this long (s).
    max_axis_change_deg, max_bottom_change_deg
        A full rep whose axis or rest posture differs more than this from its set's ends the set
        (a different movement follows), degrees.
    slip_deg
        Two consecutive reps whose axes agree with each other but turned more than this from the
        set's axis mean the strap slipped: the segment frame and the tilt reference are re-learned
        from them, degrees.
    min_set_reps
        Fewer reps are not a set (a lone movement): such a set is announced, then discarded when it
        ends (:class:`~imurep.model.events.SetDiscarded`).
    first_return_fraction
        A set's first rep comes back at least this fraction of its range towards its start (later
        reps may turn earlier, touch-and-go); a change of posture does not.
    start_gap_s
        The first rep of a set starts within this long after the quiet start position, s.
    confirm_s, overshoot_fraction
        The first rep of a set is confirmed ``confirm_s`` (s) after its end, if the angle has not
        swung beyond its start by more than ``overshoot_fraction`` of its range (walking does); a
        later rep may not start more than ``overshoot_fraction`` of the set's median range past
        the rest side the set's reps came back to.
    confirm_still_s
        The first rep is confirmed sooner, once the angle has gone no further down than
        ``band_fraction`` of the rep's range for this long (s) after its end: the lifter stopped
        or turned back up, which a swing through the start position does not (it goes on at the
        speed it came back with).
    max_past_rest_deg
        When > 0, a later rep may start at most this far past the rest side the set's reps came back
        to, degrees (instead of ``overshoot_fraction`` of the median range): for exercises whose
        rest side is a limit of the joint (standing: the thigh cannot go far behind vertical, a
        walking step swings 10-20° past it).  0: off.  Set by the exercise profile.
    away_height_sign
        Which way a rep's way out moves the pelvis: +1 up (thrusts and bridges lift the hips from
        the bottom), -1 down (squats, lunges lower them from standing), 0 either.  With a pelvis
        sensor a set's first rep must move it this way when it moves it at all (by more than
        :data:`~imurep.core.tracking.height.MIN_DIRECTION_M`): picking something up, sitting
        down or getting up is then not a set's first rep.  Default: the hip thrust family (up);
        the standing exercises' profiles set their own.
    """

    open_deg: float = 6.0
    min_set_rom_deg: float = 10.0
    ref_quiet_s: float = 0.2
    quiet_rads: float = 0.08
    quiet_drift_deg: float = 2.0
    band_fraction: float = 0.05
    return_fraction: float = 0.5
    rise_fraction: float = 0.2
    settle_quiet_s: float = 0.6
    settle_s: float = 2.0
    min_rep_fraction: float = 0.3
    max_rom_deg: float = 90.0
    max_rep_s: float = 20.0
    max_off_axis: float = 0.5
    max_impact_mps2: float = 30.0
    baseline_quiet_s: float = 0.5
    set_gap_s: float = 12.0
    leave_deg: float = 30.0
    leave_s: float = 1.5
    max_axis_change_deg: float = 35.0
    max_bottom_change_deg: float = 25.0
    slip_deg: float = 8.0
    min_set_reps: int = 2
    first_return_fraction: float = 0.5
    start_gap_s: float = 3.0
    confirm_s: float = 0.3
    confirm_still_s: float = 0.1
    overshoot_fraction: float = 0.5
    away_height_sign: int = 1
    max_past_rest_deg: float = 0.0
    min_set_rom_thigh_deg: float = 0.0

    def __post_init__(self) -> None:
        positive = [
            "open_deg",
            "min_set_rom_deg",
            "ref_quiet_s",
            "quiet_rads",
            "settle_quiet_s",
            "settle_s",
            "max_rom_deg",
            "max_rep_s",
            "set_gap_s",
            "leave_deg",
            "leave_s",
            "max_axis_change_deg",
            "max_bottom_change_deg",
            "slip_deg",
            "max_impact_mps2",
            "confirm_s",
            "confirm_still_s",
        ]
        for name in positive:
            if not getattr(self, name) > 0:
                raise SettingsError(f"segmentation.{name} must be > 0, got {getattr(self, name)!r}")
        for name, lo, hi in (
            ("band_fraction", 0.0, 0.25),
            ("return_fraction", 0.1, 0.9),
            ("rise_fraction", 0.05, 0.5),
            ("min_rep_fraction", 0.0, 0.9),
            ("max_off_axis", 0.0, 1.0),
            ("first_return_fraction", 0.0, 1.0),
        ):
            v = getattr(self, name)
            if not lo < v <= hi:
                raise SettingsError(f"segmentation.{name} must be in ({lo}, {hi}], got {v!r}")
        if self.away_height_sign not in (-1, 0, 1):
            raise SettingsError(
                f"segmentation.away_height_sign must be -1, 0 or 1, got {self.away_height_sign!r}"
            )
        if not 0 <= self.min_set_rom_thigh_deg < self.max_rom_deg:
            raise SettingsError(
                "segmentation.min_set_rom_thigh_deg must be in [0, max_rom_deg), "
                f"got {self.min_set_rom_thigh_deg!r}"
            )
        if self.min_set_reps < 1:
            raise SettingsError(f"segmentation.min_set_reps must be >= 1, got {self.min_set_reps!r}")
        if self.open_deg >= self.max_rom_deg:
            raise SettingsError("segmentation.open_deg must be below max_rom_deg")
