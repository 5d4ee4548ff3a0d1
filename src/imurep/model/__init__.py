"""The model layer: results, events, samples, codes, units and errors (no behaviour, no I/O)."""
