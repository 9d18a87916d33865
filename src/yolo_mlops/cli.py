"""`yolo-mlops`: the single entry point. Heavy libraries are imported only after the environment is set."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from yolo_mlops.core.errors import UserError

DEFAULT_DATA = Path("data")
DEFAULT_DVC_FILE = Path("data.dvc")


def _settings_and_env():
    from yolo_mlops.adapters.process_env import configure_process_env
    from yolo_mlops.runtime import current_settings

    settings = current_settings()
    configure_process_env(settings.state_dir)
    return settings


# ---- data -------------------------------------------------------------------------------------------


def cmd_data_synth(args: argparse.Namespace) -> int:
    from yolo_mlops.data.synth import synthesize
    from yolo_mlops.data.validate import dataset_md5

    synthesize(args.out, train=args.train, val=args.val, size=args.size, seed=args.seed)
    print(f"wrote {args.out} (md5 {dataset_md5(args.out)})")
    return 0


def cmd_data_from_coco128(args: argparse.Namespace) -> int:
    from yolo_mlops.data.coco import import_person_subset
    from yolo_mlops.data.validate import dataset_md5

    try:
        import_person_subset(args.src, args.out, val_fraction=args.val_fraction, seed=args.seed)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    print(f"wrote {args.out} (md5 {dataset_md5(args.out)})")
    return 0


def cmd_data_validate(args: argparse.Namespace) -> int:
    from yolo_mlops.datasets import require_valid_dataset

    md5 = require_valid_dataset(args.path)
    print(f"{args.path}: valid (md5 {md5})")
    return 0


# ---- training ---------------------------------------------------------------------------------------


def _check_dataset(dataset: Path, dvc_file: Path) -> str:
    """Validate before any training; warn when the data differs from what data.dvc records."""
    from yolo_mlops.adapters.dvc import read_dvc_file
    from yolo_mlops.datasets import require_valid_dataset

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


def _run_campaign(planned: list, dataset: Path, dvc_file: Path, title: str) -> int:
    settings = _settings_and_env()
    md5 = _check_dataset(dataset, dvc_file)
    if not planned:
        print("no grid cell falls on this shard; nothing to train")
        return 0
    # Only now the heavy imports: they read the environment set above, and bad input fails fast without them.
    from yolo_mlops.campaign import execute, prepare_tracking
    from yolo_mlops.reports import write_leaderboard

    print(f"campaign {settings.campaign}: {len(planned)} run(s) on {dataset} (md5 {md5})", flush=True)
    prepare_tracking(settings)
    rows = [execute(p, dataset, settings, Path.cwd()) for p in planned]
    out_dir = settings.state_dir / "campaigns" / settings.campaign
    print(write_leaderboard(rows, f"{title} — campaign {settings.campaign}", out_dir))
    print(f"leaderboard and plot: {out_dir}/leaderboard.{{txt,json,png}}")
    return 0


def cmd_train_baseline(args: argparse.Namespace) -> int:
    from yolo_mlops.planning import plan_baseline

    return _run_campaign(plan_baseline(args.config), args.data, args.dvc_file, "baseline")


def cmd_train_grid(args: argparse.Namespace) -> int:
    from yolo_mlops.planning import plan_grid

    title = "grid" if args.cell is None else f"grid shard {args.cell}"
    return _run_campaign(plan_grid(args.config, args.cell), args.data, args.dvc_file, title)


def cmd_demo(args: argparse.Namespace) -> int:
    from yolo_mlops.planning import plan_baseline, plan_grid

    planned = plan_baseline(args.configs / "baseline.yaml") + plan_grid(args.configs / "grid.yaml", None)
    if not (args.data / "data.yaml").exists():
        from yolo_mlops.data.synth import synthesize

        print(f"no dataset at {args.data}: generating the embedded synthetic one", flush=True)
        synthesize(args.data)
    return _run_campaign(planned, args.data, args.dvc_file, "demo leaderboard")


# ---- parser -----------------------------------------------------------------------------------------


def _add_data_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="dataset directory (default: data)")
    parser.add_argument("--dvc-file", type=Path, default=DEFAULT_DVC_FILE, help="DVC file tracking it")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="yolo-mlops", description=__doc__)
    groups = parser.add_subparsers(dest="group", required=True)

    data = groups.add_parser("data", help="create, import and validate datasets").add_subparsers(
        dest="command", required=True
    )
    synth = data.add_parser("synth", help="write the deterministic synthetic one-class 'person' dataset")
    synth.add_argument("--out", type=Path, default=DEFAULT_DATA)
    synth.add_argument("--train", type=int, default=480)
    synth.add_argument("--val", type=int, default=120)
    synth.add_argument("--size", type=int, default=256, help="image side in pixels")
    synth.add_argument("--seed", type=int, default=0)
    synth.set_defaults(func=cmd_data_synth)
    coco = data.add_parser("from-coco128", help="tiny person dataset from a coco128-layout folder")
    coco.add_argument("src", type=Path)
    coco.add_argument("--out", type=Path, default=Path("data_coco_person"))
    coco.add_argument("--val-fraction", type=float, default=0.2)
    coco.add_argument("--seed", type=int, default=0)
    coco.set_defaults(func=cmd_data_from_coco128)
    validate = data.add_parser("validate", help="check a YOLO dataset; every problem as file:line: what")
    validate.add_argument("path", type=Path)
    validate.set_defaults(func=cmd_data_validate)

    train = groups.add_parser("train", help="run training pipelines").add_subparsers(dest="command", required=True)
    baseline = train.add_parser("baseline", help="the baseline pipeline run")
    baseline.add_argument("--config", type=Path, default=Path("configs/baseline.yaml"))
    _add_data_args(baseline)
    baseline.set_defaults(func=cmd_train_baseline)
    grid = train.add_parser("grid", help="one pipeline run per grid cell")
    grid.add_argument("--config", type=Path, default=Path("configs/grid.yaml"))
    grid.add_argument("--cell", help="I/N: run only shard I of N (CI_NODE_INDEX/CI_NODE_TOTAL)")
    _add_data_args(grid)
    grid.set_defaults(func=cmd_train_grid)

    demo = groups.add_parser("demo", help="embedded end-to-end run: data, baseline, grid, leaderboard")
    demo.add_argument("--configs", type=Path, default=Path("configs/cpu"), help="folder with baseline/grid.yaml")
    _add_data_args(demo)
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command: Callable[[argparse.Namespace], int] = args.func
    try:
        return command(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
