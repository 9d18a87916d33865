"""Leaderboard files: text table, JSON rows and a PNG plot of the metrics per config."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from yolo_mlops.core.leaderboard import LeaderboardRow, rank, render_leaderboard
from yolo_mlops.core.metrics import QUALITY_METRICS


def write_leaderboard(rows: list[LeaderboardRow], title: str, out_dir: Path) -> str:
    """Write leaderboard.{txt,json,png} into `out_dir`; return the text table."""
    out_dir.mkdir(parents=True, exist_ok=True)
    table = render_leaderboard(rows, title)
    (out_dir / "leaderboard.txt").write_text(table + "\n")
    (out_dir / "leaderboard.json").write_text(json.dumps([asdict(r) for r in rank(rows)], indent=2) + "\n")
    plot_metrics(rows, out_dir / "leaderboard.png", title)
    return table


def plot_metrics(rows: list[LeaderboardRow], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(rows)), 4.0))
    width = 0.8 / len(QUALITY_METRICS)
    for offset, metric in enumerate(QUALITY_METRICS):
        xs = [i + offset * width for i in range(len(rows))]
        ax.bar(xs, [row.metrics[metric] for row in rows], width=width, label=metric)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(rows))])
    ax.set_xticklabels([f"{r.config}\n{r.overrides}" for r in rows], fontsize=8)
    ax.set_ylim(0, 1.2)  # headroom for the legend above bars that reach 1.0
    ax.set_ylabel("val metric")
    ax.set_title(title)
    ax.legend(loc="upper center", fontsize=8, ncol=len(QUALITY_METRICS))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
