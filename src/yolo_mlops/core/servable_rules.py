"""The servable check's rules (pure): what a probe of the winner saw → one verdict per rule.

A probe result is the JSON the probe process prints: `loaded` (bool), `error`, `latencies_ms` (one per image
through the pyfunc), `pytorch` and `onnx` (box rows: image, class, confidence, x1, y1, x2, y2), `onnx_error`.
"""

from __future__ import annotations

import statistics
from typing import Any

from yolo_mlops.core.policy import ServablePolicy, Verdict

Box = list[float]  # image, class, confidence, x1, y1, x2, y2

LOADS, ONNX_AGREES, LATENCY = "servable:loads", "servable:onnx_agrees", "servable:latency"


def iou(a: Box, b: Box) -> float:
    ax1, ay1, ax2, ay2 = a[3:7]
    bx1, by1, bx2, by2 = b[3:7]
    width, height = max(0.0, min(ax2, bx2) - max(ax1, bx1)), max(0.0, min(ay2, by2) - max(ay1, by1))
    inter = width * height
    union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
    return inter / union if union > 0 else 0.0


def matched_boxes(reference: list[Box], other: list[Box], min_iou: float) -> int:
    """Greedy one-to-one matching, most confident reference box first: same image, same class, IoU >= min_iou."""
    free = list(other)
    matched = 0
    for box in sorted(reference, key=lambda b: -b[2]):
        same = [(iou(box, o), i) for i, o in enumerate(free) if o[0] == box[0] and o[1] == box[1]]
        best = max(same, default=(0.0, -1))
        if best[0] >= min_iou:
            matched += 1
            free.pop(best[1])
    return matched


def servable_verdicts(policy: ServablePolicy, probe: dict[str, Any]) -> tuple[Verdict, ...]:
    if not probe.get("loaded"):
        why = f"not run: the model did not load ({probe.get('error')})"
        return (
            Verdict(LOADS, False, str(probe.get("error"))),
            Verdict(ONNX_AGREES, False, why),
            Verdict(LATENCY, False, why),
        )
    latencies = probe["latencies_ms"]
    loads = Verdict(
        LOADS, True, f"loaded as an MLflow pyfunc in a fresh process; predicted on {len(latencies)} image(s)"
    )
    if probe.get("onnx_error"):
        agrees = Verdict(ONNX_AGREES, False, f"the ONNX twin did not run: {probe['onnx_error']}")
    else:
        pytorch, onnx = probe["pytorch"], probe["onnx"]
        total = max(len(pytorch), len(onnx))
        share = matched_boxes(pytorch, onnx, policy.min_iou) / total if total else 1.0
        agrees = Verdict(
            ONNX_AGREES,
            share >= policy.min_agreement,
            f"{share:.1%} of {total} box(es) above conf {policy.conf:g} match at IoU >= {policy.min_iou:g} "
            f"(PyTorch {len(pytorch)}, ONNX {len(onnx)}); required >= {policy.min_agreement:.0%}",
        )
    p50 = statistics.median(latencies)
    latency = Verdict(
        LATENCY,
        p50 <= policy.max_latency_p50_ms,
        f"p50 {p50:.1f} ms per image through the pyfunc; required <= {policy.max_latency_p50_ms:g} ms",
    )
    return loads, agrees, latency
