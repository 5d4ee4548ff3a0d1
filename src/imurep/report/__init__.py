"""Views of an analysis: the terminal rep table and the plot reports (PNG, PDF and HTML pages).

Modules: :mod:`~imurep.report.table` (rich rep tables, no matplotlib), :mod:`~imurep.report.text`
(labels and verdicts), :mod:`~imurep.report.stats` (every figure the pages show),
:mod:`~imurep.report.style` (colours, markers, rc style), :mod:`~imurep.report.drawing` (page
furniture), :mod:`~imurep.report.set_page`, :mod:`~imurep.report.session_page`,
:mod:`~imurep.report.progress_page` and :mod:`~imurep.report.render` (pages, output formats and
worker processes).  This package imports nothing itself, so the table stays free of matplotlib.
"""
