"""The simulator sits below io in the layers: it imports only model and core (and numpy/scipy)."""

from __future__ import annotations

import json
import subprocess
import sys

UPPER = ("imurep.io", "imurep.ble", "imurep.coaching", "imurep.live", "imurep.report", "imurep.cli")


def test_sim_imports_no_upper_layer() -> None:
    code = (
        "import json, sys, imurep.sim\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('imurep.') "
        "or m in ('pandas', 'matplotlib', 'bleak', 'asyncio'))))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    loaded = json.loads(proc.stdout)
    assert "imurep.sim.recording" in loaded  # the check sees the simulator's own modules
    bad = [m for m in loaded if m in ("pandas", "matplotlib", "bleak", "asyncio") or m.startswith(UPPER)]
    assert bad == []
