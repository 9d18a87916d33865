from xml.etree import ElementTree

from yolo_mlops.core.decision_report import build_report, render_dotenv, render_junit, render_markdown, run_link
from yolo_mlops.core.policy import Candidate, Champion, GatePolicy, decide

METRICS = {"mAP50": 0.8, "mAP50_95": 0.4, "precision": 0.9, "recall": 0.7, "inference_ms": 5.0}


def report(champion_map50=None, dry_run=False):
    candidate = Candidate("run1", "baseline", "FINISHED", dict(METRICS), 320, 0, "d.dir", "sha1", "run1")
    champion = None
    if champion_map50 is not None:
        champion = Champion("4", "run0", {**METRICS, "mAP50": champion_map50}, "d.dir", "sha0")
    decision = decide(GatePolicy(), [candidate], champion, ["baseline"])
    moved = decision.outcome.moves_alias and not dry_run
    return build_report(
        decision,
        GatePolicy(),
        decision_id="dec1",
        campaign="c1",
        model_name="m",
        alias="staging",
        version="5" if moved else None,
        moved=moved,
        dry_run=dry_run,
        actor="me",
        time="t",
        links={"run1": "http://ui/#/experiments/1/runs/run1"},
    )


def test_run_link_only_for_browsable_servers():
    assert run_link("http://h:5000/", "3", "r") == "http://h:5000/#/experiments/3/runs/r"
    assert run_link("sqlite:///x.db", "3", "r") is None and run_link("http://h", None, "r") is None


def test_report_deltas_against_the_champion():
    r = report(champion_map50=0.7)
    assert r["outcome"] == "promote" and r["model_uri"] == "models:/m/5"
    (row,) = r["candidates"]
    assert abs(row["delta_vs_champion"]["mAP50"] - 0.1) < 1e-9 and row["url"].endswith("/runs/run1")


def test_markdown_shows_outcome_rules_and_links():
    md = render_markdown(report(champion_map50=0.7))
    assert md.startswith("## ✅ Model gate: `promote` — m@staging")
    assert "| baseline 🏆 | 0.8000 |" in md and "[run1](http://ui/#/experiments/1/runs/run1)" in md
    assert "| improvement:absolute | pass |" in md and "champion v4" in md
    assert "dry run" in render_markdown(report(dry_run=True))


def test_junit_one_case_per_rule_with_failures():
    r = report(champion_map50=0.9)
    suite = ElementTree.fromstring(render_junit(r)).find("testsuite")
    assert int(suite.get("tests")) == len(r["verdicts"])
    failed = [c.get("name") for c in suite.findall("testcase") if c.find("failure") is not None]
    assert failed == ["improvement:absolute", "improvement:relative"] and suite.get("failures") == "2"


def test_dotenv_for_later_jobs():
    assert render_dotenv(report()) == "GATE_DECISION=first_model\nMODEL_VERSION=5\nMODEL_URI=models:/m/5\n"
    assert render_dotenv(report(champion_map50=0.9)) == "GATE_DECISION=keep_champion\nMODEL_VERSION=\nMODEL_URI=\n"
