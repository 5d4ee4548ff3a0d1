"""``python -m imurep``: the command line interface."""

from __future__ import annotations

from imurep.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
