"""`yolo-mlops data …`: create, import and validate datasets."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from yolo_mlops.cli.shared import DEFAULT_DATA, Subcommands
from yolo_mlops.core.errors import UserError


def _write_dataset(args: argparse.Namespace, write: Callable[[], object]) -> int:
    """Write a dataset to args.out; a ValueError is bad input. What was written is validated like any data."""
    from yolo_mlops.data.validate import require_valid_dataset

    try:
        write()
    except ValueError as exc:
        raise UserError(str(exc)) from None
    print(f"wrote {args.out} (md5 {require_valid_dataset(args.out)})")
    return 0


def cmd_data_synth(args: argparse.Namespace) -> int:
    from yolo_mlops.data.synth import synthesize

    given = {key: getattr(args, key) for key in ("train", "val", "size") if hasattr(args, key)}
    return _write_dataset(args, lambda: synthesize(args.out, seed=args.seed, **given))


def cmd_data_from_coco128(args: argparse.Namespace) -> int:
    from yolo_mlops.data.coco_import import import_person_subset

    return _write_dataset(
        args, lambda: import_person_subset(args.src, args.out, val_fraction=args.val_fraction, seed=args.seed)
    )


def cmd_data_from_coco(args: argparse.Namespace) -> int:
    from yolo_mlops.data.coco_import import import_coco_json

    return _write_dataset(
        args,
        lambda: import_coco_json(
            args.annotations,
            args.images_dir,
            args.out,
            category=args.category,
            val_fraction=args.val_fraction,
            seed=args.seed,
        ),
    )


def cmd_data_validate(args: argparse.Namespace) -> int:
    from yolo_mlops.data.validate import require_valid_dataset

    md5 = require_valid_dataset(args.path)
    print(f"{args.path}: valid (md5 {md5})")
    if args.dotenv:
        args.dotenv.write_text(f"DATA_MD5={md5}\n")
    return 0


def _add_import_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("data_coco_person"))
    parser.add_argument("--val-fraction", type=float, default=0.2, help="share of images in val (default: 0.2)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the train/val split")


def add_commands(groups: Subcommands) -> None:
    data = groups.add_parser("data", help="create, import and validate datasets").add_subparsers(
        dest="command", required=True
    )
    synth = data.add_parser("synth", help="write the deterministic synthetic one-class 'person' dataset")
    synth.add_argument("--out", type=Path, default=DEFAULT_DATA)
    # No defaults here: synthesize's own are the embedded dataset's (what data.dvc records).
    synth.add_argument("--train", type=int, default=argparse.SUPPRESS, help="train images")
    synth.add_argument("--val", type=int, default=argparse.SUPPRESS, help="val images")
    synth.add_argument("--size", type=int, default=argparse.SUPPRESS, help="image side in pixels")
    synth.add_argument("--seed", type=int, default=0)
    synth.set_defaults(func=cmd_data_synth)
    coco = data.add_parser("from-coco128", help="tiny person dataset from a coco128-layout folder")
    coco.add_argument("src", type=Path)
    _add_import_args(coco)
    coco.set_defaults(func=cmd_data_from_coco128)
    coco_json = data.add_parser("from-coco", help="one-category dataset from a COCO JSON annotations file")
    coco_json.add_argument("annotations", type=Path, help="COCO annotations JSON (e.g. instances_val2017.json)")
    coco_json.add_argument("images_dir", type=Path, help="folder the file_name entries are relative to")
    coco_json.add_argument("--category", default="person", help="category name to keep (default: person)")
    _add_import_args(coco_json)
    coco_json.set_defaults(func=cmd_data_from_coco)
    validate = data.add_parser("validate", help="check a YOLO dataset; every problem as file:line: what")
    validate.add_argument("path", type=Path)
    validate.add_argument("--dotenv", type=Path, help="also write DATA_MD5=<md5> here (for later CI jobs)")
    validate.set_defaults(func=cmd_data_validate)
