"""The Python API: :func:`analyze` a recording (file, DataFrame or arrays) into an :class:`Analysis`.

This is the one code path from a recording to its result: ``imurep analyze``, ``report``,
``export`` and ``batch`` call :func:`analyze` too.  It reads the recording's sidecar, picks the
exercise profile (``exercise``, else the sidecar's, else the default), layers the settings
(defaults < sidecar < profile < ``settings`` < ``overrides`` < ``placement`` / ``side``; see
:func:`imurep.core.settings.resolve`), applies the lifter's markers and runs the pipeline.

pandas is imported only when a DataFrame is asked for (:attr:`Analysis.reps`, :attr:`Analysis.sets`)
or given.

Example
-------
>>> import imurep
>>> a = imurep.analyze("recordings/demo_hip.csv")  # doctest: +SKIP
>>> a.reps[["set", "rep", "top_hold_s", "rom_deg"]]  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imurep.model.errors import DataValidationError, SettingsError

if TYPE_CHECKING:
    from typing import TypeAlias

    import numpy as np
    import pandas as pd
    from numpy.typing import ArrayLike

    from imurep.coaching.exercises import ExerciseProfile
    from imurep.core.settings import AnalysisSettings
    from imurep.model.events import Marker
    from imurep.model.results import SessionResult
    from imurep.model.samples import ImuChunk

    RecordingSource: TypeAlias = (
        str | os.PathLike[str] | pd.DataFrame | np.ndarray | tuple[ArrayLike, ArrayLike, ArrayLike] | ImuChunk
    )
    """What :func:`analyze` accepts."""

logger = logging.getLogger(__name__)

FIRST_SAMPLE_KEY = "first_sample_t_s"
"""Metadata key holding the time of a recording's first sample, s, when its sidecar states the wall
clock of that sample (``started_unix_s``): wall-clock times of reps are ``started_unix_s + t -
first_sample_t_s`` (:mod:`imurep.io.export`)."""


@dataclass(frozen=True, eq=False)
class Analysis:
    """The analysis of one recording, with table and JSON views.

    Attributes
    ----------
    result
        The typed result (:class:`imurep.model.results.SessionResult`): sets, reps, quality,
        the resolved settings and the recording's metadata.
    """

    result: SessionResult

    @functools.cached_property
    def _doc(self) -> dict[str, Any]:
        from imurep.coaching.advice import coach
        from imurep.coaching.exercises import load_catalog
        from imurep.io.results_json import result_to_jsonable

        catalog = load_catalog()
        profile = catalog.get(self.result.metadata.get("exercise"))
        coaching = coach(self.result, profile, None, catalog=catalog)
        return result_to_jsonable(self.result, coaching.to_dict())

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (schema ``imurep.analysis/1``, with the coaching of this recording
        alone) as plain Python objects; a fresh copy."""
        doc: dict[str, Any] = json.loads(json.dumps(self._doc))
        return doc

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """The JSON document as text, the same as ``imurep analyze --no-store --json``; also
        written to ``path`` (UTF-8) when given."""
        text = json.dumps(self._doc, indent=2, allow_nan=False, ensure_ascii=False) + "\n"
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    @property
    def reps(self) -> pd.DataFrame:
        """One row per rep (:func:`imurep.io.export.reps_frame`): set, rep, phase times ``*_s``,
        ``rom_deg``, ``peak_tilt_deg``, faults; ``*_utc`` wall-clock times when the sidecar has
        ``started_unix_s``."""
        from imurep.io.export import reps_frame

        return reps_frame(self._doc)

    @property
    def sets(self) -> pd.DataFrame:
        """One row per set (:func:`imurep.io.export.sets_frame`): side, times, rep counts, means,
        fault counts."""
        from imurep.io.export import sets_frame

        return sets_frame(self._doc)


def analyze(
    source: RecordingSource,
    *,
    placement: str | None = None,
    exercise: str | None = None,
    side: str | None = None,
    sides: Sequence[str] | None = None,
    settings: AnalysisSettings | Mapping[str, Any] | None = None,
    overrides: Iterable[tuple[str, Any]] = (),
    format: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    name: str | None = None,
    keep_traces: bool = True,
) -> Analysis:
    """Analyse a recording.

    Parameters
    ----------
    source
        A recording path in any supported format (canonical CSV, MetaBase, phyphox, Sensor Logger,
        Physics Toolbox; a ``<stem>.json`` sidecar beside a CSV is read), a ``pandas.DataFrame``
        with columns ``t`` (s), ``ax, ay, az`` (m/s², gravity included) and ``gx, gy, gz`` (rad/s)
        (common aliases such as ``time``, ``acc_x`` are accepted), an array of shape ``(n, 7)`` in
        that column order, a tuple ``(t_s (n,), acc_mps2 (n, 3), gyr_rads (n, 3))`` or an
        :class:`imurep.model.samples.ImuChunk`.  Accelerations in g and rates in °/s are converted
        with a warning, as for files.
    placement
        ``"hip"`` or ``"thigh"``; wins over everything (default: the sidecar's, else ``"hip"``).
    exercise
        An exercise profile name or a unique part of it (default: the sidecar's, else
        ``single_leg_hip_thrust``); see ``imurep exercises``.
    side
        Working leg of every set, ``"left"`` or ``"right"`` (default: the sidecar's).
    sides
        Working leg per set in order, e.g. ``["left", "right"]`` (the last repeats); ``side`` wins.
    settings
        A nested settings mapping (as a ``--config`` file, partial), or an
        :class:`~imurep.core.settings.AnalysisSettings` used whole (the sidecar's and the profile's
        settings then do not apply; ``placement`` and ``side`` still win).
    overrides
        ``(dotted key, value)`` pairs applied after ``settings`` (as ``--set``).
    format
        ``None``/``"auto"`` to detect, else a format name (file sources only).
    metadata
        Sidecar keys for an in-memory source (e.g. ``{"sample_rate_hz": 200}``); for a file they
        are laid over its sidecar.
    name
        The ``source`` recorded in the result (default: the path, or ``"<DataFrame>"`` /
        ``"<arrays>"``).
    keep_traces
        Keep each set's angle trace (``SetResult.trace``, drawn by the plot report); without it
        memory stays bounded by the number of reps.

    Returns
    -------
    Analysis

    Raises
    ------
    DataValidationError
        The recording cannot be read or is too short (one line naming the file).
    SettingsError
        An unknown exercise, setting, placement or side.
    """
    label, chunks, meta = _open(source, format)
    if metadata:
        meta.update(metadata)
    # Read the first chunk before importing the (slower to import) core, so that a bad file is
    # reported at once; the rest of the file is streamed through the analysis.
    first = next(chunks, None)
    if first is None:
        raise DataValidationError("holds no samples", path=label)

    from imurep.core.pipeline import analyze as run_pipeline
    from imurep.core.settings import AnalysisSettings, resolve
    from imurep.io.loader import nominal_rate_hz

    profile = exercise_profile(exercise, meta)
    if isinstance(settings, AnalysisSettings):
        config: Mapping[str, Any] | None = settings.to_dict()
    elif settings is None or isinstance(settings, Mapping):
        config = settings
    else:
        raise SettingsError(f"settings must be a mapping or AnalysisSettings, got {type(settings).__name__}")
    resolved = resolve(
        sidecar=None if isinstance(settings, AnalysisSettings) else meta,
        profile=None if isinstance(settings, AnalysisSettings) else profile.settings_overrides(),
        config=config,
        overrides=list(overrides),
        placement=placement,
        sides=[side] if side else (list(sides) if sides else None),
    )
    logger.debug("settings: %s", resolved.to_dict())
    if resolved.placement not in profile.placements:
        logger.warning(
            "%s is analysed with the sensor on the %s; its profile expects it on the %s",
            profile.name,
            resolved.placement,
            " or ".join(profile.placements),
        )
    if isinstance(meta.get("started_unix_s"), int | float):
        meta[FIRST_SAMPLE_KEY] = float(first.t_s[0])
    result = run_pipeline(
        itertools.chain([first], chunks),
        resolved,
        sample_rate_hz=nominal_rate_hz(meta),
        source=name if name is not None else label,
        metadata=meta,
        markers=markers_of(meta),
        keep_traces=keep_traces,
    )
    return Analysis(result)


# --- parts shared with the CLI ---------------------------------------------------------------------


def exercise_profile(exercise: str | None, meta: dict[str, Any]) -> ExerciseProfile:
    """The profile of a recording (``exercise``, else the sidecar's ``exercise``, else the
    default); records its name in ``meta["exercise"]``.  Its
    :meth:`~imurep.coaching.exercises.ExerciseProfile.settings_overrides` are the profile layer
    of :func:`imurep.core.settings.resolve`."""
    from imurep.coaching.exercises import get_profile

    stored = meta.get("exercise") if isinstance(meta.get("exercise"), str) else None
    try:
        profile = get_profile(exercise or stored)
    except SettingsError as exc:
        if exercise is None and stored is not None:  # from the sidecar: say so
            raise SettingsError(f"the recording's sidecar names {exc}; fix it or pass --exercise") from None
        raise
    meta["exercise"] = profile.name
    return profile


def markers_of(meta: Mapping[str, Any]) -> list[Marker]:
    """The lifter's markers (new set / side switch) saved by ``imurep live`` in the sidecar."""
    from imurep.model.events import Marker

    raw = meta.get("markers") or []
    if not isinstance(raw, list):
        raise SettingsError("sidecar 'markers' must be a list of {t_s, kind, side} objects")
    try:
        return [Marker(float(m["t_s"]), str(m["kind"]), m.get("side")) for m in raw]
    except (KeyError, TypeError, ValueError) as exc:
        raise SettingsError(
            f"sidecar 'markers' entry is malformed ({exc}); expected {{t_s, kind, side}}"
        ) from None


# --- sources -----------------------------------------------------------------------------------------


def _open(source: object, fmt: str | None) -> tuple[str, Iterator[ImuChunk], dict[str, Any]]:
    """``(label, chunks, metadata)`` of any accepted source."""
    if isinstance(source, str | os.PathLike):
        from imurep.io.loader import open_recording

        stream = open_recording(Path(source), fmt)
        return str(source), stream.chunks, dict(stream.metadata)
    if fmt not in (None, "auto"):
        raise SettingsError("format applies to a file source only")
    from imurep.model.samples import ImuChunk

    if isinstance(source, ImuChunk):
        return _in_memory("<arrays>", "arrays", source.t_s, source.acc_mps2, source.gyr_rads)
    if hasattr(source, "columns") and hasattr(source, "to_numpy"):  # a pandas DataFrame (no import)
        return _in_memory("<DataFrame>", "dataframe", *_frame_columns(source))
    import numpy as np

    if isinstance(source, tuple | list) and len(source) == 3:
        t, acc, gyr = (np.asarray(a, dtype=np.float64) for a in source)
        return _in_memory("<arrays>", "arrays", t, acc, gyr)
    if isinstance(source, np.ndarray):
        arr = np.asarray(source, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] != 7:
            raise DataValidationError(f"an array source must have shape (n, 7) (t, ax..gz), got {arr.shape}")
        return _in_memory("<arrays>", "arrays", arr[:, 0], arr[:, 1:4], arr[:, 4:7])
    raise DataValidationError(
        f"cannot analyse a {type(source).__name__}: give a path, a DataFrame with columns t, ax..gz, "
        "an (n, 7) array or a (t_s, acc_mps2, gyr_rads) tuple"
    )


def _frame_columns(frame: Any) -> tuple[Any, Any, Any]:
    """``t, acc (n, 3), gyr (n, 3)`` of a DataFrame whose columns are named as a canonical CSV."""
    import numpy as np

    from imurep.io.canonical import CANONICAL_COLUMNS, canonical_column

    found: dict[str, Any] = {}
    for col in frame.columns:
        canon = canonical_column(str(col))
        if canon is not None and canon not in found:
            found[canon] = col
    missing = [c for c in CANONICAL_COLUMNS if c not in found]
    if missing:
        have = ", ".join(map(str, list(frame.columns)[:12]))
        raise DataValidationError(
            f"the DataFrame lacks column(s) {', '.join(missing)}; expected t, ax, ay, az, gx, gy, gz "
            f"(s, m/s², rad/s), got: {have}"
        )
    try:
        values = frame[[found[c] for c in CANONICAL_COLUMNS]].to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataValidationError(f"the DataFrame's t, ax..gz columns are not all numeric ({exc})") from None
    return values[:, 0], values[:, 1:4], values[:, 4:7]


def _in_memory(label: str, kind: str, t: Any, acc: Any, gyr: Any) -> tuple[str, Iterator[ImuChunk], dict]:
    from imurep.io.units import check_units
    from imurep.model.samples import ImuChunk

    chunk = ImuChunk(t, acc, gyr)  # shapes, finiteness and time order are checked here
    meta: dict[str, Any] = {"format": kind}
    units = check_units(chunk.t_s, chunk.acc_mps2, chunk.gyr_rads, label)
    if units.notes():
        meta["conversions"] = units.notes()
        chunk = ImuChunk(chunk.t_s, chunk.acc_mps2 * units.acc_scale, chunk.gyr_rads * units.gyr_scale)
    return label, iter([chunk]), meta
