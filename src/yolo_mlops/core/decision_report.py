"""The gate's reports, rendered from a decision (pure): JSON-able dict, Markdown, JUnit XML, dotenv."""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any
from xml.etree import ElementTree

from yolo_mlops.core.metrics import METRIC_NAMES
from yolo_mlops.core.policy import Candidate, Decision, GatePolicy, Outcome, paired_summary


def run_link(ui_url: str | None, experiment_id: str | None, run_id: str) -> str | None:
    """The MLflow UI page of a run, when a browsable server URL is known."""
    if not ui_url or not experiment_id or not ui_url.startswith(("http://", "https://")):
        return None
    return f"{ui_url.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"


def _finite(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def _candidate_row(candidate: Candidate, champion_metrics: dict[str, float] | None, link: str | None) -> dict:
    deltas = {}
    if champion_metrics:
        for metric in METRIC_NAMES:
            mine, theirs = _finite(candidate.metrics.get(metric)), _finite(champion_metrics.get(metric))
            deltas[metric] = None if mine is None or theirs is None else mine - theirs
    return {
        "config": candidate.config,
        "run_id": candidate.run_id,
        "source_run_id": candidate.source_run_id,
        "status": candidate.status,
        "metrics": {m: _finite(candidate.metrics.get(m)) for m in METRIC_NAMES},
        "delta_vs_champion": deltas,
        "weights_sha256": candidate.weights_sha256,
        "url": link,
    }


def build_report(
    decision: Decision,
    policy: GatePolicy,
    *,
    decision_id: str,
    campaign: str,
    model_name: str,
    alias: str,
    version: str | None,
    moved: bool,
    dry_run: bool,
    actor: str,
    time: str,
    links: dict[str, str | None],
) -> dict[str, Any]:
    """Everything a person or a later CI job needs to see why a model was or was not promoted."""
    champion = decision.champion
    return {
        "decision_id": decision_id,
        "campaign": campaign,
        "model": model_name,
        "alias": alias,
        "outcome": str(decision.outcome),
        "exit_code": decision.outcome.exit_code,
        "reason": decision.reason,
        "dry_run": dry_run,
        "alias_moved": moved,
        "model_version": version,
        "model_uri": f"models:/{model_name}/{version}" if version else None,
        "actor": actor,
        "time": time,
        "winner": decision.winner.config if decision.winner else None,
        "champion": None
        if champion is None
        else {
            "version": champion.version,
            "run_id": champion.run_id,
            "metrics": {m: _finite(champion.metrics.get(m)) for m in METRIC_NAMES},
            "data_md5": champion.data_md5,
            "rescored_from_md5": champion.rescored_from_md5,
        },
        "candidates": [
            _candidate_row(c, champion.metrics if champion else None, links.get(c.run_id)) for c in decision.ranking
        ],
        "comparison": _comparison(decision, policy),
        "verdicts": [asdict(v) for v in decision.verdicts],
        "policy": {**asdict(policy), "tie_break": list(policy.tie_break)},
    }


def _comparison(decision: Decision, policy: GatePolicy) -> dict[str, Any] | None:
    """The paired bootstrap against the champion, with its verdict in words."""
    if decision.comparison is None or policy.comparison is None:
        return None
    summary = paired_summary(policy.comparison, decision.comparison, decision.outcome == Outcome.PROMOTE)
    return {**asdict(decision.comparison), "metric": policy.primary_metric, "summary": summary}


def _num(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "—"
    return f"{value:+.4f}" if signed else f"{value:.4f}"


def render_markdown(report: dict[str, Any]) -> str:
    icon = {"promote": "✅", "first_model": "✅", "already_champion": "➖", "keep_champion": "⛔"}.get(
        report["outcome"], "⚠️"
    )
    lines = [
        f"## {icon} Model gate: `{report['outcome']}` — {report['model']}@{report['alias']}",
        "",
        f"**{report['reason']}**",
        "",
        f"- campaign `{report['campaign']}`, decision `{report['decision_id']}`",
        f"- by {report['actor']} at {report['time']}",
    ]
    if report["dry_run"]:
        lines.append("- dry run: reports only, the registry was not changed")
    if report["alias_moved"]:
        lines.append(f"- `{report['alias']}` now points to version {report['model_version']} (`{report['model_uri']}`)")
    champion = report["champion"]
    if champion:
        note = (
            f", re-scored on the current data (was scored on `{champion['rescored_from_md5']}`)"
            if champion["rescored_from_md5"]
            else ""
        )
        lines.append(f"- champion: version {champion['version']} (run `{champion['run_id']}`){note}")
    else:
        lines.append(f"- champion: none (no version behind `{report['alias']}` yet)")
    comparison = report.get("comparison")
    if comparison:
        lines.append(
            f"- paired comparison, {report['winner'] or 'best candidate'} − champion, {comparison['metric']} on the "
            f"same {comparison['images']} val images ({comparison['resamples']} bootstrap resamples): "
            f"**{comparison['summary']}**"
        )
    lines += ["", "### Candidates (best first)", ""]
    header = ["config", *METRIC_NAMES, "Δ " + report["policy"]["primary_metric"] + " vs champion", "run"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    primary = report["policy"]["primary_metric"]
    for row in report["candidates"]:
        marker = " 🏆" if row["config"] == report["winner"] else ""
        run = f"[{row['run_id'][:8]}]({row['url']})" if row["url"] else f"`{row['run_id'][:8]}`"
        cells = [
            row["config"] + marker,
            *(_num(row["metrics"][m]) for m in METRIC_NAMES),
            _num(row["delta_vs_champion"].get(primary), signed=True),
            run,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    if champion:
        cells = ["champion v" + champion["version"], *(_num(champion["metrics"][m]) for m in METRIC_NAMES), "", ""]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "### Rules", "", "| rule | verdict | detail |", "|---|---|---|"]
    for verdict in report["verdicts"]:
        lines.append(f"| {verdict['rule']} | {'pass' if verdict['passed'] else '**fail**'} | {verdict['detail']} |")
    return "\n".join(lines) + "\n"


def render_junit(report: dict[str, Any]) -> str:
    """One testcase per rule, so GitLab's MR widget shows each verdict."""
    verdicts = report["verdicts"]
    suite = ElementTree.Element(
        "testsuite",
        name="model-gate",
        tests=str(len(verdicts)),
        failures=str(sum(not v["passed"] for v in verdicts)),
    )
    for verdict in verdicts:
        case = ElementTree.SubElement(suite, "testcase", classname="model-gate", name=verdict["rule"])
        if verdict["passed"]:
            ElementTree.SubElement(case, "system-out").text = verdict["detail"]
        else:
            ElementTree.SubElement(case, "failure", message=verdict["detail"]).text = report["reason"]
    suites = ElementTree.Element("testsuites")
    suites.append(suite)
    return ElementTree.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def render_dotenv(report: dict[str, Any]) -> str:
    """For later CI jobs (`artifacts: reports: dotenv`)."""
    return (
        f"GATE_DECISION={report['outcome']}\n"
        f"MODEL_VERSION={report['model_version'] or ''}\n"
        f"MODEL_URI={report['model_uri'] or ''}\n"
    )
