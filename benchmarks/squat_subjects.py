"""Held-out real squat sets: subjects 3-6 of the public dataset behind ``../shared/data/squat-realtime/``.

The shared folder holds subjects 1 and 2 of GitHub ``choijaeh01/Squat-Realtime-Classifier`` (its
``SOURCE.md``); the tests and ``real_squats.py`` read them.  The same repository has four more
subjects (5 form classes x 2 sets of 10 reps and one 25-rep set each, the same three IMUs at ~111 Hz,
manually labelled rep windows).  No test reads them: they are a check of how the rep tracking does
on people it was never tuned on.  This script converts them from a local clone of that repository
into the shared folder's format (canonical CSV, sidecar, ``*.labels.json``), in a folder of your
choice **outside this repository** (the data has no licence file; never commit it)::

    git clone https://github.com/choijaeh01/Squat-Realtime-Classifier /tmp/squatrt
    python benchmarks/squat_subjects.py /tmp/squatrt /tmp/squat-heldout
    python benchmarks/real_squats.py --exercise squat --data /tmp/squat-heldout

Conversion (as for the shared folder): sensor s0 (waist) is ``*_hip.csv``, s1 (thigh) ``*_thigh.csv``;
``t`` is the device's ``millis`` / 1000 from the first row; a labelled window ``[start_sample,
end_sample)`` becomes ``t[start_sample] .. t[end_sample - 1]``.  On subjects 1 and 2 this gives the
shared folder's samples exactly.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

CLASSES = {
    0: "c0-correct",
    1: "c1-knee_valgus",
    2: "c2-butt_wink",
    3: "c3-excessive_lean",
    4: "c4-partial_squat",
}
AXES = ("ax", "ay", "az", "gx", "gy", "gz")
RATE_HZ = 111.11
"""Nominal rate of the dataset's ESP32 stream (as in the shared folder's sidecars), Hz."""


def _items(root: Path, subjects: list[int]) -> list[tuple[Path, Path, str]]:
    base = root / "squat_classifier_ssl" / "data"
    out = []
    for c, name in CLASSES.items():
        for subj in subjects:
            for st in (1, 2):
                out.append(
                    (
                        base / "raw" / "labeled" / f"class{c}" / f"subject{subj}_set{st}.csv",
                        base / "manually_labeled" / f"class{c}" / f"subject{subj}_set{st}_metadata.json",
                        f"{name}_subject{subj}_set{st}",
                    )
                )
    for subj in subjects:
        out.append(
            (
                base / "raw" / "unlabeled" / f"subject{subj}_ssl.csv",
                base / "manually_labeled" / "ssl" / f"subject{subj}_ssl_metadata.json",
                f"ssl_subject{subj}_ssl",
            )
        )
    return out


def convert(root: Path, out: Path, subjects: list[int]) -> int:
    """Write every recording of ``subjects`` found under the clone ``root`` into ``out``; their count."""
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    for raw, meta, stem in _items(root, subjects):
        if not raw.is_file() or not meta.is_file():
            print(f"  {stem}: not in the clone, skipped")
            continue
        df = pd.read_csv(raw)
        windows = json.loads(meta.read_text())["windows"]
        t = (df["millis"].to_numpy(dtype=np.float64) - float(df["millis"].iloc[0])) / 1000.0
        reps = [
            {"start_s": float(t[w["start_sample"]]), "end_s": float(t[min(len(t), w["end_sample"]) - 1])}
            for w in windows
        ]
        for sensor, placement in (("s0", "hip"), ("s1", "thigh")):
            csv = out / f"{stem}_{placement}.csv"
            table = pd.DataFrame({"t": t, **{a: df[f"{sensor}_{a}"].to_numpy() for a in AXES}})
            table.to_csv(csv, index=False, float_format="%.7g")
            sidecar = {
                "placement": placement,
                "sample_rate_hz": RATE_HZ,
                "notes": f"held-out check, {raw.name}",
            }
            csv.with_suffix(".json").write_text(json.dumps(sidecar, indent=1))
            labels = {
                "schema": "labels/1",
                "file": csv.name,
                "sets": [
                    {
                        "n_reps": len(reps),
                        "start_s": reps[0]["start_s"],
                        "end_s": reps[-1]["end_s"],
                        "reps": reps,
                    }
                ],
            }
            (out / f"{stem}_{placement}.labels.json").write_text(json.dumps(labels, indent=1))
            n += 1
    return n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("clone", type=Path, help="local clone of choijaeh01/Squat-Realtime-Classifier")
    ap.add_argument("out", type=Path, help="output folder (outside this repository)")
    ap.add_argument("--subjects", type=int, nargs="+", default=[3, 4, 5, 6])
    args = ap.parse_args(argv)
    repo = Path(__file__).resolve().parents[1]
    if args.out.resolve().is_relative_to(repo):
        print(
            f"squat_subjects: error: {args.out} is inside the repository; write it elsewhere", file=sys.stderr
        )
        return 2
    if not (args.clone / "squat_classifier_ssl").is_dir():
        print(
            f"squat_subjects: error: {args.clone} is not a clone of the dataset's repository", file=sys.stderr
        )
        return 2
    n = convert(args.clone, args.out, args.subjects)
    print(f"{n} recordings written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
