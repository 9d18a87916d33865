"""`yolo-mlops data …`: create, import, validate, publish and pull datasets."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

from yolo_mlops.cli.shared import DEFAULT_DATA, DEFAULT_DVC_FILE, Subcommands, fraction, int_in, settings_and_env
from yolo_mlops.core.errors import UserError

# Beyond this an image side only burns memory (a 64k-pixel PNG per image); YOLO trains at <= 1280.
MAX_SYNTH_SIZE = 4096


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
        try:
            args.dotenv.write_text(f"DATA_MD5={md5}\n")
        except OSError as exc:
            raise UserError(f"--dotenv {args.dotenv}: not writable ({exc.strerror}); name a writable file.") from None
    return 0


def cmd_data_publish(args: argparse.Namespace) -> int:
    settings_and_env()
    from yolo_mlops.data.publish import publish

    done = publish(args.path, args.dvc_file, args.remote, os.environ)
    if done.moved:
        print(f"published {args.path} (md5 {done.md5}) to {done.remote}: pushed {done.moved} of {done.objects} objects")
    else:
        print(f"nothing to push: {done.remote} holds all {done.objects} objects of {args.dvc_file} (md5 {done.md5})")
    return 0


def cmd_data_pull(args: argparse.Namespace) -> int:
    settings_and_env()
    from yolo_mlops.data.publish import pull

    done = pull(args.dvc_file, args.remote, os.environ)
    print(f"pulled {args.dvc_file}'s data (md5 {done.md5}, {done.objects} objects) from {done.remote}")
    return 0


def _add_import_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("data_coco_person"))
    parser.add_argument("--val-fraction", type=fraction, default=0.2, help="share of images in val (default: 0.2)")
    parser.add_argument("--seed", type=int_in(0), default=0, help="seed of the train/val split")


def add_commands(groups: Subcommands) -> None:
    data = groups.add_parser("data", help="create, import, validate, publish and pull datasets").add_subparsers(
        dest="command", required=True
    )
    synth = data.add_parser("synth", help="write the deterministic synthetic one-class 'person' dataset")
    synth.add_argument("--out", type=Path, default=DEFAULT_DATA)
    # No defaults here: synthesize's own are the embedded dataset's (what data.dvc records).
    synth.add_argument("--train", type=int_in(1), default=argparse.SUPPRESS, help="train images (at least 1)")
    synth.add_argument("--val", type=int_in(1), default=argparse.SUPPRESS, help="val images (at least 1)")
    synth.add_argument("--size", type=int_in(32, MAX_SYNTH_SIZE), default=argparse.SUPPRESS, help="image side (px)")
    synth.add_argument("--seed", type=int_in(0), default=0)
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
    publish = data.add_parser("publish", help="validate, push to the S3 remote, check every file is there (idempotent)")
    publish.add_argument("path", type=Path, nargs="?", default=DEFAULT_DATA)
    pull = data.add_parser("pull", help="pull the dataset from the S3 remote (checks the remote has it all first)")
    for command, func in ((publish, cmd_data_publish), (pull, cmd_data_pull)):
        command.add_argument("--remote", default="s3", help="DVC remote (default: s3)")
        command.add_argument("--dvc-file", type=Path, default=DEFAULT_DVC_FILE)
        command.set_defaults(func=func)
