"""Leaderboard and summary rendering (pure)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from yolo_mlops.core.metrics import LEADERBOARD_ORDER, METRIC_NAMES


@dataclass(frozen=True)
class LeaderboardRow:
    config: str
    overrides: str
    metrics: dict[str, float]
    train_seconds: float
    cached: bool
    mlflow_run_id: str

    @classmethod
    def from_summary(cls, summary: dict[str, Any], overrides: str) -> LeaderboardRow:
        return cls(
            config=summary["config"],
            overrides=overrides,
            metrics={k: float(summary["metrics"][k]) for k in METRIC_NAMES},
            train_seconds=float(summary["train_seconds"]),
            cached=bool(summary["cached"]),
            mlflow_run_id=summary["mlflow_run_id"],
        )


def rank(rows: list[LeaderboardRow], metrics: tuple[str, ...] = LEADERBOARD_ORDER) -> list[LeaderboardRow]:
    """Best first by each metric in turn (later ones break ties); NaN counts as worst; full ties keep input order."""

    def key(row: LeaderboardRow) -> tuple[float, ...]:
        return tuple(-row.metrics[m] if math.isfinite(row.metrics[m]) else math.inf for m in metrics)

    return sorted(rows, key=key)


def _fmt(value: float) -> str:
    return f"{value:.3f}" if math.isfinite(value) else "nan"


def render_leaderboard(rows: list[LeaderboardRow], title: str) -> str:
    """A fixed-width text table, best mAP50 first."""
    header = ["#", "config", "overrides", *METRIC_NAMES, "train_s", "cached", "mlflow_run"]
    body = [
        [
            str(i),
            row.config,
            row.overrides or "-",
            *(_fmt(row.metrics[m]) for m in METRIC_NAMES),
            f"{row.train_seconds:.1f}",
            "yes" if row.cached else "no",
            row.mlflow_run_id[:12],
        ]
        for i, row in enumerate(rank(rows), start=1)
    ]
    widths = [max(len(cell) for cell in column) for column in zip(header, *body, strict=True)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([title, line(header), line(["-" * w for w in widths]), *map(line, body)])


def render_run_summary(summary: dict[str, Any]) -> str:
    """Markdown summary of one pipeline run."""
    metrics = summary["metrics"]
    rows = "\n".join(f"| {name} | {_fmt(float(metrics[name]))} |" for name in METRIC_NAMES if name in metrics)
    params = ", ".join(f"{k}={v}" for k, v in summary.get("params", {}).items())
    return (
        f"# {summary['config']}\n\n"
        f"- data md5: `{summary['data_md5']}`\n"
        f"- weights sha256: `{summary.get('weights_sha256', '?')}`\n"
        f"- train time: {summary.get('train_seconds', '?')} s on {summary.get('device', '?')}\n"
        f"- params: {params}\n\n"
        f"| metric | value |\n|---|---|\n{rows}\n"
    )
