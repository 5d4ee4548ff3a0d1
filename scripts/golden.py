"""Behaviour-preservation check: the analysis JSON (and rep table) of a fixed corpus, byte for byte.

Used for refactoring steps that must not change any result (issue 11).  Three verbs::

    python scripts/golden.py corpus DIR        # simulate the corpus into DIR (once, before the change)
    python scripts/golden.py snapshot DIR OUT  # analyse every recording of DIR and recordings/ into OUT
    python scripts/golden.py compare A B       # byte-compare two snapshots; exit 1 on any difference

``snapshot`` runs the installed ``imurep`` command (``imurep analyze FILE --json OUT --no-store``)
as a user would, so the CLI, the settings resolution, the readers and the JSON writer are covered.
The corpus is written with the simulator of the code *before* the change, so the inputs do not
depend on the code under test.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

RECORDINGS = Path("recordings")
"""The repository's demo recordings (run the script from the repository root)."""

# (seed, placement, exercise tag, rate Hz, faults) -- 24 recordings, every exercise and placement
CORPUS = [
    (seed, placement, exercise, rate, faults)
    for seed, (placement, exercise, rate, faults) in enumerate(
        [
            ("hip", "hip_thrust", 104, "all"),
            ("thigh", "hip_thrust", 104, "all"),
            ("hip", "hip_thrust", 52, "all"),
            ("thigh", "hip_thrust", 52, "all"),
            ("hip", "hip_thrust", 200, "all"),
            ("thigh", "hip_thrust", 200, "all"),
            ("hip", "hip_thrust", 400, "hip_tilt"),
            ("thigh", "hip_thrust", 400, "none"),
            ("hip", "hip_thrust", 104, "none"),
            ("hip", "hip_thrust", 104, "rushed_lowering,short_hold"),
            ("thigh", "hip_thrust", 104, "partial_rom"),
            ("hip", "hip_thrust", 60, "all"),
            ("hip", "floor_bridge", 104, "all"),
            ("thigh", "floor_bridge", 104, "all"),
            ("hip", "floor_bridge", 52, "none"),
            ("hip", "leg_lift", 104, "all"),
            ("thigh", "leg_lift", 104, "all"),
            ("hip", "leg_lift", 52, "all"),
            ("hip", "leg_lift", 200, "none"),
            ("thigh", "leg_lift", 60, "all"),
            ("hip", "hip_thrust", 104, "all"),
            ("thigh", "hip_thrust", 104, "all"),
            ("hip", "hip_thrust", 150, "all"),
            ("thigh", "floor_bridge", 52, "all"),
        ],
        start=300,
    )
]

EXERCISE_PROFILE = {
    "hip_thrust": None,
    "floor_bridge": "single_leg_glute_bridge",
    "leg_lift": "glute_bridge_leg_lift",
}
"""Corpus tag (in the file names) -> profile passed to ``imurep analyze`` (None: the sidecar's)."""

SIM_EXERCISE = {
    "hip_thrust": "single_leg_hip_thrust",
    "floor_bridge": "single_leg_glute_bridge",
    "leg_lift": "glute_bridge_leg_lift",
}
"""Corpus tag -> ``imurep simulate --exercise`` name.  The tags are the simulator's names before
they became the profile names (``hip_thrust`` then meant the single-leg thrust); they stay in the
file names so that snapshots of an existing corpus keep their names."""


def _imurep() -> list[str]:
    """The command line, run as ``python -m imurep`` (the same in every layout of the package)."""
    return [sys.executable, "-m", "imurep"]


def corpus(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for seed, placement, exercise, rate, faults in CORPUS:
        name = f"sim_{seed}_{placement}_{exercise}_{rate}.csv"
        cmd = [
            *_imurep(),
            "simulate",
            str(out / name),
            "--seed",
            str(seed),
            "--placement",
            placement,
            "--rate",
            str(rate),
            "--faults",
            faults,
            "--exercise",
            SIM_EXERCISE[exercise],
        ]
        subprocess.run(cmd, check=True, capture_output=True)
        print("wrote", name)


def _jobs(corpus_dir: Path) -> list[tuple[str, Path, list[str]]]:
    jobs: list[tuple[str, Path, list[str]]] = []
    for csv in sorted(RECORDINGS.glob("*.csv")):
        jobs.append((f"recordings_{csv.stem}", csv, []))
        jobs.append((f"recordings_{csv.stem}_tilt6", csv, ["--set", "faults.tilt_threshold_deg=6"]))
    for csv in sorted(corpus_dir.glob("sim_*.csv")):
        exercise = next(e for e in EXERCISE_PROFILE if f"_{e}_" in csv.name)
        profile = EXERCISE_PROFILE[exercise]
        jobs.append((csv.stem, csv, ["--exercise", profile] if profile else []))
        if profile is None:
            jobs.append((csv.stem + "_pause", csv, ["--exercise", "single_leg_hip_thrust_pause"]))
    return jobs


def _env() -> dict[str, str]:
    env = {"COLUMNS": "160", "PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env


def snapshot(corpus_dir: Path, out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name, csv, extra in _jobs(corpus_dir):
        js = out / f"{name}.json"
        r = subprocess.run(
            [*_imurep(), "analyze", str(csv), "--json", str(js), "--no-store", *extra],
            capture_output=True,
            text=True,
            env=_env(),
        )
        (out / f"{name}.stdout").write_text(r.stdout.replace(str(out), "<OUT>"))
        (out / f"{name}.rc").write_text(f"{r.returncode}\n{r.stderr}".replace(str(out), "<OUT>"))
        print(name, r.returncode, hashlib.sha256(js.read_bytes()).hexdigest()[:12] if js.exists() else "-")


def compare(a: Path, b: Path) -> int:
    fa = {p.name for p in a.iterdir()}
    fb = {p.name for p in b.iterdir()}
    bad = sorted(fa ^ fb)
    for name in sorted(fa & fb):
        if (a / name).read_bytes() != (b / name).read_bytes():
            bad.append(name)
    n_json = sum(name.endswith(".json") for name in fa)
    if bad:
        print(f"DIFFERENT: {len(bad)} of {len(fa | fb)} files differ: {', '.join(bad[:20])}")
        return 1
    print(f"identical: {len(fa)} files ({n_json} analysis JSON files, their rep tables and exit codes)")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("corpus").add_argument("dir", type=Path)
    s = sub.add_parser("snapshot")
    s.add_argument("dir", type=Path)
    s.add_argument("out", type=Path)
    c = sub.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = ap.parse_args()
    if args.cmd == "corpus":
        corpus(args.dir)
    elif args.cmd == "snapshot":
        snapshot(args.dir, args.out)
    else:
        return compare(args.a, args.b)
    return 0


if __name__ == "__main__":
    sys.exit(main())
