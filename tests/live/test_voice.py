"""Voice cues (``imurep live --voice``): phrases from a live session's events, spoken by a real
offline speech engine (espeak-ng, skipped without it), and the bell when no engine is installed."""

from __future__ import annotations

import io
import shutil
import wave
from pathlib import Path

import pytest

from imurep.coaching.exercises import get_profile
from imurep.core.settings import AnalysisSettings
from imurep.live.run import voice_cues
from imurep.live.session import LiveSession
from imurep.live.views import PlainView
from imurep.live.voice import BellSpeaker, CommandSpeaker, VoiceCues, find_speaker, short_cue, speech_command
from imurep.model.events import RepCompleted, SetEnded
from imurep.model.samples import ImuChunk
from imurep.sim import SimSettings, simulate

ESPEAK = shutil.which("espeak-ng")


def _run_session(voice: VoiceCues, seed: int = 41) -> LiveSession:
    rec = simulate(SimSettings(seed=seed, n_sets=1, fault_probability=0.4))
    session = LiveSession(
        AnalysisSettings(placement="hip", sides=("left",)), PlainView(io.StringIO()), voice=voice
    )
    for a in range(0, rec.t_s.size, 26):
        session.on_chunk(ImuChunk(rec.t_s[a : a + 26], rec.acc_mps2[a : a + 26], rec.gyr_rads[a : a + 26]))
    session.finish()
    return session


@pytest.mark.skipif(ESPEAK is None, reason="espeak-ng not installed")
def test_espeak_ng_says_a_cue_for_real(tmp_path: Path) -> None:
    assert ESPEAK is not None
    wav = tmp_path / "cue.wav"
    speaker = CommandSpeaker(ESPEAK, extra_args=["-w", str(wav)])
    speaker.say("4. lower under control.")
    speaker.wait()
    with wave.open(str(wav)) as w:
        seconds = w.getnframes() / w.getframerate()
    assert 0.8 < seconds < 5.0  # a short phrase, really synthesised
    assert speaker.spoken == ["4. lower under control."]


@pytest.mark.skipif(ESPEAK is None, reason="espeak-ng not installed")
def test_live_session_speaks_count_cues_and_set_summary(tmp_path: Path) -> None:
    assert ESPEAK is not None
    profile = get_profile(None)
    speaker = CommandSpeaker(ESPEAK, extra_args=["-w", str(tmp_path / "last.wav")])
    session = _run_session(VoiceCues(speaker, profile))
    reps = [e.rep for e in session.events if isinstance(e, RepCompleted)]
    ends = [e.result for e in session.events if isinstance(e, SetEnded)]
    assert reps and ends and any(r.faults for r in reps)
    expected = []
    for e in session.events:
        if isinstance(e, RepCompleted):
            cues = "".join(f" {short_cue(c, profile)}." for c in e.rep.faults)
            expected.append(f"{e.rep.index}.{cues}" if cues else str(e.rep.index))
        elif isinstance(e, SetEnded):
            m = e.result.summary
            expected.append(f"set {e.result.index} done: {m.reps} reps, {m.clean_reps} clean.")
    assert speaker.spoken == expected
    assert "lower under control" in " ".join(speaker.spoken) or "squeeze" in " ".join(speaker.spoken)
    with wave.open(str(tmp_path / "last.wav")) as w:  # the last phrase (the summary) was said in full
        assert w.getnframes() / w.getframerate() > 1.0
    assert session.voice is not None and max(session.voice.latencies_s) < 0.3  # say() never blocks


def test_without_an_engine_the_bell_rings_and_the_lifter_is_told(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no speech engine on PATH
    assert find_speaker("linux") is None
    out = io.StringIO()
    view = PlainView(out)
    voice = voice_cues(view, get_profile(None))
    assert isinstance(voice.speaker, BellSpeaker)
    assert "no speech engine found" in out.getvalue()
    session = _run_session(voice)
    faulty = sum(bool(e.rep.faults) for e in session.events if isinstance(e, RepCompleted))
    n_sets = sum(isinstance(e, SetEnded) for e in session.events)
    assert faulty > 0 and out.getvalue().count("\a") == faulty + n_sets


def test_speech_commands_of_each_platform() -> None:
    assert speech_command("/usr/bin/espeak-ng", "3") == ["/usr/bin/espeak-ng", "-s", "185", "--", "3"]
    assert speech_command("say", "3")[:3] == ["say", "-r", "185"]
    ps = speech_command("C:\\\\Windows\\\\powershell.exe", "it's 3")
    assert ps[1:3] == ["-NoProfile", "-Command"] and "'it''s 3'" in ps[3]
    with pytest.raises(ValueError, match="unknown speech engine"):
        speech_command("festival", "3")
