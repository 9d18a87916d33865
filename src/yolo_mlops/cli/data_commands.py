"""`yolo-mlops data …`: create, import, validate, publish and pull datasets."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from yolo_mlops.cli.shared import DEFAULT_DATA, DEFAULT_DVC_FILE, Subcommands, int_in, settings_and_env
from yolo_mlops.core.errors import UserError

# Beyond this an image side only burns memory (a 64k-pixel PNG per image); YOLO trains at <= 1280.
MAX_SYNTH_SIZE = 4096


@contextmanager
def _refused_as_bad_input() -> Iterator[None]:
    """The dataset writers refuse bad arguments with ValueError (one sentence): that is bad input, exit 2."""
    try:
        yield
    except ValueError as exc:
        raise UserError(str(exc)) from None


def cmd_data_synth(args: argparse.Namespace) -> int:
    from yolo_mlops.data.synth import synthesize
    from yolo_mlops.data.validate import dataset_md5

    with _refused_as_bad_input():
        synthesize(args.out, train=args.train, val=args.val, size=args.size, seed=args.seed)
    print(f"wrote {args.out} (md5 {dataset_md5(args.out)})")
    return 0


def cmd_data_from_coco128(args: argparse.Namespace) -> int:
    from yolo_mlops.data.coco_import import import_person_subset
    from yolo_mlops.data.validate import dataset_md5

    with _refused_as_bad_input():
        import_person_subset(args.src, args.out, val_fraction=args.val_fraction, seed=args.seed)
    print(f"wrote {args.out} (md5 {dataset_md5(args.out)})")
    return 0


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


def add_commands(groups: Subcommands) -> None:
    data = groups.add_parser("data", help="create, import, validate, publish and pull datasets").add_subparsers(
        dest="command", required=True
    )
    synth = data.add_parser("synth", help="write the deterministic synthetic one-class 'person' dataset")
    synth.add_argument("--out", type=Path, default=DEFAULT_DATA)
    synth.add_argument("--train", type=int_in(1), default=480, help="train images (at least 1)")
    synth.add_argument("--val", type=int_in(1), default=120, help="val images (at least 1)")
    synth.add_argument("--size", type=int_in(32, MAX_SYNTH_SIZE), default=256, help="image side in pixels")
    synth.add_argument("--seed", type=int_in(0), default=0)
    synth.set_defaults(func=cmd_data_synth)
    coco = data.add_parser("from-coco128", help="tiny person dataset from a coco128-layout folder")
    coco.add_argument("src", type=Path)
    coco.add_argument("--out", type=Path, default=Path("data_coco_person"))
    coco.add_argument("--val-fraction", type=float, default=0.2)
    coco.add_argument("--seed", type=int_in(0), default=0)
    coco.set_defaults(func=cmd_data_from_coco128)
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
