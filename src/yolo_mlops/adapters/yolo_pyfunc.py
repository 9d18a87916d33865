"""The MLflow pyfunc over the Ultralytics weights: what `mlflow.pyfunc.load_model("models:/…@staging")` returns.

MLflow unpickles this class in the consumer's process, which has only the model's own requirements: the module
is pickled by value (see mlflow_tracking.log_yolo_model) and imports nothing from this package, and Ultralytics
is imported only when the model loads.

Input: a DataFrame with an `image` column of encoded image bytes (PNG, JPEG; base64 in a serving request).
Output: one row per box: image (row index of the input), class, confidence, x1, y1, x2, y2 (pixels).
Model config: `imgsz`, `conf`, and `backend` ("pytorch" runs best.pt, "onnx" the ONNX twin with onnxruntime).
"""

from __future__ import annotations

import io
import os
from typing import Any

import mlflow.pyfunc
import pandas as pd

IMAGE_COLUMN = "image"
BOX_COLUMNS = ("image", "class", "confidence", "x1", "y1", "x2", "y2")
WEIGHTS_ARTIFACT = "weights"
ONNX_ARTIFACT = "onnx"
BACKENDS = {"pytorch": WEIGHTS_ARTIFACT, "onnx": ONNX_ARTIFACT}


def empty_boxes() -> pd.DataFrame:
    return pd.DataFrame(
        {name: pd.Series(dtype="int64" if name in ("image", "class") else "float64") for name in BOX_COLUMNS}
    )


class YoloPyfunc(mlflow.pyfunc.PythonModel):
    def load_context(self, context: Any) -> None:
        # A served model must not reach the network (Ultralytics' analytics and update checks).
        os.environ.setdefault("YOLO_OFFLINE", "1")
        os.environ.setdefault("YOLO_AUTOINSTALL", "False")
        from ultralytics import YOLO

        config = dict(context.model_config or {})
        backend = config.get("backend", "pytorch")
        if backend not in BACKENDS:
            raise ValueError(f"model_config backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
        self.imgsz = int(config.get("imgsz", 320))
        self.conf = float(config.get("conf", 0.25))
        self.model = YOLO(context.artifacts[BACKENDS[backend]], task="detect")

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> pd.DataFrame:
        from PIL import Image

        images = [Image.open(io.BytesIO(bytes(data))).convert("RGB") for data in model_input[IMAGE_COLUMN]]
        rows = []
        for index, image in enumerate(images):
            result = self.model.predict(image, imgsz=self.imgsz, conf=self.conf, device="cpu", verbose=False)[0]
            boxes = result.boxes
            for cls, confidence, xyxy in zip(boxes.cls.tolist(), boxes.conf.tolist(), boxes.xyxy.tolist(), strict=True):
                rows.append((index, int(cls), float(confidence), *(float(v) for v in xyxy)))
        if not rows:
            return empty_boxes()
        return pd.DataFrame(rows, columns=list(BOX_COLUMNS))


def load(model_dir: str, **model_config: Any) -> Any:
    """The pyfunc from a local model folder; `model_config` overrides the logged keys (e.g. backend="onnx")."""
    return mlflow.pyfunc.load_model(model_dir, model_config=model_config or None)
