"""`yolo-mlops predict`: boxes from a registered model (by default the one behind the staging alias), as a
consumer gets them: the MLflow pyfunc, loaded by URI."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from yolo_mlops.cli.shared import Subcommands, add_registry_arg, settings_and_env
from yolo_mlops.core.errors import UserError


def _annotate(image: Path, boxes: Any, out: Path) -> None:
    from PIL import Image, ImageDraw

    canvas = Image.open(image).convert("RGB")
    draw = ImageDraw.Draw(canvas)
    for box in boxes.to_dict("records"):
        draw.rectangle((box["x1"], box["y1"], box["x2"], box["y2"]), outline=(255, 64, 64), width=2)
        draw.text((box["x1"] + 2, box["y1"] + 1), f"{box['class']} {box['confidence']:.2f}", fill=(255, 64, 64))
    canvas.save(out / f"{image.stem}.png")


def cmd_predict(args: argparse.Namespace) -> int:
    missing = [str(p) for p in args.images if not p.is_file()]
    if missing:
        raise UserError(f"image not found: {missing[0]}; pass existing image files.")
    model_uri = args.model
    if model_uri is None:
        from yolo_mlops.configuration.config_files import load_registry

        registry = load_registry(args.registry)
        model_uri = f"models:/{registry.model_name}@{registry.staging_alias}"
    settings = settings_and_env()
    import pandas as pd

    from yolo_mlops.adapters import yolo_pyfunc
    from yolo_mlops.adapters.mlflow_registry import RegistryError, load_model
    from yolo_mlops.adapters.mlflow_tracking import embedded_tracking_uri

    tracking_uri = settings.mlflow_tracking_uri or embedded_tracking_uri(settings.state_dir)
    try:
        model = load_model(model_uri, tracking_uri)
    except RegistryError as exc:
        raise UserError(f"{exc}; check the model URI and MLFLOW_TRACKING_URI.") from None
    batch = pd.DataFrame({yolo_pyfunc.IMAGE_COLUMN: [p.read_bytes() for p in args.images]})
    boxes = model.predict(batch)
    boxes.insert(0, "file", [str(args.images[i]) for i in boxes["image"]])
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        boxes.to_csv(args.out / "boxes.csv", index=False)
        for index, image in enumerate(args.images):
            _annotate(image, boxes[boxes["image"] == index], args.out)
    print(boxes.drop(columns="image").to_string(index=False, float_format="%.3f") if len(boxes) else "no boxes")
    print(f"{len(boxes)} box(es) on {len(args.images)} image(s) from {model_uri}")
    if args.out:
        print(f"boxes.csv and annotated images: {args.out}")
    return 0


def add_commands(groups: Subcommands) -> None:
    predict = groups.add_parser("predict", help="boxes from a registered model (default: the staging one)")
    predict.add_argument("images", nargs="+", type=Path, help="image files (PNG, JPEG)")
    predict.add_argument("--model", help="MLflow model URI (default: models:/<model_name>@<staging alias>)")
    add_registry_arg(predict)
    predict.add_argument("--out", type=Path, help="folder for boxes.csv and annotated images")
    predict.set_defaults(func=cmd_predict)
