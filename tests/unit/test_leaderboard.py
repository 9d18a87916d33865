import math

from yolo_mlops.core.leaderboard import LeaderboardRow, rank, render_leaderboard, render_run_summary


def row(config, map50, cached=False):
    metrics = {"mAP50": map50, "mAP50_95": map50 / 2, "precision": 0.9, "recall": 0.8, "inference_ms": 3.25}
    return LeaderboardRow(config, "epochs=3", metrics, 12.34, cached, "0123456789abcdef")


def test_rank_best_first_nan_last_stable_ties():
    rows = [row("a", 0.5), row("b", math.nan), row("c", 0.9), row("d", 0.5)]
    assert [r.config for r in rank(rows)] == ["c", "a", "d", "b"]


def test_rank_breaks_map50_ties_with_map50_95():
    low, high = row("low", 0.99), row("high", 0.99)
    high.metrics["mAP50_95"] = 0.9
    assert [r.config for r in rank([low, high])] == ["high", "low"]


def test_render_table_has_header_and_rows_in_rank_order():
    text = render_leaderboard([row("baseline", 0.4), row("grid 1/4", 0.7, cached=True)], "demo")
    lines = text.splitlines()
    assert lines[0] == "demo"
    assert lines[1].split()[:3] == ["#", "config", "overrides"]
    assert lines[3].startswith("1  grid 1/4") and "0.700" in lines[3] and "yes" in lines[3]
    assert lines[4].startswith("2  baseline") and "0.400" in lines[4] and "no" in lines[4]
    assert "0123456789ab" in lines[3] and "0123456789abc" not in lines[3]


def test_summary_from_step_output():
    summary = {
        "config": "grid 2/4",
        "data_md5": "abc.dir",
        "metrics": {"mAP50": 0.75, "mAP50_95": 0.5, "precision": 1.0, "recall": math.nan, "inference_ms": 2.0},
        "train_seconds": 9.5,
        "mlflow_run_id": "r1",
        "cached": True,
        "params": {"epochs": 3},
    }
    r = LeaderboardRow.from_summary(summary, "epochs=3")
    assert r.metrics["mAP50"] == 0.75 and r.cached and r.mlflow_run_id == "r1"
    md = render_run_summary(summary)
    assert md.startswith("# grid 2/4")
    assert "| mAP50 | 0.750 |" in md and "| recall | nan |" in md and "epochs=3" in md
