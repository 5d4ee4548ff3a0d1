"""``imurep report``: analyse a recording and render its plot report."""

from __future__ import annotations

import argparse
from pathlib import Path

from imurep.cli import coaching as coaching_cli
from imurep.cli.analyze import analyze_args, write_report_note


def cmd_report(args: argparse.Namespace) -> int:
    """``imurep report``: one page per set and one for the session (PNG, PDF, HTML)."""
    from imurep.report.render import check_report_path

    out = Path(args.out) if args.out else Path(f"{Path(args.path).stem}-report")
    check_report_path(out)
    result = analyze_args(args).result
    extra = coaching_cli.progress_pages(result, args.db) if args.progress else []
    print(write_report_note(result, out, extra, paper=args.paper))
    return 0
