"""GitLab's REST API through python-gitlab: MR notes, commit statuses, pipeline schedules.

The only module that imports `gitlab`. Every failure leaves as one GitLabError naming the operation.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import gitlab
import requests

from yolo_mlops.core.gitlab_messages import NOTE_MARKER


class GitLabError(RuntimeError):
    """A GitLab API call failed; the message names the operation and the HTTP status, never the token."""


def connect(url: str, token: str) -> gitlab.Gitlab:
    """A client authenticated with a personal/project access token (a CI_JOB_TOKEN cannot do any of this)."""
    # No transient-error retries: a CI reporting step should fail fast (and warn) rather than back off for minutes.
    return gitlab.Gitlab(url, private_token=token, retry_transient_errors=False, timeout=30)


def _scrub(message: str, gl: gitlab.Gitlab) -> str:
    token = gl.private_token
    return message.replace(token, "***") if token else message


@contextmanager
def _calling(gl: gitlab.Gitlab, operation: str) -> Iterator[None]:
    try:
        yield
    except gitlab.exceptions.GitlabError as exc:
        status = f"HTTP {exc.response_code}" if exc.response_code else "no HTTP status"
        detail = exc.error_message or type(exc).__name__
        raise GitLabError(_scrub(f"{operation} failed ({status}): {detail}", gl)) from None
    except requests.exceptions.RequestException as exc:
        raise GitLabError(
            _scrub(f"{operation} failed (no HTTP status): {type(exc).__name__} for {gl.url}", gl)
        ) from None


def _project(gl: gitlab.Gitlab, project_id: int | str) -> Any:
    return gl.projects.get(project_id, lazy=True)  # lazy: no GET, the calls below go straight to sub-resources


def upsert_mr_note(gl: gitlab.Gitlab, project_id: int | str, mr_iid: int, body: str) -> tuple[int, bool]:
    """Update the MR's note that carries NOTE_MARKER (the newest, if several), else create one: (note id, created)."""
    with _calling(gl, f"listing the notes of MR !{mr_iid}"):
        mr = _project(gl, project_id).mergerequests.get(mr_iid, lazy=True)
        notes = mr.notes.list(get_all=True)
    ours = [note for note in notes if NOTE_MARKER in (note.attributes.get("body") or "")]
    if ours:
        note = max(ours, key=lambda n: n.id)  # ids grow with time; the newest is the one people see last
        with _calling(gl, f"updating note {note.id} on MR !{mr_iid}"):
            note.body = body
            note.save()
        return note.id, False
    with _calling(gl, f"creating a note on MR !{mr_iid}"):
        note = mr.notes.create({"body": body})
    return note.id, True


def set_commit_status(
    gl: gitlab.Gitlab,
    project_id: int | str,
    sha: str,
    state: str,
    description: str,
    target_url: str | None,
    pipeline_id: int,
    name: str = "model-gate",
) -> None:
    """Post a commit status onto this pipeline (shown on it and on the MR).

    With `pipeline_id` GitLab attaches the status to that pipeline; without it GitLab looks one up by ref
    and, in a merge-request pipeline, finds none and creates an external pipeline that can hide the MR's own.
    """
    data: dict[str, Any] = {"state": state, "name": name, "description": description, "pipeline_id": pipeline_id}
    if target_url:
        data["target_url"] = target_url
    with _calling(gl, f"setting commit status {name} on {sha[:12]}"):
        commit = _project(gl, project_id).commits.get(sha, lazy=True)
        commit.statuses.create(data)


def ensure_schedule(
    gl: gitlab.Gitlab,
    project_id: int | str,
    description: str,
    cron: str,
    ref: str,
    variables: dict[str, str],
    cron_timezone: str = "UTC",
    active: bool = True,
) -> list[str]:
    """Make the pipeline schedule with this exact description look as asked; the changes made (none: up to date).

    Variable values are not echoed in the changes: they may be secrets.
    """
    project = _project(gl, project_id)
    with _calling(gl, "listing pipeline schedules"):
        matches = [s for s in project.pipelineschedules.list(get_all=True) if s.description == description]
    changes: list[str] = []
    wanted = {"cron": cron, "ref": ref, "cron_timezone": cron_timezone, "active": active}
    if not matches:
        with _calling(gl, f"creating pipeline schedule {description!r}"):
            schedule = project.pipelineschedules.create({"description": description, **wanted})
        changes.append(f"created schedule {description!r} (id {schedule.id}): cron {cron!r} {cron_timezone}, ref {ref}")
        current: dict[str, str] = {}
    else:
        # Oldest first, so that a duplicate made by hand does not make the choice flip between runs.
        schedule_id = min(s.id for s in matches)
        with _calling(gl, f"reading pipeline schedule {schedule_id}"):
            # Only GET of one schedule includes its variables; the list does not.
            schedule = project.pipelineschedules.get(schedule_id)
        for field, value in wanted.items():
            if schedule.attributes.get(field) != value:
                changes.append(f"{field}: {schedule.attributes.get(field)!r} -> {value!r}")
                setattr(schedule, field, value)
        if changes:
            with _calling(gl, f"updating pipeline schedule {schedule_id}"):
                schedule.save()
        # `schedule.variables` is the manager; the server's list of variables is in the attributes.
        current = {v["key"]: v["value"] for v in schedule.attributes.get("variables") or []}
    with _calling(gl, f"setting the variables of pipeline schedule {schedule.id}"):
        for key, value in variables.items():
            if key not in current:
                schedule.variables.create({"key": key, "value": value})
                changes.append(f"variable {key} added")
            elif current[key] != value:
                schedule.variables.update(key, {"value": value})
                changes.append(f"variable {key} changed")
        for key in sorted(current.keys() - variables.keys()):
            schedule.variables.delete(key)
            changes.append(f"variable {key} deleted")
    return changes
