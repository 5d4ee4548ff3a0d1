"""docs/phyphox/imurep-imu.phyphox: the experiment imurep asks phone users to load.

It must be what the live source looks for (acceleration *with* g and gyroscope, x/y/z/t outputs,
unbounded buffers), and its export must be readable by ``imurep analyze`` (phyphox importer).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from imurep.io import load_recording
from imurep.phone import api

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENT = ROOT / "docs" / "phyphox" / "imurep-imu.phyphox"


def _as_config(root: ET.Element) -> dict[str, object]:
    """What phyphox's /config would say of the experiment (RemoteServer.handleConfig)."""
    buffers = [{"name": c.text, "size": int(c.get("size", "0"))} for c in root.iter("container")]
    inputs = [
        {"source": s.get("type"), "outputs": [{o.get("component"): o.text} for o in s.iter("output")]}
        for s in root.find("input").iter("sensor")  # type: ignore[union-attr]
    ]
    return {"title": root.findtext("title"), "buffers": buffers, "inputs": inputs}


def test_the_experiment_is_what_the_live_source_expects() -> None:
    root = ET.parse(EXPERIMENT).getroot()
    assert root.tag == "phyphox"
    layout = api.parse_config(_as_config(root))
    assert layout.acc == api.DEFAULT_ACC and layout.gyr == api.DEFAULT_GYRO  # sizes 0: unbounded
    rates = {s.get("type"): float(s.get("rate", "0")) for s in root.iter("sensor")}
    assert rates == {"accelerometer": 100.0, "gyroscope": 100.0}


def test_its_export_is_read_by_imurep_analyze(tmp_path: Path) -> None:
    root = ET.parse(EXPERIMENT).getroot()
    folder = tmp_path / "export"
    folder.mkdir()
    t = np.arange(0, 8.0, 0.01)
    columns = {
        "accX": 0.1 * np.sin(t),
        "accY": np.zeros_like(t),
        "accZ": np.full_like(t, 9.81),
        "gyrX": 0.2 * np.cos(t),
        "gyrY": np.zeros_like(t),
        "gyrZ": np.zeros_like(t),
    }
    for export_set in root.find("export").iter("set"):  # type: ignore[union-attr]
        names = [d.get("name") for d in export_set.iter("data")]
        data = [t if d.text.endswith("_time") else columns[d.text] for d in export_set.iter("data")]  # type: ignore[union-attr]
        rows = "\n".join(",".join(f"{v:.6f}" for v in row) for row in np.stack(data, axis=1))
        (folder / f"{export_set.get('name')}.csv").write_text(
            ",".join(f'"{n}"' for n in names) + "\n" + rows + "\n"
        )
    rec = load_recording(folder)
    assert rec.metadata["format"] == "phyphox"
    np.testing.assert_allclose(rec.acc_mps2[:, 2], 9.81, atol=1e-6)
    np.testing.assert_allclose(rec.gyr_rads[:, 0], 0.2 * np.cos(rec.t_s - rec.t_s[0] + t[0]), atol=1e-5)
