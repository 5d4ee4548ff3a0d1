"""Plot reports (matplotlib): per-set, session and progress pages as PNG, PDF and HTML."""
