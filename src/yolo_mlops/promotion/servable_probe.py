"""Run by servable_check in a process of its own: load the winner as its consumers would (an MLflow pyfunc from
its model folder), predict on the given images one at a time, run the ONNX twin on the same images, and print
one JSON line for core.servable_rules.

Usage: python -m yolo_mlops.promotion.servable_probe MODEL_DIR CONF IMAGE...
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any


def _rows(frame: Any) -> list[list[float]]:
    return frame[list(frame.columns)].astype(float).values.tolist()


def probe(model_dir: Path, conf: float, images: list[Path]) -> dict[str, Any]:
    import pandas as pd

    from yolo_mlops.adapters import yolo_pyfunc

    batch = pd.DataFrame({yolo_pyfunc.IMAGE_COLUMN: [image.read_bytes() for image in images]})
    latencies, frames = [], []
    # Any failure to load or predict is the verdict itself, whatever raised it.
    try:
        model = yolo_pyfunc.load(str(model_dir), conf=conf)
        model.predict(batch.iloc[[0]])  # warm-up: latency is a served model's steady state, not its first call
        for index in range(len(images)):
            started = time.perf_counter()
            boxes = model.predict(batch.iloc[[index]].reset_index(drop=True))
            latencies.append((time.perf_counter() - started) * 1000)
            frames.append(boxes.assign(image=index))
    except Exception as exc:
        return {"loaded": False, "error": f"{type(exc).__name__}: {exc}"}
    result: dict[str, Any] = {
        "loaded": True,
        "latencies_ms": latencies,
        "pytorch": [row for frame in frames for row in _rows(frame)],
    }
    try:
        result["onnx"] = _rows(yolo_pyfunc.load(str(model_dir), conf=conf, backend="onnx").predict(batch))
    except Exception as exc:
        result["onnx_error"] = f"{type(exc).__name__}: {exc}"
    return result


if __name__ == "__main__":
    print(json.dumps(probe(Path(sys.argv[1]), float(sys.argv[2]), [Path(p) for p in sys.argv[3:]])))
