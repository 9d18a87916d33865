"""The evaluation metrics, defined once: names, which direction is better, valid range, display order (pure).

Every report, leaderboard, plot and the gate's policy read them from here; the Ultralytics adapter maps
its own result fields onto these names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

HIGHER, LOWER = "higher", "lower"


@dataclass(frozen=True)
class Metric:
    name: str
    direction: str  # HIGHER or LOWER is better
    low: float  # the valid range: a value outside it is broken evidence, not a score
    high: float


# Display order: quality first (all in [0, 1]), then cost.
METRICS = (
    Metric("mAP50", HIGHER, 0.0, 1.0),
    Metric("mAP50_95", HIGHER, 0.0, 1.0),
    Metric("precision", HIGHER, 0.0, 1.0),
    Metric("recall", HIGHER, 0.0, 1.0),
    Metric("inference_ms", LOWER, 0.0, math.inf),
)
METRIC_NAMES = tuple(m.name for m in METRICS)
DIRECTIONS = {m.name: m.direction for m in METRICS}
# The bounded quality metrics, plotted on one [0, 1] axis.
QUALITY_METRICS = tuple(m.name for m in METRICS if m.low == 0.0 and m.high == 1.0)
# Leaderboard order: best mAP50 first, mAP50_95 breaks ties.
LEADERBOARD_ORDER = ("mAP50", "mAP50_95")
