"""Live sessions: the state machine fed by the sensor's chunks, gaps and the lifter's keys.

:class:`LiveSession` feeds every chunk to the same :class:`~imurep.core.pipeline.Pipeline` as
offline analysis, appends the samples to the recording (:class:`~imurep.io.recording_writer.RecordingWriter`:
a canonical CSV plus its sidecar, flushed at least every ``flush_interval_s`` and at each set end),
so ``imurep analyze`` on the saved recording reports exactly the reps shown live, and tells its
:class:`~imurep.live.views.View` what happened.  Keys: ``n`` new set, ``s`` switch side, ``q`` quit.
Wiring a sensor to a session is :mod:`imurep.live.run`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import TextIO

import numpy as np

from imurep.coaching.advice import SetStats, advise, assess_set, leg_of, over_extended_reps
from imurep.coaching.cues import FAULT_CUES
from imurep.coaching.exercises import Catalog, ExerciseProfile, get_profile, load_catalog
from imurep.core.pipeline import Pipeline
from imurep.core.settings import AnalysisSettings
from imurep.io.recording_writer import GapLike, RecordingWriter
from imurep.live.squeeze import SqueezeClock, SqueezeSettings
from imurep.live.views import View, event_to_dict, set_summary_lines
from imurep.live.voice import VoiceCues
from imurep.model.codes import FAULT_LABELS
from imurep.model.events import Event, Marker, RepCompleted, SetDiscarded, SetEnded, SetStarted
from imurep.model.results import SetResult
from imurep.model.samples import ImuChunk
from imurep.model.units import DEG_PER_RAD


def qualifies_for_progression(result: SetResult, profile: ExerciseProfile | None = None) -> bool:
    """Whether a set meets the progression rule of ``profile`` (default: single-leg hip thrust):
    at least 12 (the bottom of the rep range) controlled reps, all with a ≥ 1 s squeeze, controlled
    lowering, full range and no hip tilt (see :func:`imurep.coaching.assess_set`)."""
    profile = profile or get_profile()
    return assess_set(SetStats.from_set(result), profile, load_catalog().rules).qualifies


@dataclass
class LiveSession:
    """Runs the pipeline on a live stream, shows feedback and records everything.

    Parameters
    ----------
    settings
        Analysis settings (placement, initial side in ``sides``).
    view
        Where feedback goes.
    writer
        The recording (None: do not record).
    beep
        Ring the terminal bell on faults.
    event_log
        Where to write every event as a JSON line (None: nowhere).
    profile
        The exercise (cues and progression rule; default: single-leg hip thrust).  Its thresholds
        should already be in ``settings`` (:func:`imurep.core.settings.resolve` with its
        ``settings_overrides()``).
    catalog
        Exercise profiles and progression rules of the advice (default: the packaged ones).
    """

    settings: AnalysisSettings
    view: View
    writer: RecordingWriter | None = None
    beep: bool = False
    event_log: TextIO | None = None
    profile: ExerciseProfile = field(default_factory=get_profile)
    catalog: Catalog = field(default_factory=load_catalog)
    sample_rate_hz: float | None = None
    """The device's nominal sample rate, Hz (None: estimated from the stream)."""
    voice: VoiceCues | None = None
    """Speaks the rep count, the cues and the set summaries (``imurep live --voice``)."""
    pipeline: Pipeline = field(init=False)
    events: list[Event] = field(default_factory=list)
    side: str | None = field(init=False)
    qualifying: dict[str, int] = field(default_factory=dict)
    squeeze: SqueezeClock | None = field(init=False)
    """The squeeze countdown at the top of each rep (None: the exercise holds no squeeze at the top)."""
    _calibrated_shown: bool = False
    _set_sides: list[str | None] = field(default_factory=list)
    quit_requested: bool = False

    def __post_init__(self) -> None:
        # no angle traces: nothing live draws them, and a long session must not grow with them
        self.pipeline = Pipeline(self.settings, sample_rate_hz=self.sample_rate_hz, keep_traces=False)
        if self.writer is not None and self.writer.on_stop is None:
            self.writer.on_stop = self._recording_stopped
        self.side = self.settings.sides[0] if self.settings.sides else None
        lift_first = self.settings.mode == "reps" and self.settings.faults.phase_order == "lift_first"
        hold_s = self.settings.faults.min_top_hold_s
        self.squeeze = SqueezeClock(SqueezeSettings(target_s=hold_s)) if lift_first and hold_s > 0 else None
        self.view.status("calibrating: hold still in the start position")

    @property
    def threshold_deg(self) -> float:
        """The hip-tilt fault threshold, degrees."""
        return self.settings.faults.tilt_threshold_deg

    def on_chunk(self, chunk: ImuChunk) -> list[Event]:
        """Feed samples: record them, run the pipeline, show what happened."""
        if self.writer is not None:
            chunk = self.writer.append(chunk)
        events = self.pipeline.update(chunk)
        if not self._calibrated_shown and self.pipeline.calibrated:
            self._calibrated_shown = True
            bias = float(np.linalg.norm(self.pipeline.gyro_bias_rads)) * DEG_PER_RAD
            self.view.status(f"calibrated (gyro bias {bias:.1f} °/s) · waiting for the first set")
        if self.squeeze is not None:
            self._squeeze_changed(self.squeeze.update(chunk, self.pipeline.gyro_bias_rads))
        self._show(events)
        return events

    def _squeeze_changed(self, change: str | None) -> None:
        """Tell the view that a squeeze at the top started (its target) or ended."""
        if change == "start" and self.squeeze is not None:
            self.view.squeeze(self.squeeze.settings.target_s)
        elif change == "end":
            self.view.squeeze(None)

    def _recording_stopped(self, message: str) -> None:
        """The recording could not be written (disk full…): say so; coaching goes on."""
        self.view.status(f"{message}; coaching continues, nothing more is recorded")

    def on_gap(self, gap: GapLike) -> None:
        """A gap in the stream: recorded with its exact sample count, never interpolated."""
        if self.writer is not None:
            self.writer.add_gap(gap)
        self.view.status(
            f"{gap.n_samples} samples missing ({gap.reason}) at {gap.t_s:.2f} s — recorded as a gap"
        )

    def on_key(self, key: str) -> None:
        """Handle a key: ``n`` new set, ``s`` switch side, ``q`` quit."""
        t = self.pipeline.t_last_s
        if key == "q":
            self.quit_requested = True
            return
        if key not in ("n", "s") or not np.isfinite(t):
            return
        if key == "s":
            was = self.side
            self.side = "right" if self.side == "left" else "left"
            marker = Marker(t, "side", self.side)
            if was is None:  # never a silent guess: say what s did and how to change it
                self.view.status(
                    f"side was unknown: the next reps are the {self.side} leg "
                    "(press s again for the right leg)"
                )
            else:
                self.view.status(f"switched to the {self.side} leg · the next reps start a new set")
        else:
            marker = Marker(t, "new_set")
            self.view.status("new set · the next reps start a new set")
        self.pipeline.mark(marker)
        if self.writer is not None:
            self.writer.add_marker(marker)

    def finish(self) -> list[Event]:
        """End of stream: close the open set, write the final sidecar, release the view."""
        events = self.pipeline.finish()
        self._show(events)
        if self.voice is not None:
            self.voice.close()
        if self.writer is not None:
            self._record_sides()
            self.writer.set_meta(ended_unix_s=time.time())
            self.writer.close()
        return events

    def _show(self, events: list[Event]) -> None:
        for e in events:
            self.events.append(e)
            if self.voice is not None:  # first: the lifter hears it as soon as possible
                self.voice.on_event(e)
            if self.event_log is not None:
                self.event_log.write(json.dumps(event_to_dict(e, self.profile), allow_nan=False) + "\n")
                self.event_log.flush()
            if isinstance(e, SetStarted):
                self.view.status(f"in set {e.set_index} ({self.side or 'side unknown'})")
            elif isinstance(e, RepCompleted):
                if self.squeeze is not None:
                    self._squeeze_changed(self.squeeze.on_rep(e.rep))
                self.view.rep(e.rep, e.set_index, self.threshold_deg, self.profile)
                if e.rep.faults and self.beep:
                    self.view.alert()
            elif isinstance(e, SetEnded):
                if self.squeeze is not None:
                    self._squeeze_changed(self.squeeze.on_set_end())
                self._set_ended(e.result)
            elif isinstance(e, SetDiscarded):
                self.view.status(f"that was a lone movement, not a set ({e.reason}); not counted")

    def _set_ended(self, result: SetResult) -> None:
        lines = set_summary_lines(result)
        rules = self.catalog.rules
        over = over_extended_reps(result, rules.over_extension_deg)
        if over:
            lines.append(
                f"  ! {FAULT_LABELS['over_extension']} (rep {', '.join(map(str, over))}): "
                f"{FAULT_CUES['over_extension']}"
            )
        side = leg_of(result.side, self.profile)
        leg = "both legs" if side == "both" else f"the {side} leg"
        assessment = assess_set(SetStats.from_set(result), self.profile, rules)
        if assessment.qualifies:
            self.qualifying[side] = self.qualifying.get(side, 0) + 1
            n = self.qualifying[side]
            lo = self.profile.rep_range[0]
            held = "the squeeze held" if "short_hold" in self.profile.faults else "controlled lowering"
            lines.append(
                f"  progression: {result.summary.reps} controlled reps (≥ {lo}) with {held} and "
                f"level hips — {n} of {rules.sets_required} such sets on {leg}"
            )
            if n >= rules.sets_required:
                advice = advise(
                    [[SetStats.from_set(s) for s in self.pipeline.sets]], self.profile, catalog=self.catalog
                )
                if advice.action == "progress":
                    lines.append("  " + advice.headline)
                else:
                    lines.append(
                        f"  {leg}: ready to progress once the other leg also meets the rule "
                        f"(next: {self._title(self.profile.harder)})"
                    )
        elif assessment.struggling:
            lines.append("  " + assessment.reasons[-1] + " — a set like this counts towards stepping back")
        self.view.set_ended(lines)
        self.view.status("resting · press n for a new set, s to switch leg, q to quit")
        if self.writer is not None:
            self._record_sides()
            self.writer.flush()

    def _title(self, name: str | None) -> str:
        """Display name of an exercise profile (``"more load"`` at the end of the ladder)."""
        if not name:
            return "more load"
        profile = self.catalog.profiles.get(name)
        return profile.title.lower() if profile is not None else name

    def summary_lines(self, recording: str | None = None) -> list[str]:
        """The session at its end, per leg (sets, reps, clean reps, mean tempo, faults), and the
        command that renders its report."""
        lines = ["session summary:"]
        by_leg: dict[str, list[SetResult]] = {}
        for s in self.pipeline.sets:
            by_leg.setdefault(s.side or "side unknown", []).append(s)
        if not by_leg:
            lines.append("  no sets")
        for leg, sets in by_leg.items():
            reps = sum(s.summary.reps for s in sets)
            clean = sum(s.summary.clean_reps for s in sets)
            faults: dict[str, int] = {}
            for s in sets:
                for code, n in s.summary.fault_counts.items():
                    faults[code] = faults.get(code, 0) + n
            top = ", ".join(f"{FAULT_LABELS.get(c, c)} ×{n}" for c, n in faults.items() if n)
            top = top or "no faults"
            name = leg if leg == "side unknown" else f"{leg} leg"
            n_sets = f"{len(sets)} set" + ("s" if len(sets) != 1 else "")
            lines.append(f"  {name}: {n_sets}, {reps} reps, {clean} clean · {top}")
        if recording:
            lines.append(f"  report: imurep report {recording}")
        return lines

    def _record_sides(self) -> None:
        """Write the side of each set to the sidecar when every side is known."""
        assert self.writer is not None
        sides = [s.side for s in self.pipeline.sets]
        if sides and all(side is not None for side in sides):
            self.writer.set_meta(sides=sides)
