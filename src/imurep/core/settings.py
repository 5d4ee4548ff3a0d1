"""Analysis settings: every value that decides an analysis, typed, validated and serialisable.

:class:`AnalysisSettings` nests one frozen settings dataclass per stage; :func:`resolve` is the one
place where the layers (defaults < sidecar < exercise profile < ``--config`` < ``--set`` < flags)
are combined.
"""

from __future__ import annotations

import copy
import difflib
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, is_dataclass, replace
from typing import Any, Final

from imurep.core.calibration import CalibrationSettings
from imurep.core.faults import FaultSettings
from imurep.core.orientation import OrientationSettings
from imurep.core.tracking.lifts import LiftSettings
from imurep.core.tracking.rep_settings import DEPRECATED_KEYS, SegmentationSettings
from imurep.model.codes import DEFAULT_PLACEMENT, PLACEMENTS, SIDES
from imurep.model.errors import SettingsError

logger = logging.getLogger(__name__)

MODES: Final = ("reps", "leg_lift")
"""What is counted: reps (the movement is the rep), or leg lifts during a held bridge."""


@dataclass(frozen=True)
class AnalysisSettings:
    """Everything that decides an analysis; saved in every result so it can be reproduced.

    Attributes
    ----------
    placement
        Segment carrying the sensor: ``"hip"`` (pelvis) or ``"thigh"``.
    mode
        ``"reps"`` (the movement is the rep: :mod:`imurep.segmentation`) or ``"leg_lift"`` (a held
        bridge whose leg lifts are counted: :mod:`imurep.lifts`).
    sides
        Working side of each set in order (the last one repeats for further sets); empty = unknown.
    hop_s
        Block length of the time grid the stages run on, s.
    acc_highpass_hz
        Corner of the low-pass whose residual is the "high-frequency acceleration" (impacts), Hz.
    speed_time_constant_s
        Time constant of the smoothing of the angular speed that decides "quiet" (soft-tissue
        wobble must not count as rest), s.
    """

    placement: str = DEFAULT_PLACEMENT
    mode: str = "reps"
    sides: tuple[str, ...] = ()
    hop_s: float = 0.05
    acc_highpass_hz: float = 3.0
    speed_time_constant_s: float = 0.1
    calibration: CalibrationSettings = field(default_factory=CalibrationSettings)
    orientation: OrientationSettings = field(default_factory=OrientationSettings)
    segmentation: SegmentationSettings = field(default_factory=SegmentationSettings)
    faults: FaultSettings = field(default_factory=FaultSettings)
    lifts: LiftSettings = field(default_factory=LiftSettings)

    def __post_init__(self) -> None:
        if self.placement not in PLACEMENTS:
            raise SettingsError(f"placement must be one of {', '.join(PLACEMENTS)}, got {self.placement!r}")
        if self.mode not in MODES:
            raise SettingsError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        object.__setattr__(self, "sides", tuple(self.sides))
        for side in self.sides:
            if side not in SIDES:
                raise SettingsError(f"side must be one of {', '.join(SIDES)}, got {side!r}")
        if not 0.005 <= self.hop_s <= 1.0:
            raise SettingsError(f"hop_s must be in [0.005, 1] s, got {self.hop_s!r}")
        if not 0 < self.speed_time_constant_s <= 2:
            raise SettingsError(
                f"speed_time_constant_s must be in (0, 2] s, got {self.speed_time_constant_s!r}"
            )
        if not 0 < self.acc_highpass_hz < 50:
            raise SettingsError(f"acc_highpass_hz must be in (0, 50) Hz, got {self.acc_highpass_hz!r}")

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON view (tuples become lists)."""
        d = asdict(self)
        return _jsonable(d)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> AnalysisSettings:
        """Build from a (possibly partial) dict as produced by :meth:`to_dict`
        (``resolve(config=d)``).

        Raises
        ------
        SettingsError
            On unknown keys or invalid values.
        """
        return resolve(config=d)

    def replace(self, **changes: Any) -> AnalysisSettings:
        """A copy with top-level fields changed."""
        return replace(self, **changes)


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    return x


# --- resolution --------------------------------------------------------------------------------


def resolve(
    *,
    sidecar: Mapping[str, Any] | None = None,
    profile: Mapping[str, Any] | None = None,
    config: Mapping[str, Any] | None = None,
    overrides: Iterable[tuple[str, Any]] = (),
    placement: str | None = None,
    sides: Sequence[str] | None = None,
) -> AnalysisSettings:
    """The analysis settings of the given layers, each overriding the ones before it (pure).

    Parameters
    ----------
    sidecar
        The recording's sidecar (metadata): its ``"settings"`` object (what a live session ran
        with, nested as :meth:`AnalysisSettings.to_dict`) is the first layer on the defaults; its
        ``"placement"`` and ``"side"`` / ``"sides"`` (one per set) are used as described below.
    profile
        The exercise profile's settings, nested
        (:meth:`imurep.coaching.exercises.ExerciseProfile.settings_overrides`).
    config
        A settings file's object (``--config``), nested, partial.
    overrides
        ``(dotted key, value)`` pairs (``--set``), applied in order; a value replaces the whole
        entry (an object given for a stage replaces that stage, its other settings take their
        defaults).
    placement
        ``--placement``: wins over every layer.  Without it the placement is the one set by
        ``config`` / ``overrides``, else the sidecar's ``"placement"``, else
        :data:`~imurep.model.codes.DEFAULT_PLACEMENT`.
    sides
        ``--side`` (as a one-element list): wins over every layer.  Without it the sides are the
        ones set by ``config`` / ``overrides``, else the sidecar's ``"sides"``, else its ``"side"``,
        else those of the earlier layers.

    Returns
    -------
    AnalysisSettings

    Raises
    ------
    SettingsError
        A key names no setting (with the closest known key as a hint, or the keys known there),
        a value has the wrong type, or a value is out of range.
    """
    tree = AnalysisSettings().to_dict()
    meta = sidecar or {}
    if isinstance(meta.get("settings"), dict):
        _merge(tree, _without_removed(meta["settings"]))
    if profile is not None:
        _merge(tree, profile)
    explicit: set[str] = set()  # top-level keys set through config / overrides
    if config is not None:
        if not isinstance(config, Mapping):
            raise SettingsError(f"settings root must be an object, got {config!r}")
        _refuse_removed(config)
        _merge(tree, config)
        explicit.update(config)
    for key, value in overrides:
        stage, _, name = key.partition(".")
        if stage == "segmentation" and name in DEPRECATED_KEYS:
            raise SettingsError(f"setting {key} no longer exists: {DEPRECATED_KEYS[name]}")
        _set(tree, key, value)
        explicit.add(key.split(".")[0])
    if placement:
        tree["placement"] = placement
    elif "placement" not in explicit:
        tree["placement"] = meta.get("placement") or DEFAULT_PLACEMENT
    if sides:
        tree["sides"] = list(sides)
    elif "sides" not in explicit:
        if meta.get("sides"):
            tree["sides"] = list(meta["sides"])
        elif meta.get("side"):
            tree["sides"] = [meta["side"]]
    built: AnalysisSettings = _build(AnalysisSettings, tree, "")
    return built


def _without_removed(stored: Mapping[str, Any]) -> dict[str, Any]:
    """Settings stored by an earlier version, without the ones that no longer exist (warned)."""
    out = dict(stored)
    seg = out.get("segmentation")
    if isinstance(seg, Mapping):
        gone = [k for k in seg if k in DEPRECATED_KEYS]
        for k in gone:
            logger.warning(
                "ignoring the recording's stored setting segmentation.%s: %s", k, DEPRECATED_KEYS[k]
            )
        out["segmentation"] = {k: v for k, v in seg.items() if k not in DEPRECATED_KEYS}
    return out


def _refuse_removed(config: Mapping[str, Any]) -> None:
    seg = config.get("segmentation")
    if isinstance(seg, Mapping):
        for k in seg:
            if k in DEPRECATED_KEYS:
                raise SettingsError(f"setting segmentation.{k} no longer exists: {DEPRECATED_KEYS[k]}")


def _leaf_keys(d: Mapping[str, Any], prefix: str = "") -> list[str]:
    keys: list[str] = []
    for k, v in d.items():
        if isinstance(v, dict):
            keys.extend(_leaf_keys(v, f"{prefix}{k}."))
        else:
            keys.append(prefix + k)
    return keys


def _set(tree: dict[str, Any], key: str, value: Any) -> None:
    """Set the dotted ``key`` of ``tree`` in place; it must name an existing entry."""
    node = tree
    parts = key.split(".")
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part not in node or (not last and not isinstance(node[part], dict)):
            close = difflib.get_close_matches(key, _leaf_keys(tree), n=1, cutoff=0.6)
            if close:
                hint = f"; did you mean {close[0]!r}?"
            else:
                prefix = ".".join(parts[:i]) + "." if i else ""
                hint = f"; known here: {', '.join(prefix + k for k in node)}"
            raise SettingsError(f"unknown setting {key!r}{hint}")
        if last:
            node[part] = copy.deepcopy(value)
        else:
            node = node[part]


def _get(tree: Mapping[str, Any], key: str) -> Any:
    node: Any = tree
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _merge(tree: dict[str, Any], changes: Mapping[str, Any], prefix: str = "") -> None:
    """Deep-merge the nested ``changes`` into ``tree`` in place; every key must already exist."""
    for k, v in changes.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and isinstance(_get(tree, key), dict):
            _merge(tree, v, key + ".")
        else:
            _set(tree, key, v)


def _build(cls: type, d: Any, prefix: str) -> Any:
    """An instance of the settings dataclass ``cls`` from the (possibly partial) nested ``d``."""
    if not isinstance(d, dict):
        raise SettingsError(f"settings {prefix.rstrip('.') or 'root'} must be an object, got {d!r}")
    known = {f.name: f for f in fields(cls)}
    kwargs: dict[str, Any] = {}
    defaults = cls()
    for k, v in d.items():
        if k not in known:
            raise SettingsError(f"unknown setting {prefix}{k!r}; known: {', '.join(known)}")
        current = getattr(defaults, k)
        if is_dataclass(current):
            kwargs[k] = _build(type(current), v, f"{prefix}{k}.")
        elif isinstance(current, tuple):
            kwargs[k] = tuple(v) if isinstance(v, list | tuple) else (v,)
        elif isinstance(current, float) and isinstance(v, int | float) and not isinstance(v, bool):
            kwargs[k] = float(v)
        else:
            if current is not None and not isinstance(v, type(current)):
                raise SettingsError(f"setting {prefix}{k} must be {type(current).__name__}, got {v!r}")
            kwargs[k] = v
    try:
        return cls(**kwargs)
    except TypeError as e:  # pragma: no cover - guarded by the checks above
        raise SettingsError(f"bad settings {prefix}: {e}") from e
