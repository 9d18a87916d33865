"""`yolo-mlops data …`: create, import and validate datasets."""

from __future__ import annotations

import argparse
from pathlib import Path

from yolo_mlops.cli.shared import DEFAULT_DATA, Subcommands
from yolo_mlops.core.errors import UserError


def cmd_data_synth(args: argparse.Namespace) -> int:
    from yolo_mlops.data.synth import synthesize
    from yolo_mlops.data.validate import dataset_md5

    synthesize(args.out, train=args.train, val=args.val, size=args.size, seed=args.seed)
    print(f"wrote {args.out} (md5 {dataset_md5(args.out)})")
    return 0


def cmd_data_from_coco128(args: argparse.Namespace) -> int:
    from yolo_mlops.data.coco_import import import_person_subset
    from yolo_mlops.data.validate import dataset_md5

    try:
        import_person_subset(args.src, args.out, val_fraction=args.val_fraction, seed=args.seed)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    print(f"wrote {args.out} (md5 {dataset_md5(args.out)})")
    return 0


def cmd_data_validate(args: argparse.Namespace) -> int:
    from yolo_mlops.data.validate import require_valid_dataset

    md5 = require_valid_dataset(args.path)
    print(f"{args.path}: valid (md5 {md5})")
    if args.dotenv:
        args.dotenv.write_text(f"DATA_MD5={md5}\n")
    return 0


def add_commands(groups: Subcommands) -> None:
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
    validate.add_argument("--dotenv", type=Path, help="also write DATA_MD5=<md5> here (for later CI jobs)")
    validate.set_defaults(func=cmd_data_validate)
