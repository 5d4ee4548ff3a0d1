"""Report rendering speed: a 1-hour 200 Hz session analysed, then rendered to PNG, PDF and HTML.

Reuses the cached 1 h input of ``benchmarks/throughput.py`` (``benchmarks/_data/``, built from
simulated recordings on first use).  The analysis is timed but not part of the target; the target
is rendering the whole report (every format) in <= 20 s.

Usage::

    python benchmarks/report_speed.py [--hours H] [--rate HZ] [--rebuild] [--strict] [--out DIR] [--parts]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from throughput import DATA_DIR, build_input, truth_path

from imurep import sim
from imurep.core.pipeline import analyze
from imurep.core.settings import AnalysisSettings
from imurep.io import iter_canonical_chunks
from imurep.report import render as report
from imurep.report.html import build_report_html

TARGET_S = 20.0

T = TypeVar("T")


def timed(label: str, func: Callable[[], T]) -> tuple[float, T]:
    """Run ``func`` once, print and return its wall time (s) and its value."""
    start = time.perf_counter()
    value = func()
    elapsed = time.perf_counter() - start
    print(f"  {label:<34} {elapsed:8.2f} s")
    return elapsed, value

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--rate", type=float, default=200.0, help="sample rate, Hz")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached input file")
    parser.add_argument("--strict", action="store_true", help=f"exit 1 when over {TARGET_S:g} s (per hour)")
    parser.add_argument("--out", help="keep the report in this folder (default: a temporary folder)")
    parser.add_argument("--parts", action="store_true", help="also time building, PNG, PDF and HTML apart")
    args = parser.parse_args()

    sim_hash = hashlib.sha256(Path(sim.__file__).read_bytes()).hexdigest()[:8]
    path = DATA_DIR / f"sim_{args.hours:g}h_{args.rate:g}hz_{sim_hash}.csv"
    if args.rebuild or not path.is_file() or not truth_path(path).is_file():
        build_input(path, args.hours, args.rate)
    print(f"input: {path} ({path.stat().st_size / 1e6:.1f} MB)")
    settings = AnalysisSettings(placement="hip", sides=("left", "right"))
    _, result = timed(
        "analyze (not in the target)",
        lambda: analyze(iter_canonical_chunks(path), settings, source=str(path)),
    )
    n_points = sum(len(s.trace.t_s) for s in result.sets if s.trace is not None)

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out) if args.out else Path(tmp) / "report"
        total_s, files = timed("write_report(folder): all formats", lambda: report.write_report(result, out))
        sizes = {p.name: p.stat().st_size for p in files.paths}
        if args.parts:
            pages_s, pages = timed("  build figures", lambda: report.build_pages(result))
            png_s, pngs = timed(
                "  PNG, every page, 1 process", lambda: [report.figure_png(p.figure) for p in pages]
            )
            pdf_s, _ = timed("  PDF, all pages", lambda: report.write_pdf(pages, Path(tmp) / "r.pdf"))
            html_s, _ = timed(
                "  HTML (reuses the PNGs)",
                lambda: build_report_html(result, report.report_coaching(result), pages, pngs, title=""),
            )

    budget = TARGET_S * args.hours
    print()
    print(f"  sets / reps             {len(result.sets):>6} / {sum(len(s.reps) for s in result.sets)}")
    print(f"  trace samples (sets)    {n_points:>12,}")
    print(f"  pages                   {files.pages:>12}  (rendered with {report.default_jobs()} process(es))")
    print(
        f"  report.pdf / .html      {sizes['report.pdf'] / 1e6:>8.1f} MB"
        f" / {sizes['report.html'] / 1e6:.1f} MB"
    )
    print(f"  total (all formats)     {total_s:>12.2f} s  (target <= {budget:.1f} s)")
    ok = total_s <= budget
    print(f"  result                  {'within target' if ok else 'OVER TARGET'}")
    return 0 if ok or not args.strict else 1


if __name__ == "__main__":
    sys.exit(main())
