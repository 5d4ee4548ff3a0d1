"""``imurep batch``: real processes on real files, a local process pool, resume, and a real Dask
``LocalCluster`` giving byte-identical outputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from test_cli import assert_one_line_error, run

import imurep
from imurep.batch import find_recordings, plan, write_tables
from imurep.batch import run as run_batch


@pytest.fixture
def inputs(tmp_path: Path, small_recordings: list[Path]) -> Path:
    """A folder with the three small recordings (and sidecars) and one bad CSV."""
    folder = tmp_path / "in"
    folder.mkdir()
    for p in small_recordings:
        shutil.copy(p, folder / p.name)
        shutil.copy(p.with_suffix(".json"), folder / p.with_suffix(".json").name)
    (folder / "bad.csv").write_text("t,ax\n0,1\n", encoding="utf-8")
    return folder


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def without_batch_key(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k != "batch"}


def test_batch_outputs_and_per_file_errors_at_the_end(tmp_path: Path, inputs: Path) -> None:
    out = tmp_path / "out"
    proc = run("batch", inputs, tmp_path / "missing.csv", "--out", out, "-j", "2")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    errors = proc.stderr.splitlines()
    assert errors[-1] == "imurep: error: 2 input(s) failed (listed above)"
    assert any("missing.csv" in e and "not found" in e for e in errors)
    assert any("bad.csv" in e and "missing columns" in e for e in errors)
    assert "5 input(s)" in proc.stdout
    assert "3 analysed, 0 skipped (up to date), 2 failed" in " ".join(proc.stdout.split())
    assert sorted(p.name for p in out.iterdir()) == [
        "reps.parquet",
        "s1.json",
        "s2.json",
        "s3.json",
        "sets.parquet",
    ]
    analyses = [imurep.analyze(inputs / f"s{k}.csv") for k in (1, 2, 3)]
    for k, a in enumerate(analyses, start=1):
        doc = json.loads((out / f"s{k}.json").read_text(encoding="utf-8"))
        assert without_batch_key(doc) == a.to_dict()  # the API's document
        assert len(doc["batch"]["key"]) == 64
    reps = pd.read_parquet(out / "reps.parquet")
    expected = pd.concat([a.reps for a in analyses], ignore_index=True)
    pd.testing.assert_frame_equal(reps[expected.columns], expected, check_dtype=False)
    assert reps["start_utc"].notna().sum() == len(analyses[1].reps)  # only s2 states its start time
    sets = pd.read_parquet(out / "sets.parquet")
    assert list(sets["reps"]) == [len(a.reps) for a in analyses]


def test_resume_skips_what_is_up_to_date(tmp_path: Path, inputs: Path) -> None:
    (inputs / "bad.csv").unlink()
    out = tmp_path / "out"
    first = run("batch", inputs, "--out", out, "-j", "1")
    assert first.returncode == 0, first.stderr
    before = files_of(out)
    again = run("batch", inputs, "--out", out, "-j", "1")
    assert again.returncode == 0, again.stderr
    assert "0 analysed, 3 skipped" in " ".join(again.stdout.split())
    assert files_of(out) == before  # same bytes, tables rebuilt from the JSON files
    # a changed sidecar: that recording only (the same tasks, run in this process)
    side = inputs / "s3.json"
    side.write_text(json.dumps({**json.loads(side.read_text()), "exercise": "single_leg_hip_thrust_pause"}))
    sources, _ = find_recordings([str(inputs)])
    outcomes = run_batch(plan(sources, str(out), {}))
    assert [o.status for o in outcomes] == ["skipped", "skipped", "analysed"]
    assert json.loads((out / "s3.json").read_text())["metadata"]["exercise"] == "single_leg_hip_thrust_pause"
    # other settings: all of them; no resume: all of them again
    options = {"overrides": [["faults.tilt_threshold_deg", 7]]}
    assert [o.status for o in run_batch(plan(sources, str(out), options))] == ["analysed"] * 3
    assert json.loads((out / "s1.json").read_text())["settings"]["faults"]["tilt_threshold_deg"] == 7
    assert [o.status for o in run_batch(plan(sources, str(out), options))] == ["skipped"] * 3
    assert [o.status for o in run_batch(plan(sources, str(out), options, resume=False))] == ["analysed"] * 3


def test_globs_and_recordings_of_the_same_name(tmp_path: Path, small_recordings: list[Path]) -> None:
    for k, sub in enumerate(("a", "b")):
        (tmp_path / sub).mkdir()
        shutil.copy(small_recordings[k], tmp_path / sub / "same.csv")
    out = tmp_path / "out"
    proc = run("batch", str(tmp_path / "*" / "same.csv"), "--out", out, "-j", "1")
    assert proc.returncode == 0, proc.stderr
    assert json.loads((out / "same.json").read_text())["source"] == str(tmp_path / "a" / "same.csv")
    assert json.loads((out / "same-2.json").read_text())["source"] == str(tmp_path / "b" / "same.csv")


def test_progress_bar_on_a_terminal(
    tmp_path: Path, small_recordings: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich draws as on a terminal
    proc = run("batch", *small_recordings[:2], "--out", tmp_path / "out", "-j", "1")
    assert proc.returncode == 0, proc.stderr
    assert "2/2 files" in proc.stderr and "samples/s" in proc.stderr and "ETA" in proc.stderr


def test_fsspec_urls_in_and_out(tmp_path: Path, small_recordings: list[Path]) -> None:
    """Inputs and outputs on an fsspec file system (in memory here; s3:// works the same way)."""
    import fsspec

    mem = fsspec.filesystem("memory")
    for p in small_recordings[:2]:
        mem.pipe_file(f"/rec/{p.name}", p.read_bytes())
        mem.pipe_file(f"/rec/{p.with_suffix('.json').name}", p.with_suffix(".json").read_bytes())
    sources, missing = find_recordings(["memory://rec"])
    assert [s.rsplit("/", 1)[1] for s in sources] == ["s1.csv", "s2.csv"] and not missing
    assert all(s.startswith("memory://") for s in sources)
    tasks = plan(sources, "memory://out", {})
    outcomes = run_batch(tasks, jobs=1)
    assert [o.status for o in outcomes] == ["analysed", "analysed"]
    write_tables(outcomes, "memory://out")
    doc = json.loads(mem.cat_file("/out/s2.json"))
    local = imurep.analyze(small_recordings[1], name=sources[1]).to_dict()
    assert without_batch_key(doc) == local  # the sidecar came along (started_unix_s, sides)
    with mem.open("/out/reps.parquet", "rb") as fh:
        assert len(pd.read_parquet(fh)) == sum(len(imurep.analyze(p).reps) for p in small_recordings[:2])
    assert [o.status for o in run_batch(tasks, jobs=1)] == ["skipped", "skipped"]


def test_dask_local_cluster_gives_the_bytes_of_the_local_run(tmp_path: Path, inputs: Path) -> None:
    from distributed import LocalCluster

    (inputs / "s3.csv").unlink()  # two recordings and a bad one keep it short
    local_out, dask_out = tmp_path / "local", tmp_path / "dask"
    local_out.mkdir()
    sources, _ = find_recordings([str(inputs)])
    local = run_batch(plan(sources, str(local_out), {}), jobs=1)  # the local run, in this process
    write_tables(local, str(local_out))
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
        remote = run("batch", inputs, "--out", f"file://{dask_out}", "--dask", cluster.scheduler_address)
    assert remote.returncode == 2, remote.stderr
    assert remote.stderr.splitlines()[-2] == f"imurep: error: {local[0].error}"  # bad.csv, the same error
    assert files_of(dask_out) == files_of(local_out)
    assert sorted(files_of(local_out)) == ["reps.parquet", "s1.json", "s2.json", "sets.parquet"]


def test_unreachable_dask_scheduler_is_one_line(
    tmp_path: Path, small_recordings: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT", "1s")
    proc = run("batch", small_recordings[0], "--out", tmp_path / "out", "--dask", "tcp://127.0.0.1:9")
    assert_one_line_error(proc, "--dask tcp://127.0.0.1:9", "cannot reach the Dask scheduler")


@pytest.mark.parametrize(
    ("extra", "fragments"),
    [
        (("nothing/*.csv",), ("nothing/*.csv", "matches no recording")),
        (("nope://bucket/a.csv",), ("nope://bucket/a.csv", "Protocol not known")),
        (("{rec}", "--set", "faults.nope=1"), ("faults.nope",)),
        (("{rec}", "--exercise", "nope_nope"), ("nope_nope",)),
        (("{rec}", "--placement", "hip", "--config", "missing.json"), ("missing.json", "not found")),
    ],
)
def test_batch_errors_before_any_work_are_one_line(
    tmp_path: Path, small_recordings: list[Path], extra: tuple[str, ...], fragments: tuple[str, ...]
) -> None:
    args = [a.format(rec=small_recordings[0]) for a in extra]
    proc = run("batch", *args, "--out", "out", cwd=tmp_path)
    assert_one_line_error(proc, *fragments)
    assert not (tmp_path / "out").exists()


def test_out_is_a_file_is_one_line(tmp_path: Path, small_recordings: list[Path]) -> None:
    (tmp_path / "out").write_text("x")
    assert_one_line_error(run("batch", small_recordings[0], "--out", tmp_path / "out"), "out")
