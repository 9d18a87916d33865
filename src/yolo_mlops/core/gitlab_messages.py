"""What the gate tells GitLab (pure): the MR note's body, the commit status, schedule variables from the CLI."""

from __future__ import annotations

import re
from typing import Any

NOTE_MARKER = "<!-- yolo-mlops:model-gate -->"
DESCRIPTION_LIMIT = 255  # GitLab's limit for a commit status description

# Keeping the champion is a decision the gate made (its exit 3 may fail the job, the status stays green);
# only "could not decide" means the pipeline has something to fix.
SUCCESS_OUTCOMES = frozenset({"promote", "first_model", "already_champion", "keep_champion"})
FAILED_OUTCOMES = frozenset({"no_decision"})

_VARIABLE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def note_body(markdown: str) -> str:
    """The MR note: the marker on the first line (invisible when rendered), then the gate's Markdown."""
    return f"{NOTE_MARKER}\n{markdown}"


def _truncate(text: str, limit: int = DESCRIPTION_LIMIT) -> str:
    text = " ".join(text.split())  # one line: a status description is shown inline
    return text if len(text) <= limit else text[: limit - 1] + "…"


def commit_status(report: dict[str, Any]) -> tuple[str, str]:
    """(state, description) of the commit status for a gate report; raises ValueError on an unknown outcome."""
    outcome = report.get("outcome")
    if outcome in SUCCESS_OUTCOMES:
        state = "success"
    elif outcome in FAILED_OUTCOMES:
        state = "failed"
    else:
        raise ValueError(f"unknown gate outcome {outcome!r} in the report")
    version = report.get("model_version")
    target = f"{report.get('model')}@{report.get('alias')}"
    if outcome in ("promote", "first_model") and version:
        detail = f"{target} -> v{version}"
    elif outcome == "already_champion" and version:
        detail = f"{target} is v{version}"
    else:
        detail = str(report.get("reason") or "")
    if report.get("dry_run"):
        detail += " (dry run)"
    return state, _truncate(f"{outcome}: {detail}")


def parse_variables(pairs: list[str]) -> dict[str, str]:
    """`KEY=VALUE` arguments as a dict; ValueError names a malformed pair or a key given twice."""
    variables: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not _VARIABLE_KEY.match(key):
            raise ValueError(f"bad variable {pair!r}: expected KEY=VALUE with KEY matching {_VARIABLE_KEY.pattern}")
        if key in variables:
            raise ValueError(f"variable {key} is given twice")
        variables[key] = value
    return variables
