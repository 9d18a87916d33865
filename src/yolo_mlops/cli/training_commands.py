"""`yolo-mlops train baseline|grid` and `yolo-mlops demo`: the campaign's training pipeline runs."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from yolo_mlops.cli.promotion_commands import GateOptions, run_gate
from yolo_mlops.cli.shared import Subcommands, add_data_args, add_gate_args, campaign_dir, settings_and_env
from yolo_mlops.core.settings import check_campaign_id
from yolo_mlops.training.planning import PlannedRun

# In `demo --configs DIR`: the second campaign's grid, when DIR has one (configs/cpu/ does).
CHALLENGER = "challenger.yaml"


def _check_dataset(dataset: Path, dvc_file: Path) -> str:
    """Validate before any training; warn when the data differs from what data.dvc records."""
    from yolo_mlops.adapters.dvc import read_dvc_file
    from yolo_mlops.data.validate import require_valid_dataset

    md5 = require_valid_dataset(dataset)
    if dvc_file.is_file():
        tracked = read_dvc_file(dvc_file)
        if tracked.path == dataset.resolve() and tracked.md5 != md5:
            print(
                f"warning: {dataset} (md5 {md5}) differs from {dvc_file} ({tracked.md5}); "
                "`dvc add` it to version this data.",
                file=sys.stderr,
            )
    return md5


def _check_devices(planned: list[PlannedRun]) -> None:
    """A GPU a config asks for and this machine lacks stops the campaign here, before any pipeline run."""
    from yolo_mlops.core.errors import ConfigError
    from yolo_mlops.core.train_params import resolve_device

    explicit = [p for p in planned if p.params.device not in ("auto", "cpu")]
    if not explicit:
        return
    from yolo_mlops.adapters.ultralytics_runtime import cuda_device_count

    count = cuda_device_count()
    for run in explicit:
        try:
            resolve_device(run.params.device, count)
        except ConfigError as exc:
            raise ConfigError(f"{run.name}: {exc}") from None


def _run_campaign(
    planned: list[PlannedRun],
    dataset: Path,
    dvc_file: Path,
    title: str,
    registry_config: Path,
    out: Path | None = None,
    campaign: str | None = None,
) -> int:
    from yolo_mlops.configuration.config_files import load_registry

    model_name = load_registry(registry_config).model_name
    settings = settings_and_env()
    if campaign is not None:
        settings = replace(settings, campaign=campaign)
    _check_devices(planned)
    md5 = _check_dataset(dataset, dvc_file)
    if not planned:
        print("no grid cell falls on this shard; nothing to train")
        return 0
    # Only now the heavy imports: they read the environment set above, and bad input fails fast without them.
    from yolo_mlops.training.campaign import execute, prepare_tracking
    from yolo_mlops.training.leaderboard_files import write_leaderboard

    print(f"campaign {settings.campaign}: {len(planned)} run(s) on {dataset} (md5 {md5})", flush=True)
    prepare_tracking(settings)
    rows = [execute(p, dataset, settings, Path.cwd(), model_name) for p in planned]
    out_dir = out or campaign_dir(settings.state_dir, settings.campaign)
    print(write_leaderboard(rows, f"{title} — campaign {settings.campaign}", out_dir))
    print(f"leaderboard and plot: {out_dir}/leaderboard.{{txt,json,png}}")
    return 0


def cmd_train_baseline(args: argparse.Namespace) -> int:
    from yolo_mlops.training.planning import plan_baseline

    return _run_campaign(plan_baseline(args.config), args.data, args.dvc_file, "baseline", args.registry, args.out)


def cmd_train_grid(args: argparse.Namespace) -> int:
    from yolo_mlops.training.planning import plan_grid

    title = "grid" if args.cell is None else f"grid shard {args.cell}"
    return _run_campaign(plan_grid(args.config, args.cell), args.data, args.dvc_file, title, args.registry, args.out)


@dataclass(frozen=True)
class _DemoCampaign:
    """One campaign of the demo (the one its gate names): its runs, the leaderboard's title, its gate, and what
    to say before it."""

    runs: list[PlannedRun]
    title: str
    gate: GateOptions
    header: str = ""


def cmd_demo(args: argparse.Namespace) -> int:
    from yolo_mlops.training.planning import plan_baseline, plan_grid

    baseline, grid, challenger = (args.configs / name for name in ("baseline.yaml", "grid.yaml", CHALLENGER))
    planned = plan_baseline(baseline) + plan_grid(grid, None)
    next_push = plan_grid(challenger, None) if challenger.is_file() else []
    campaign = settings_and_env().campaign
    gate = GateOptions(
        policy=args.policy, registry=args.registry, stage_transition=args.stage_transition, data=args.data
    )
    first_gate = replace(gate, baseline=baseline, grid=grid, campaign=campaign)
    steps = [_DemoCampaign(planned, "demo leaderboard", first_gate)]
    if next_push:
        next_campaign = check_campaign_id(f"{campaign}-next", "the demo's second campaign (the campaign id + '-next')")
        title = f"demo, the next push ({challenger})"
        header = f"\nthe next push: {challenger}; its gate weighs the new weights against Staging"
        steps.append(_DemoCampaign(next_push, title, replace(gate, grid=challenger, campaign=next_campaign), header))
    if not (args.data / "data.yaml").exists():
        from yolo_mlops.data.synth import synthesize

        print(f"no dataset at {args.data}: generating the embedded synthetic one", flush=True)
        synthesize(args.data)
    for step in steps:
        if step.header:
            print(step.header, flush=True)
        code = _run_campaign(
            step.runs, args.data, args.dvc_file, step.title, args.registry, campaign=step.gate.campaign
        )
        if code:
            return code
        gate_code = run_gate(step.gate)
        # In the demo a rejection by policy is an answer, not a failure; "could not decide" still fails it.
        if gate_code not in (0, 3):
            return gate_code
    from yolo_mlops.configuration.config_files import load_registry
    from yolo_mlops.data.layout import is_image

    registry = load_registry(args.registry)
    image = min(path for path in (args.data / "images" / "val").iterdir() if is_image(path))
    print(
        f"Use the Staging model: yolo-mlops predict --model models:/{registry.model_name}@{registry.staging_alias} "
        f"{image} --out predictions"
    )
    return 0


def add_commands(groups: Subcommands) -> None:
    train = groups.add_parser("train", help="run training pipelines").add_subparsers(dest="command", required=True)
    baseline = train.add_parser("baseline", help="the baseline pipeline run")
    baseline.add_argument("--config", type=Path, default=Path("configs/baseline.yaml"))
    add_data_args(baseline)
    baseline.add_argument("--out", type=Path, help="leaderboard folder (default: <state>/campaigns/<campaign>)")
    baseline.set_defaults(func=cmd_train_baseline)
    grid = train.add_parser("grid", help="one pipeline run per grid cell")
    grid.add_argument("--config", type=Path, default=Path("configs/grid.yaml"))
    grid.add_argument("--cell", help="I/N: run only shard I of N (CI_NODE_INDEX/CI_NODE_TOTAL)")
    add_data_args(grid)
    grid.add_argument("--out", type=Path, help="leaderboard folder (default: <state>/campaigns/<campaign>)")
    grid.set_defaults(func=cmd_train_grid)

    demo = groups.add_parser(
        "demo", help="embedded end-to-end run: data, baseline, grid, leaderboard, gate; then the next push and its gate"
    )
    demo.add_argument(
        "--configs",
        type=Path,
        default=Path("configs/cpu"),
        help=f"folder with baseline.yaml, grid.yaml and, for the second campaign, {CHALLENGER}",
    )
    add_data_args(demo)
    add_gate_args(demo)
    demo.set_defaults(func=cmd_demo)
