"""The signal core must not pull in I/O, async or plotting libraries."""

from __future__ import annotations

import json
import subprocess
import sys

CORE_MODULES = (
    "imurep.model.results",
    "imurep.model.events",
    "imurep.model.samples",
    "imurep.model.codes",
    "imurep.model.units",
    "imurep.model.errors",
    "imurep.core.settings",
    "imurep.core.calibration",
    "imurep.core.orientation",
    "imurep.core.buffers",
    "imurep.core.tracking.reps",
    "imurep.core.tracking.lifts",
    "imurep.core.metrics",
    "imurep.core.faults",
    "imurep.core.pipeline",
)
FORBIDDEN = ("bleak", "asyncio", "pandas", "matplotlib")


def test_core_imports_no_edge_libraries() -> None:
    code = (
        "import importlib, json, sys\n"
        f"for name in {CORE_MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in {FORBIDDEN!r} if m in sys.modules)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


def test_forbidden_check_detects_imports() -> None:
    """Guard against a vacuous check: importing the DataFrame exports does load pandas (``imurep.io``
    itself no longer does: plain canonical files are parsed by numpy)."""
    code = "import sys, imurep.io.export; print('pandas' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "True"
