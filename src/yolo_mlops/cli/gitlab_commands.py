"""`yolo-mlops gitlab ...`: report the gate to the merge request and commit; keep the nightly schedule in shape.

Reporting never fails the gate: without a token it says so and skips, and GitLab errors are warnings (exit 0).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from yolo_mlops.cli.shared import Subcommands

TOKEN_VARIABLE = "GITLAB_TOKEN"
NO_TOKEN = (
    f"{TOKEN_VARIABLE} is not set: reporting to GitLab skipped "
    "(a project access token with api scope is needed; CI_JOB_TOKEN cannot post notes or statuses)"
)
STATUS_NAME = "model-gate"
DEFAULT_SCHEDULE = "yolo-mlops nightly campaign"


def _missing(names: tuple[str, ...]) -> str | None:
    return next((name for name in names if not os.environ.get(name)), None)


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def _read_report(report_path: Path, markdown_path: Path) -> tuple[dict[str, Any], str] | None:
    try:
        report = json.loads(report_path.read_text(encoding="utf-8"))
        markdown = markdown_path.read_text(encoding="utf-8")
    except (OSError, ValueError) as exc:
        _warn(f"cannot read the gate report ({exc}): reporting to GitLab skipped")
        return None
    if not isinstance(report, dict):
        _warn(f"{report_path} does not hold a JSON object: reporting to GitLab skipped")
        return None
    return report, markdown


def cmd_gitlab_report(args: argparse.Namespace) -> int:
    token = os.environ.get(TOKEN_VARIABLE)
    if not token:
        print(NO_TOKEN)
        return 0
    missing = _missing(("CI_SERVER_URL", "CI_PROJECT_ID", "CI_COMMIT_SHA"))
    if missing:
        print(f"{missing} is not set: reporting to GitLab skipped (run this in a GitLab CI job, or set it)")
        return 0
    markdown_path: Path = args.markdown
    read = _read_report(args.report or markdown_path.with_name("gate_report.json"), markdown_path)
    if read is None:
        return 0
    report, markdown = read

    from yolo_mlops.adapters import gitlab_api
    from yolo_mlops.core.gitlab_messages import commit_status, note_body

    gl = gitlab_api.connect(os.environ["CI_SERVER_URL"], token)
    project_id = os.environ["CI_PROJECT_ID"]
    mr_iid = os.environ.get("CI_MERGE_REQUEST_IID")
    if not mr_iid:
        print("not a merge request pipeline (CI_MERGE_REQUEST_IID is not set): MR note skipped")
    else:
        try:
            note_id, created = gitlab_api.upsert_mr_note(gl, project_id, int(mr_iid), note_body(markdown))
            print(f"{'created' if created else 'updated'} MR !{mr_iid} note {note_id}")
        except (gitlab_api.GitLabError, ValueError) as exc:
            _warn(str(exc))
    pipeline_id = os.environ.get("CI_PIPELINE_ID", "")
    if not pipeline_id.isdigit():
        print("CI_PIPELINE_ID is not set to a pipeline id: commit status skipped (it is posted onto this pipeline)")
        return 0
    try:
        state, description = commit_status(report)
        gitlab_api.set_commit_status(
            gl,
            project_id,
            os.environ["CI_COMMIT_SHA"],
            state,
            description,
            target_url=os.environ.get("CI_PIPELINE_URL") or None,
            pipeline_id=int(pipeline_id),
            name=STATUS_NAME,
        )
        print(f"commit status {STATUS_NAME}: {state}")
    except (gitlab_api.GitLabError, ValueError) as exc:
        _warn(str(exc))
    return 0


def cmd_gitlab_schedule_ensure(args: argparse.Namespace) -> int:
    missing = _missing((TOKEN_VARIABLE, "CI_SERVER_URL", "CI_PROJECT_ID"))
    if missing:
        hint = " (a project access token with api scope)" if missing == TOKEN_VARIABLE else ""
        print(f"error: {missing} is not set{hint}; it is needed to manage pipeline schedules.", file=sys.stderr)
        return 2

    from yolo_mlops.adapters import gitlab_api
    from yolo_mlops.core.gitlab_messages import parse_variables

    try:
        variables = parse_variables(args.variable)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    ref = args.ref or os.environ.get("CI_DEFAULT_BRANCH") or "main"
    gl = gitlab_api.connect(os.environ["CI_SERVER_URL"], os.environ[TOKEN_VARIABLE])
    try:
        changes = gitlab_api.ensure_schedule(
            gl,
            os.environ["CI_PROJECT_ID"],
            args.description,
            args.cron,
            ref,
            variables,
            cron_timezone=args.timezone,
        )
    except gitlab_api.GitLabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for change in changes:
        print(change)
    if not changes:
        print("schedule up to date")
    return 0


def add_commands(groups: Subcommands) -> None:
    """Add the `gitlab` group (report, schedule ensure) to an argparse subparsers object."""
    gitlab_group = groups.add_parser("gitlab", help="report to GitLab: MR note, commit status; pipeline schedule")
    commands = gitlab_group.add_subparsers(dest="command", required=True)

    report = commands.add_parser(
        "report", help=f"post the gate's Markdown to the MR and set commit status {STATUS_NAME} (needs GITLAB_TOKEN)"
    )
    report.add_argument(
        "--markdown",
        type=Path,
        default=Path("gate_report.md"),
        help="the gate's Markdown report (default: gate_report.md)",
    )
    report.add_argument("--report", type=Path, help="the gate's JSON report (default: gate_report.json next to it)")
    report.set_defaults(func=cmd_gitlab_report)

    schedule = commands.add_parser("schedule", help="pipeline schedules").add_subparsers(dest="action", required=True)
    ensure = schedule.add_parser("ensure", help="create or update the schedule so it matches these settings")
    ensure.add_argument("--cron", required=True, help="cron expression, e.g. '0 2 * * *'")
    ensure.add_argument("--ref", help="branch to run on (default: $CI_DEFAULT_BRANCH, else main)")
    ensure.add_argument("--description", default=DEFAULT_SCHEDULE, help="identifies the schedule")
    ensure.add_argument("--timezone", default="UTC", help="cron time zone")
    ensure.add_argument(
        "--variable",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="schedule variable (repeatable); the schedule gets exactly these",
    )
    ensure.set_defaults(func=cmd_gitlab_schedule_ensure)
