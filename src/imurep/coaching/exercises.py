"""Exercise profiles of the hip-thrust family and the progression rules, read from one data file.

The profiles live in ``imurep/data/exercises.toml`` (package data), each number with the reason
for its value.  :func:`load_catalog` reads and validates the file into frozen dataclasses;
:meth:`ExerciseProfile.settings_overrides` maps a profile onto the nested
:class:`~imurep.core.settings.AnalysisSettings` dictionary, the profile layer of
:func:`imurep.core.settings.resolve`.

Precedence on the command line: ``--set`` > ``--config`` > ``--exercise`` profile > defaults.
"""

from __future__ import annotations

import difflib
import functools
import logging
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from imurep.coaching.cues import FAULT_CUES, cue_of
from imurep.core.settings import MODES, resolve
from imurep.model.codes import FAULTS, PHASE_ORDERS, PLACEMENTS
from imurep.model.errors import SettingsError

logger = logging.getLogger(__name__)

EXERCISES_SCHEMA = "imurep.exercises/1"

_NUMBER_FIELDS = (
    "rep_range",
    "min_top_hold_s",
    "min_eccentric_s",
    "tilt_threshold_deg",
    "rom_deg",
)
_SETTING_OF_FIELD = {
    "min_top_hold_s": "faults.min_top_hold_s",
    "min_eccentric_s": "faults.min_eccentric_s",
    "tilt_threshold_deg": "faults.tilt_threshold_deg",
}
_RULE_FIELDS = (
    "sets_required",
    "max_faulty_reps",
    "struggle_min_clean_reps",
    "struggle_tilt_fraction",
    "struggle_rushed_fraction",
    "struggle_sets_fraction",
    "struggle_sessions",
    "plateau_sessions",
    "plateau_min_gain",
    "over_extension_deg",
)


@dataclass(frozen=True)
class ExerciseProfile:
    """What the analysis expects and flags for one exercise.

    Attributes
    ----------
    name, title, setup
        Identifier (``--exercise NAME``), display name and a one-line description of the setup.
    legs
        1 (single-leg: sets are per leg) or 2 (both legs work together).
    kind
        ``"reps"`` or ``"leg_lift"``: the analysis mode (see :data:`imurep.core.settings.MODES`).
    rep_range
        Controlled reps per set (per leg) that meet the progression rule, inclusive.
    min_top_hold_s, min_eccentric_s
        Shortest squeeze at the top (for a lower-first exercise: the pause at the bottom) / lowering
        that counts as controlled, s: the tempo targets.
    tilt_threshold_deg
        Largest pelvis tilt/rotation before "hips not level", degrees.
    rom_deg
        Expected range of motion of the sensor's segment (low, high), degrees.
    faults
        Fault codes that apply (enabled in the analysis, and so cued).
    harder, easier
        Names of the next harder / easier variation (None: the end of the ladder).
    placements
        Where the sensor may sit for this exercise (:data:`~imurep.model.codes.PLACEMENTS`): the
        analysis warns about another placement.
    phase_order
        ``"lift_first"`` (the rest is at the bottom: thrusts, bridges) or ``"lower_first"`` (the
        rest is standing: squats, split squats, step-ups, RDLs); see
        :data:`~imurep.model.codes.PHASE_ORDERS`.
    settings
        Further settings, dotted name → value.
    cues
        Cue of each fault for this exercise (the defaults of :data:`~imurep.coaching.cues.FAULT_CUES`
        unless the profile words it differently).
    reasons
        Why each number has its value, by field name or dotted setting name.
    """

    name: str
    title: str
    setup: str
    legs: int
    kind: str
    rep_range: tuple[int, int]
    min_top_hold_s: float
    min_eccentric_s: float
    tilt_threshold_deg: float
    rom_deg: tuple[float, float]
    faults: tuple[str, ...]
    harder: str | None = None
    easier: str | None = None
    placements: tuple[str, ...] = PLACEMENTS
    phase_order: str = "lift_first"
    settings: dict[str, Any] = field(default_factory=dict)
    cues: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)

    @property
    def single_leg(self) -> bool:
        """Whether sets are per leg."""
        return self.legs == 1

    def cue(self, code: str) -> str:
        """The coaching cue for fault ``code`` in this exercise (see :func:`~imurep.coaching.cues.cue_of`)."""
        return cue_of(code, self)

    def settings_overrides(self) -> dict[str, Any]:
        """The settings this profile sets, nested by stage (the ``profile`` layer of
        :func:`imurep.core.settings.resolve`)."""
        flat: dict[str, Any] = {key: getattr(self, f) for f, key in _SETTING_OF_FIELD.items()}
        flat["faults.enabled"] = list(self.faults)
        flat["mode"] = self.kind  # a kind is an analysis mode
        flat["faults.phase_order"] = self.phase_order
        flat.update(self.settings)
        nested: dict[str, Any] = {}
        for key, value in flat.items():
            node = nested
            *parents, leaf = key.split(".")
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = value
        return nested


@dataclass(frozen=True)
class ProgressionRules:
    """Thresholds of the progression advice (see :mod:`imurep.coaching`); reasons in ``reasons``."""

    sets_required: int = 3
    max_faulty_reps: int = 0
    struggle_min_clean_reps: int = 6
    struggle_tilt_fraction: float = 0.5
    struggle_rushed_fraction: float = 0.8
    struggle_sets_fraction: float = 0.5
    struggle_sessions: int = 2
    plateau_sessions: int = 3
    plateau_min_gain: float = 1.0
    over_extension_deg: float = 8.0
    reasons: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Catalog:
    """All exercise profiles and the progression rules."""

    profiles: dict[str, ExerciseProfile]
    default: str
    rules: ProgressionRules
    path: str = ""

    def get(self, name: str | None) -> ExerciseProfile:
        """The profile called ``name`` (the default one when None).

        Raises
        ------
        SettingsError
            Unknown name (with the closest known name as a hint).
        """
        if name is None:
            return self.profiles[self.default]
        key = name.strip().lower().replace("-", "_").replace(" ", "_")
        if key in self.profiles:
            return self.profiles[key]
        partial = [p for p in self.profiles if key in p]
        if len(partial) == 1:  # a unique part of a name: "pause", "deficit", "leg_lift"
            return self.profiles[partial[0]]
        close = difflib.get_close_matches(key, list(self.profiles), n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise SettingsError(
            f"unknown exercise {name!r}{hint} (known: {', '.join(self.profiles)}; see `imurep exercises`)"
        )


def _number(entry: object, where: str) -> tuple[object, str]:
    """``(value, reason)`` of an inline table ``{value = ..., reason = "..."}``."""
    if not isinstance(entry, dict) or set(entry) != {"value", "reason"}:
        raise SettingsError(f'{where} must be an inline table {{value = ..., reason = "..."}}, got {entry!r}')
    reason = entry["reason"]
    if not isinstance(reason, str) or not reason.strip():
        raise SettingsError(f"{where}: the reason must be a non-empty string")
    return entry["value"], reason


def _real(v: object, where: str, lo: float = 0.0) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not v >= lo:
        raise SettingsError(f"{where} must be a number >= {lo:g}, got {v!r}")
    return float(v)


def _pair(v: object, where: str, integer: bool) -> tuple[int, int] | tuple[float, float]:
    ok_type = int if integer else (int, float)
    if (
        not isinstance(v, list)
        or len(v) != 2
        or any(isinstance(x, bool) or not isinstance(x, ok_type) for x in v)
        or not 0 < v[0] <= v[1]
    ):
        kind = "whole numbers" if integer else "numbers"
        raise SettingsError(f"{where} must be [low, high] {kind} with 0 < low <= high, got {v!r}")
    return (int(v[0]), int(v[1])) if integer else (float(v[0]), float(v[1]))


def _profile(name: str, d: object, where: str) -> ExerciseProfile:
    if not isinstance(d, dict):
        raise SettingsError(f"{where} must be a table")
    allowed = {
        "title",
        "setup",
        "legs",
        "kind",
        "harder",
        "easier",
        "faults",
        "settings",
        "cues",
        "placements",
        "phase_order",
        *_NUMBER_FIELDS,
    }
    unknown = sorted(set(d) - allowed)
    if unknown:
        raise SettingsError(f"{where}: unknown key {unknown[0]!r}; known: {', '.join(sorted(allowed))}")
    missing = [k for k in ("title", "legs", "kind", "faults", *_NUMBER_FIELDS) if k not in d]
    if missing:
        raise SettingsError(f"{where}: missing {', '.join(missing)}")
    reasons: dict[str, str] = {}
    values: dict[str, Any] = {}
    for f in _NUMBER_FIELDS:
        value, reasons[f] = _number(d[f], f"{where}.{f}")
        if f == "rep_range":
            values[f] = _pair(value, f"{where}.{f}", integer=True)
        elif f == "rom_deg":
            values[f] = _pair(value, f"{where}.{f}", integer=False)
        else:
            values[f] = _real(value, f"{where}.{f}")
    if d["legs"] not in (1, 2) or isinstance(d["legs"], bool):
        raise SettingsError(f"{where}.legs must be 1 or 2, got {d['legs']!r}")
    if d["kind"] not in MODES:
        raise SettingsError(f"{where}.kind must be one of {', '.join(MODES)}, got {d['kind']!r}")
    faults = d["faults"]
    if not isinstance(faults, list) or any(f not in FAULTS for f in faults):
        raise SettingsError(f"{where}.faults must list fault codes from {', '.join(FAULTS)}, got {faults!r}")
    placements: tuple[str, ...] = PLACEMENTS
    if "placements" in d:
        value, reasons["placements"] = _number(d["placements"], f"{where}.placements")
        if not isinstance(value, list) or not value or any(v not in PLACEMENTS for v in value):
            raise SettingsError(f"{where}.placements must list placements from {', '.join(PLACEMENTS)}")
        placements = tuple(value)
    phase_order: object = "lift_first"
    if "phase_order" in d:
        phase_order, reasons["phase_order"] = _number(d["phase_order"], f"{where}.phase_order")
        if phase_order not in PHASE_ORDERS:
            raise SettingsError(f"{where}.phase_order must be one of {', '.join(PHASE_ORDERS)}")
    settings: dict[str, Any] = {}
    for key, entry in (d.get("settings") or {}).items():
        settings[key], reasons[key] = _number(entry, f"{where}.settings.{key}")
    cues = d.get("cues") or {}
    if not isinstance(cues, dict) or any(
        k not in FAULT_CUES or not isinstance(v, str) for k, v in cues.items()
    ):
        raise SettingsError(f"{where}.cues must map fault codes to cue text, got {cues!r}")
    return ExerciseProfile(
        name=name,
        title=str(d["title"]),
        setup=str(d.get("setup", "")),
        legs=int(d["legs"]),
        kind=str(d["kind"]),
        faults=tuple(faults),
        harder=d.get("harder"),
        easier=d.get("easier"),
        placements=placements,
        phase_order=str(phase_order),
        settings=settings,
        cues=dict(cues),
        reasons=reasons,
        **values,
    )


def parse_catalog(data: dict[str, Any], source: str = "exercises.toml") -> Catalog:
    """Validate the parsed TOML document ``data`` into a :class:`Catalog`.

    Raises
    ------
    SettingsError
        On any missing, unknown or out-of-range entry (the message names it), and when a profile
        maps onto invalid analysis settings.
    """
    if data.get("schema") != EXERCISES_SCHEMA:
        raise SettingsError(f"{source}: schema must be {EXERCISES_SCHEMA!r}, got {data.get('schema')!r}")
    raw = data.get("exercise")
    if not isinstance(raw, dict) or not raw:
        raise SettingsError(f"{source}: no [exercise.NAME] tables")
    profiles = {name: _profile(name, d, f"{source}: exercise.{name}") for name, d in raw.items()}
    for p in profiles.values():
        for link in (p.harder, p.easier):
            if link is not None and link not in profiles:
                raise SettingsError(f"{source}: exercise.{p.name} links to unknown exercise {link!r}")
    default = data.get("default")
    if not isinstance(default, str) or default not in profiles:
        raise SettingsError(f"{source}: default {default!r} is not a profile")
    rules_raw = data.get("progression") or {}
    unknown = sorted(set(rules_raw) - set(_RULE_FIELDS))
    if unknown:
        raise SettingsError(
            f"{source}: progression: unknown key {unknown[0]!r}; known: {', '.join(_RULE_FIELDS)}"
        )
    kwargs: dict[str, Any] = {}
    reasons: dict[str, str] = {}
    for f in _RULE_FIELDS:
        if f not in rules_raw:
            raise SettingsError(f"{source}: progression.{f} is missing")
        value, reasons[f] = _number(rules_raw[f], f"{source}: progression.{f}")
        default_value = getattr(ProgressionRules, f)
        kwargs[f] = (
            int(_real(value, f"progression.{f}"))
            if isinstance(default_value, int)
            else _real(value, f"progression.{f}")
        )
    for f in ("struggle_tilt_fraction", "struggle_rushed_fraction", "struggle_sets_fraction"):
        if not 0 < kwargs[f] <= 1:
            raise SettingsError(f"{source}: progression.{f} must be in (0, 1], got {kwargs[f]!r}")
    for f in ("sets_required", "struggle_sessions", "plateau_sessions"):
        if kwargs[f] < 1:
            raise SettingsError(f"{source}: progression.{f} must be >= 1, got {kwargs[f]!r}")
    catalog = Catalog(profiles, default, ProgressionRules(**kwargs, reasons=reasons), source)
    for p in profiles.values():  # every profile must map onto valid analysis settings
        try:
            resolve(profile=p.settings_overrides())
        except SettingsError as exc:
            raise SettingsError(f"{source}: exercise.{p.name}: {exc}") from None
    return catalog


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Read and validate the profiles file (the packaged ``data/exercises.toml`` when None).

    Raises
    ------
    SettingsError
        The file is missing, not TOML, or fails validation.
    """
    if path is None:
        return _packaged_catalog()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SettingsError(f"{path}: exercise profiles file not found") from None
    return _parse_text(text, str(path))


def _parse_text(text: str, source: str) -> Catalog:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{source}: not valid TOML ({exc})") from None
    except RecursionError:
        raise SettingsError(f"{source}: nested too deeply to be an exercise catalog") from None
    return parse_catalog(data, source)


@functools.cache
def _packaged_catalog() -> Catalog:
    text = resources.files("imurep.coaching").joinpath("data", "exercises.toml").read_text(encoding="utf-8")
    return _parse_text(text, "imurep/coaching/data/exercises.toml")


def get_profile(name: str | None = None) -> ExerciseProfile:
    """The packaged profile called ``name`` (the default, single-leg hip thrust, when None)."""
    return load_catalog().get(name)
