"""Manually labelled rep windows beside a recording (``NAME.labels.json``), and matching them
with the reps an analysis found.

The labels file (as in ``../shared/data/squat-realtime/``, see its ``SOURCE.md``) holds
``{"sets": [{"n_reps", "start_s", "end_s", "reps": [{"start_s", "end_s"}, ...]}, ...]}``, times in
the recording's own time base, s.  Used by ``benchmarks/real_squats.py`` and the tests on real
recordings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from imurep.model.errors import DataValidationError


@dataclass(frozen=True)
class RepWindow:
    """A rep's time span, s (recording time base)."""

    start_s: float
    end_s: float


def labels_path(recording: str | Path) -> Path:
    """The labels file of a recording: ``NAME.labels.json`` beside ``NAME.csv``."""
    return Path(recording).with_suffix(".labels.json")


def read_rep_labels(recording: str | Path) -> list[RepWindow]:
    """The labelled reps of ``recording`` (all sets, in time order).

    Raises
    ------
    DataValidationError
        The labels file is missing or not in the format described above.
    """
    path = labels_path(recording)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        reps = [RepWindow(float(r["start_s"]), float(r["end_s"])) for s in doc["sets"] for r in s["reps"]]
    except FileNotFoundError:
        raise DataValidationError(f"{path}: no labels file") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise DataValidationError(f"{path}: not a rep labels file ({exc})") from None
    return sorted(reps, key=lambda r: r.start_s)


def match_windows(labels: list[RepWindow], found: list[RepWindow]) -> list[tuple[int, int]]:
    """One-to-one pairs ``(label index, found index)`` of overlapping windows, the largest overlap
    first (greedy)."""
    pairs = []
    for i, a in enumerate(labels):
        for j, b in enumerate(found):
            overlap = min(a.end_s, b.end_s) - max(a.start_s, b.start_s)
            if overlap > 0:
                pairs.append((overlap, i, j))
    pairs.sort(reverse=True)
    used_i: set[int] = set()
    used_j: set[int] = set()
    out = []
    for _, i, j in pairs:
        if i not in used_i and j not in used_j:
            used_i.add(i)
            used_j.add(j)
            out.append((i, j))
    return sorted(out)
