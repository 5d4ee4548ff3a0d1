"""Writing a simulated recording as canonical CSV + sidecars, and reading the CSV back.

(Kept apart from the simulator so that CSV writing can move to :mod:`imurep.io` by deleting
this module.)
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from imurep.model.samples import FloatArray
from imurep.sim.recording import SimRecording


def write_recording(rec: SimRecording, csv_path: str | Path) -> None:
    """Write a recording as canonical CSV plus its JSON sidecars.

    Parameters
    ----------
    rec
        The recording.
    csv_path
        Path of the CSV (header ``t,ax,ay,az,gx,gy,gz``; t in s with 6 decimals, m/s² and rad/s
        with 8 significant digits).  ``<stem>.json`` (metadata) and ``<stem>.truth.json`` (truth)
        are written next to it.
    """
    path = Path(csv_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        fh.write("t,ax,ay,az,gx,gy,gz\n")
        data = np.column_stack([rec.t_s, rec.acc_mps2, rec.gyr_rads])
        np.savetxt(fh, data, delimiter=",", fmt=["%.6f"] + ["%.8g"] * 6)
    stem = path.with_suffix("")
    Path(f"{stem}.json").write_text(json.dumps(rec.metadata, indent=2) + "\n", encoding="utf-8")
    Path(f"{stem}.truth.json").write_text(json.dumps(rec.truth, indent=2) + "\n", encoding="utf-8")


def read_csv_arrays(csv_path: str | Path) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Read back a CSV written by :func:`write_recording` (convenience for tests and demos).

    Returns
    -------
    (t_s, acc_mps2, gyr_rads)
        Shapes ``(n,)``, ``(n, 3)``, ``(n, 3)``.
    """
    with Path(csv_path).open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    arr = np.asarray(rows[1:], dtype=np.float64).reshape(-1, 7)
    return arr[:, 0].copy(), arr[:, 1:4].copy(), arr[:, 4:7].copy()
