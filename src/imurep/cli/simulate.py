"""``imurep simulate``: write a simulated recording (CSV, sidecar and ground truth)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

SIM_EXERCISES = (
    "single_leg_hip_thrust",
    "single_leg_hip_thrust_pause",
    "single_leg_hip_thrust_deficit",
    "single_leg_hip_thrust_banded",
    "hip_thrust",
    "elevated_glute_bridge",
    "glute_bridge",
    "single_leg_glute_bridge",
    "glute_bridge_leg_lift",
    "squat",
    "bulgarian_split_squat",
    "step_up",
    "single_leg_rdl",
    "pistol_squat",
)
"""``imurep simulate --exercise`` names: :data:`imurep.sim.EXERCISES` (spelled out so the CLI starts
without importing numpy; a test keeps them equal)."""
SIM_EXERCISE_ALIASES = ("floor_bridge", "leg_lift")
"""Deprecated ``--exercise`` names of ``imurep simulate`` (:data:`imurep.sim.EXERCISE_ALIASES`)."""
SIM_DEFAULT_EXERCISE = "single_leg_hip_thrust"
SIM_STYLES = (
    "ordinary",
    "explosive",
    "slow_pause",
    "touch_and_go",
    "partial",
    "fatigue",
    "floor_bridge",
    "two_leg",
    "strap_slip",
    "noisy_motion",
    "mixed",
)
"""``imurep simulate --style`` families: :data:`imurep.sim.styles.FAMILIES` (spelled out, as above)."""

logger = logging.getLogger("imurep.cli")


def check_simulate_out(out: Path, force: bool) -> None:
    """Refuse what ``live --out`` refuses too: a missing folder, and (without ``--force``) a
    recording that exists already (SettingsError)."""
    from imurep.model.errors import SettingsError

    if not out.resolve().parent.is_dir():
        raise SettingsError(f"{out}: the folder {out.parent} does not exist; create it first")
    stem = out.with_suffix("")
    taken = [p for p in (out, Path(f"{stem}.json"), Path(f"{stem}.truth.json")) if p.exists()]
    if taken and not force:
        raise SettingsError(
            f"{taken[0]} exists already; choose another name, or --force to overwrite "
            f"{out.name}, {stem.name}.json and {stem.name}.truth.json"
        )


def cmd_simulate(args: argparse.Namespace) -> int:
    """``imurep simulate OUT.csv``: writes OUT.csv, OUT.json and OUT.truth.json."""
    from imurep import sim
    from imurep.io.canonical import write_simulated

    if getattr(args, "style", None):
        return _simulate_style(args)
    options: dict[str, Any] = {"seed": args.seed, "placement": args.placement, "noise": not args.no_noise}
    if args.faults is not None:
        options["faults"] = sim.parse_faults(args.faults)
    if args.sets is not None:
        options["n_sets"] = args.sets
    if args.rate is not None:
        options["sample_rate_hz"] = args.rate
    if args.exercise is not None:
        options["exercise"] = sim.canonical_exercise(args.exercise)
        if options["exercise"] != args.exercise:
            logger.warning(
                "--exercise %s is deprecated; use --exercise %s", args.exercise, options["exercise"]
            )
    sim_settings = sim.SimSettings(**options)
    rec = sim.simulate(sim_settings)
    out = Path(args.out)
    check_simulate_out(out, args.force)  # after the options are checked (by simulating)
    write_simulated(rec, out)
    stem = out.with_suffix("")
    n = len(rec.t_s)
    duration = float(rec.t_s[-1] - rec.t_s[0]) if n else 0.0
    print(
        f"wrote {out}, {stem}.json and {stem}.truth.json: {sim_settings.n_sets} set(s), "
        f"{sim_settings.placement}, {n} samples ({duration / 60:.1f} min at "
        f"{sim_settings.sample_rate_hz:g} Hz), faults allowed: {', '.join(sim_settings.faults) or 'none'}"
    )
    return 0


def _simulate_style(args: argparse.Namespace) -> int:
    """``imurep simulate OUT.csv --style FAMILY``: a recording drawn from the style space."""
    from imurep.io.canonical import write_simulated
    from imurep.model.errors import SettingsError
    from imurep.sim.style_recording import simulate_style

    if args.faults is not None or args.exercise is not None:
        raise SettingsError(
            "--style draws the exercise and the faults from the family; drop --faults / --exercise"
        )
    if args.sets is not None and not 1 <= args.sets <= 3:
        raise SettingsError(f"--sets with --style must be 1..3, got {args.sets}")
    rec = simulate_style(
        args.seed,
        args.style,
        placement=args.placement,
        sample_rate_hz=args.rate,
        n_sets=args.sets,
        noise=not args.no_noise,
    )
    out = Path(args.out)
    check_simulate_out(out, args.force)  # after the options are checked (by simulating)
    write_simulated(rec, out)
    stem = out.with_suffix("")
    n = len(rec.t_s)
    duration = float(rec.t_s[-1] - rec.t_s[0]) if n else 0.0
    reps = sum(len(s["reps"]) for s in rec.truth["sets"])
    print(
        f"wrote {out}, {stem}.json and {stem}.truth.json: style {args.style} ({rec.metadata['exercise']}), "
        f"{len(rec.truth['sets'])} set(s), {reps} reps, {rec.metadata['placement']}, {n} samples "
        f"({duration / 60:.1f} min at {rec.metadata['sample_rate_hz']:.0f} Hz)"
    )
    return 0
