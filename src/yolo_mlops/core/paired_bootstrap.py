"""Paired, noise-aware comparison of two detectors on the same val images (pure, numpy).

AP50 is one-class average precision at IoU 0.5: detections are matched COCO-style (by descending score,
each to the unmatched ground-truth box it overlaps most, IoU >= 0.5), and AP is the area under the
precision envelope (all-point interpolation, VOC 2010+). Ultralytics' mAP50 samples the same envelope at 101
recall points: on the same predictions the two differ by about 0.001.

The bootstrap resamples *images* with replacement, the same images for both models (paired), so the
interval of the difference reflects which images the val split happens to hold, not the models' own
spread. A resample is a vector of counts per image; every AP of every resample is computed at once from
two small matrices (images x true positives), so 1 000 resamples of ~120 images take milliseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

IOU_THRESHOLD = 0.5


@dataclass(frozen=True)
class ImageDetections:
    """One model's detections on one image: boxes (N, 4) as x1 y1 x2 y2, scores (N,)."""

    boxes: np.ndarray
    scores: np.ndarray


@dataclass(frozen=True)
class PairedDifference:
    """The candidate's AP50 minus the champion's on the full val set, with its bootstrap interval."""

    candidate: float
    champion: float
    difference: float
    lower: float
    upper: float
    confidence: float
    resamples: int
    images: int


def _iou(boxes: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """IoU matrix (N, M) of xyxy boxes."""
    top_left = np.maximum(boxes[:, None, :2], truth[None, :, :2])
    bottom_right = np.minimum(boxes[:, None, 2:], truth[None, :, 2:])
    inter = np.prod(np.clip(bottom_right - top_left, 0, None), axis=2)
    area_a = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    area_b = np.prod(truth[:, 2:] - truth[:, :2], axis=1)
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-12)


def match_image(detections: ImageDetections, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(scores, is_true_positive) of one image's detections, sorted by descending score."""
    order = np.argsort(-detections.scores, kind="stable")
    scores = np.asarray(detections.scores, dtype=float)[order]
    hits = np.zeros(len(order), dtype=bool)
    if len(order) and len(truth):
        iou = _iou(np.asarray(detections.boxes, dtype=float)[order], np.asarray(truth, dtype=float))
        taken = np.zeros(len(truth), dtype=bool)
        # Only detections overlapping some box enough can match; the loop stops once every box is taken.
        for row in np.flatnonzero(iou.max(axis=1) >= IOU_THRESHOLD):
            if taken.all():
                break
            overlaps = np.where(taken, -1.0, iou[row])
            best = int(np.argmax(overlaps))
            if overlaps[best] >= IOU_THRESHOLD:
                taken[best] = hits[row] = True
    return scores, hits


def _ranked_at_or_above(
    kind: np.ndarray, images: np.ndarray, positions: np.ndarray, n_images: int, *, inclusive: bool
) -> np.ndarray:
    """(images, len(positions)): per image, how many detections of `kind` (global ranks) rank above each of
    `positions` (or at it, when inclusive)."""
    side = "right" if inclusive else "left"
    rows = [np.searchsorted(kind[images[kind] == image], positions, side=side) for image in range(n_images)]
    return np.array(rows, dtype=float).reshape(n_images, len(positions))


class MatchedSet:
    """One model's matched detections over a fixed list of images, ready for AP50 on any multiset of them.

    With counts c (how often each image is drawn), the PR point just after true positive k has
    cumTP_k = c @ tp_above[:, k] and cumFP_k = c @ fp_above[:, k]; precision peaks at true positives, so
    the envelope over those points and the recall step c[image_k] / (c @ n_truth) give AP exactly.
    """

    def __init__(self, detections: Sequence[ImageDetections], truths: Sequence[np.ndarray]) -> None:
        if len(detections) != len(truths):
            raise ValueError(f"{len(detections)} images of detections for {len(truths)} images of ground truth")
        matched = [match_image(d, t) for d, t in zip(detections, truths, strict=True)]
        images = np.concatenate([np.full(len(s), i) for i, (s, _) in enumerate(matched)] + [np.zeros(0, int)])
        scores = np.concatenate([s for s, _ in matched] + [np.zeros(0)])
        hits = np.concatenate([h for _, h in matched] + [np.zeros(0, bool)])
        order = np.argsort(-scores, kind="stable")
        images, hits = images[order].astype(int), hits[order]
        positions = np.flatnonzero(hits)
        self.tp_above = _ranked_at_or_above(positions, images, positions, len(truths), inclusive=True)
        self.fp_above = _ranked_at_or_above(np.flatnonzero(~hits), images, positions, len(truths), inclusive=False)
        self.tp_image = images[positions]
        self.n_truth = np.array([len(t) for t in truths], dtype=float)

    def ap50(self, counts: np.ndarray) -> np.ndarray:
        """AP50 for each row of `counts` (resamples x images, or one vector); 0 where no ground truth is drawn."""
        counts = np.atleast_2d(np.asarray(counts, dtype=float))
        true_pos, false_pos = counts @ self.tp_above, counts @ self.fp_above
        with np.errstate(invalid="ignore", divide="ignore"):
            precision = np.where(true_pos > 0, true_pos / (true_pos + false_pos), 0.0)
            envelope = np.maximum.accumulate(precision[:, ::-1], axis=1)[:, ::-1]
            n_truth = counts @ self.n_truth
            ap = (envelope * counts[:, self.tp_image]).sum(axis=1) / n_truth
        return np.where(n_truth > 0, ap, 0.0)


def ap50(detections: Sequence[ImageDetections], truths: Sequence[np.ndarray]) -> float:
    """AP50 of one model on the full image list."""
    return float(MatchedSet(detections, truths).ap50(np.ones(len(truths)))[0])


def paired_bootstrap(
    candidate: Sequence[ImageDetections],
    champion: Sequence[ImageDetections],
    truths: Sequence[np.ndarray],
    *,
    confidence: float = 0.95,
    resamples: int = 1000,
    seed: int = 0,
) -> PairedDifference:
    """AP50(candidate) - AP50(champion) and its percentile interval over `resamples` paired image resamples."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    n = len(truths)
    if n == 0:
        raise ValueError("no val images to compare the models on")
    ours, theirs = MatchedSet(candidate, truths), MatchedSet(champion, truths)
    full = np.ones(n)
    mine, other = float(ours.ap50(full)[0]), float(theirs.ap50(full)[0])
    counts = np.random.default_rng(seed).multinomial(n, np.full(n, 1.0 / n), size=resamples)
    differences = ours.ap50(counts) - theirs.ap50(counts)
    tail = (1 - confidence) / 2
    lower, upper = np.quantile(differences, [tail, 1 - tail])
    return PairedDifference(
        candidate=mine,
        champion=other,
        difference=mine - other,
        lower=float(lower),
        upper=float(upper),
        confidence=confidence,
        resamples=resamples,
        images=n,
    )
