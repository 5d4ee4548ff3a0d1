"""The light report modules (terminal table, wording, figures, style) must not pull in matplotlib."""

from __future__ import annotations

import json
import subprocess
import sys

LIGHT_MODULES = (
    "imurep.report",
    "imurep.report.table",
    "imurep.report.text",
    "imurep.report.stats",
    "imurep.report.style",
)


def _loaded_after_import(modules: tuple[str, ...], watched: str) -> bool:
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps({watched!r} in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert isinstance(result, bool)
    return result


def test_table_text_and_stats_import_no_matplotlib() -> None:
    assert _loaded_after_import(LIGHT_MODULES, "matplotlib") is False


def test_matplotlib_check_detects_imports() -> None:
    """Guard against a vacuous check: importing the renderer does load matplotlib."""
    assert _loaded_after_import(("imurep.report.render",), "matplotlib") is True
