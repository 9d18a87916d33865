"""`yolo-mlops gitlab report` and `gitlab schedule ensure` through the real CLI handlers, python-gitlab and requests.

GitLab's own REST API is faked with `responses`, because no GitLab server can run here; everything else is real:
the argparse commands, the report files on disk, the adapter, python-gitlab 8.6 (its pagination, lazy objects,
save/create/delete calls) and the HTTP requests it builds, which the fake checks.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests
import responses
from responses import matchers

from yolo_mlops.adapters import gitlab_api
from yolo_mlops.cli.gitlab_commands import NO_TOKEN
from yolo_mlops.cli.main import main
from yolo_mlops.core.gitlab_messages import NOTE_MARKER

SERVER = "https://gitlab.example.com"
API = f"{SERVER}/api/v4"
PROJECT = "42"
SHA = "0123456789abcdef0123456789abcdef01234567"
TOKEN = "glpat-TESTTOKEN-do-not-leak"
NOTES = f"{API}/projects/{PROJECT}/merge_requests/5/notes"
STATUS = f"{API}/projects/{PROJECT}/statuses/{SHA}"
PIPELINE_ID = "99"
PIPELINE_URL = f"{SERVER}/group/project/-/pipelines/{PIPELINE_ID}"
MARKDOWN = "## ✅ Model gate: `promote` — yolo_tiny_person@staging\n\n**better by 0.03**\n"
WRITES = ("POST", "PUT", "DELETE")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """No token and no CI variables unless a test sets them (the suite itself may run in GitLab CI)."""
    names = ("GITLAB_TOKEN", "CI_SERVER_URL", "CI_PROJECT_ID", "CI_COMMIT_SHA", "CI_MERGE_REQUEST_IID")
    for name in (*names, "CI_PIPELINE_URL", "CI_PIPELINE_ID", "CI_COMMIT_REF_NAME", "CI_DEFAULT_BRANCH"):
        monkeypatch.delenv(name, raising=False)


def ci_env(monkeypatch, mr_iid: str | None = "5", token: str | None = TOKEN) -> None:
    values = {
        "GITLAB_TOKEN": token,
        "CI_SERVER_URL": SERVER,
        "CI_PROJECT_ID": PROJECT,
        "CI_COMMIT_SHA": SHA,
        "CI_MERGE_REQUEST_IID": mr_iid,
        "CI_PIPELINE_URL": PIPELINE_URL,
        "CI_PIPELINE_ID": PIPELINE_ID,
        "CI_COMMIT_REF_NAME": "feature-x",
    }
    for name, value in values.items():
        if value is not None:
            monkeypatch.setenv(name, value)


def gate_files(folder: Path, outcome: str = "promote", reason: str = "better by 0.03") -> Path:
    report = {
        "outcome": outcome,
        "reason": reason,
        "model": "yolo_tiny_person",
        "alias": "staging",
        "model_version": "3" if outcome == "promote" else None,
        "decision_id": "d-1",
        "campaign": "c-1",
    }
    (folder / "gate_report.json").write_text(json.dumps(report))
    (folder / "gate_report.md").write_text(MARKDOWN)
    return folder / "gate_report.md"


def cli(*argv: str) -> int:
    return main(["gitlab", *argv])


def writes(rsps: responses.RequestsMock) -> list[tuple[str, str]]:
    return [(c.request.method, c.request.url) for c in rsps.calls if c.request.method in WRITES]


def body(call) -> dict:
    return json.loads(call.request.body)


NO_QUERY = matchers.query_param_matcher({})


def mock_status(rsps: responses.RequestsMock, status: int = 201, **json_body) -> None:
    rsps.post(STATUS, status=status, json=json_body or {"id": 1, "status": "success", "name": "model-gate"})


# ---- gitlab report ------------------------------------------------------------------------------------


def test_note_created_when_absent(tmp_path, monkeypatch, capsys):
    ci_env(monkeypatch)
    markdown = gate_files(tmp_path)
    with responses.RequestsMock() as rsps:
        rsps.get(NOTES, match=[NO_QUERY], json=[{"id": 10, "body": "LGTM", "system": False}])
        rsps.post(NOTES, status=201, json={"id": 124, "body": "..."})
        mock_status(rsps)
        assert cli("report", "--markdown", str(markdown)) == 0
        note_post = next(c for c in rsps.calls if c.request.method == "POST" and c.request.url == NOTES)
        assert body(note_post)["body"] == f"{NOTE_MARKER}\n{MARKDOWN}"
        assert writes(rsps) == [("POST", NOTES), ("POST", STATUS)]
    out = capsys.readouterr().out
    assert "created MR !5 note 124" in out
    assert "commit status model-gate: success" in out


def test_note_updated_in_place_across_two_pages(tmp_path, monkeypatch, capsys):
    """python-gitlab 8.6 follows the `Link: <...>; rel="next"` header (X-Next-Page alone is not followed)."""
    ci_env(monkeypatch)
    markdown = gate_files(tmp_path)
    page2 = f"{NOTES}?page=2&per_page=2"
    with responses.RequestsMock() as rsps:
        rsps.get(
            NOTES,
            match=[NO_QUERY],
            json=[{"id": 50, "body": "please retrain", "system": False}, {"id": 49, "body": "added 1 commit"}],
            headers={"Link": f'<{page2}>; rel="next"', "X-Next-Page": "2", "X-Total-Pages": "2", "X-Per-Page": "2"},
        )
        rsps.get(
            page2,
            match=[matchers.query_param_matcher({"page": "2", "per_page": "2"})],
            json=[
                {"id": 41, "body": f"{NOTE_MARKER}\nnewer gate report"},
                {"id": 30, "body": f"{NOTE_MARKER}\nolder gate report"},
            ],
            headers={"X-Page": "2", "X-Total-Pages": "2"},
        )
        rsps.put(f"{NOTES}/41", json={"id": 41, "body": "..."})
        mock_status(rsps)
        assert cli("report", "--markdown", str(markdown)) == 0
        assert writes(rsps) == [("PUT", f"{NOTES}/41"), ("POST", STATUS)]
        assert body(rsps.calls[2]) == {"body": f"{NOTE_MARKER}\n{MARKDOWN}"}
    assert "updated MR !5 note 41" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("outcome", "reason", "state"),
    [
        ("keep_champion", "no candidate beats the champion", "success"),
        ("no_decision", "2 of 5 expected configs have no finished run", "failed"),
    ],
)
def test_commit_status_body_without_a_merge_request(tmp_path, monkeypatch, capsys, outcome, reason, state):
    """On this pipeline (pipeline_id, no ref: GitLab would otherwise look a pipeline up by ref and, in a
    merge-request pipeline, create an external one); red only when the gate could not decide."""
    ci_env(monkeypatch, mr_iid=None)
    markdown = gate_files(tmp_path, outcome=outcome, reason=reason)
    with responses.RequestsMock() as rsps:
        mock_status(rsps)
        assert cli("report", "--markdown", str(markdown), "--report", str(tmp_path / "gate_report.json")) == 0
        assert len(rsps.calls) == 1  # no note calls at all
        assert body(rsps.calls[0]) == {
            "state": state,
            "name": "model-gate",
            "description": f"{outcome}: {reason}",
            "target_url": PIPELINE_URL,
            "pipeline_id": 99,
        }
        assert rsps.calls[0].request.headers["PRIVATE-TOKEN"] == TOKEN
    out = capsys.readouterr().out
    assert "MR note skipped" in out
    assert f"commit status model-gate: {state}" in out


def test_commit_status_skipped_outside_a_pipeline(tmp_path, monkeypatch, capsys):
    ci_env(monkeypatch, mr_iid=None)
    monkeypatch.delenv("CI_PIPELINE_ID")
    markdown = gate_files(tmp_path)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.post(re.compile(".*"))
        assert cli("report", "--markdown", str(markdown)) == 0
        assert len(rsps.calls) == 0
    assert "CI_PIPELINE_ID is not set to a pipeline id: commit status skipped" in capsys.readouterr().out


def test_no_token_skips_without_any_http_call(tmp_path, monkeypatch, capsys):
    ci_env(monkeypatch, token=None)
    markdown = gate_files(tmp_path)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(re.compile(".*"))
        rsps.post(re.compile(".*"))
        assert cli("report", "--markdown", str(markdown)) == 0
        assert len(rsps.calls) == 0
    assert capsys.readouterr().out == NO_TOKEN + "\n"


def test_missing_ci_variable_with_a_token_skips(tmp_path, monkeypatch, capsys):
    ci_env(monkeypatch)
    monkeypatch.delenv("CI_COMMIT_SHA")
    markdown = gate_files(tmp_path)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(re.compile(".*"))
        assert cli("report", "--markdown", str(markdown)) == 0
        assert len(rsps.calls) == 0
    assert "CI_COMMIT_SHA is not set" in capsys.readouterr().out


def test_gitlab_403_is_a_warning_and_never_leaks_the_token(tmp_path, monkeypatch, capsys):
    ci_env(monkeypatch)
    markdown = gate_files(tmp_path)
    with responses.RequestsMock() as rsps:
        rsps.get(NOTES, status=403, json={"message": "403 Forbidden"})
        # A server that echoes the credential back must not get it printed either.
        mock_status(rsps, status=403, message=f"insufficient_scope for token {TOKEN}")
        assert cli("report", "--markdown", str(markdown)) == 0
    captured = capsys.readouterr()
    warnings = captured.err.splitlines()
    assert len(warnings) == 2
    assert warnings[0].startswith("warning: listing the notes of MR !5 failed (HTTP 403)")
    assert warnings[1].startswith(f"warning: setting commit status model-gate on {SHA[:12]} failed (HTTP 403)")
    assert TOKEN not in captured.out + captured.err
    assert "Traceback" not in captured.err


def test_unreachable_server_is_one_gitlab_error():
    gl = gitlab_api.connect(SERVER, TOKEN)
    with responses.RequestsMock() as rsps:
        rsps.post(STATUS, body=requests.ConnectionError(f"connection refused for {TOKEN}"))
        with pytest.raises(gitlab_api.GitLabError) as caught:
            gitlab_api.set_commit_status(gl, PROJECT, SHA, "success", "promote: x", None, pipeline_id=99)
        assert len(rsps.calls) == 1  # retry_transient_errors is off: no back-off
    assert "setting commit status model-gate" in str(caught.value)
    assert "ConnectionError" in str(caught.value)
    assert TOKEN not in str(caught.value)


# ---- gitlab schedule ensure ---------------------------------------------------------------------------


class FakeSchedules:
    """GitLab's pipeline schedule endpoints, with state (the list omits variables, as GitLab's does)."""

    def __init__(self, rsps: responses.RequestsMock, schedules: list[dict] | None = None) -> None:
        self.schedules = {s["id"]: s for s in schedules or []}
        base = re.escape(f"{API}/projects/{PROJECT}/pipeline_schedules")
        one, var = rf"{base}/(\d+)$", rf"{base}/(\d+)/variables/(\w+)$"
        rsps.add_callback("GET", re.compile(rf"{base}$"), self.list_all)
        rsps.add_callback("POST", re.compile(rf"{base}$"), self.create)
        rsps.add_callback("GET", re.compile(one), self.get)
        rsps.add_callback("PUT", re.compile(one), self.update)
        rsps.add_callback("POST", re.compile(rf"{base}/(\d+)/variables$"), self.add_variable)
        rsps.add_callback("PUT", re.compile(var), self.update_variable)
        rsps.add_callback("DELETE", re.compile(var), self.delete_variable)

    @staticmethod
    def reply(data, status: int = 200):
        return status, {"Content-Type": "application/json"}, json.dumps(data)

    @staticmethod
    def ids(request) -> list[str]:
        return re.findall(r"pipeline_schedules/(\d+)(?:/variables/(\w+))?", request.url.split("?")[0])[0]

    def list_all(self, request):
        return self.reply([{k: v for k, v in s.items() if k != "variables"} for s in self.schedules.values()])

    def create(self, request):
        schedule = {"id": max(self.schedules, default=0) + 1, "variables": [], **json.loads(request.body)}
        self.schedules[schedule["id"]] = schedule
        return self.reply(schedule, 201)

    def get(self, request):
        return self.reply(self.schedules[int(self.ids(request)[0])])

    def update(self, request):
        schedule = self.schedules[int(self.ids(request)[0])]
        schedule.update(json.loads(request.body))
        return self.reply(schedule)

    def add_variable(self, request):
        variable = {"variable_type": "env_var", **json.loads(request.body)}
        self.schedules[int(self.ids(request)[0])]["variables"].append(variable)
        return self.reply(variable, 201)

    def update_variable(self, request):
        schedule_id, key = self.ids(request)
        variable = next(v for v in self.schedules[int(schedule_id)]["variables"] if v["key"] == key)
        variable.update(json.loads(request.body))
        return self.reply(variable)

    def delete_variable(self, request):
        schedule_id, key = self.ids(request)
        variables = self.schedules[int(schedule_id)]["variables"]
        variables[:] = [v for v in variables if v["key"] != key]
        return self.reply({"key": key})

    def variables(self, schedule_id: int) -> dict[str, str]:
        return {v["key"]: v["value"] for v in self.schedules[schedule_id]["variables"]}


ENSURE = ["schedule", "ensure", "--cron", "0 2 * * *", "--variable", "CAMPAIGN_MODE=nightly", "--variable", "GPU=1"]


def test_schedule_created_then_second_ensure_changes_nothing(monkeypatch, capsys):
    ci_env(monkeypatch, mr_iid=None)
    monkeypatch.setenv("CI_DEFAULT_BRANCH", "trunk")
    schedules_url = f"{API}/projects/{PROJECT}/pipeline_schedules"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakeSchedules(rsps)
        assert cli(*ENSURE) == 0
        assert writes(rsps) == [
            ("POST", schedules_url),
            ("POST", f"{schedules_url}/1/variables"),
            ("POST", f"{schedules_url}/1/variables"),
        ]
        assert body(rsps.calls[1]) == {
            "description": "yolo-mlops nightly campaign",
            "cron": "0 2 * * *",
            "ref": "trunk",
            "cron_timezone": "UTC",
            "active": True,
        }
        assert fake.variables(1) == {"CAMPAIGN_MODE": "nightly", "GPU": "1"}
        out = capsys.readouterr().out
        assert "created schedule 'yolo-mlops nightly campaign' (id 1)" in out
        assert "variable GPU added" in out

        rsps.calls.reset()
        assert cli(*ENSURE) == 0
        assert writes(rsps) == []
        assert [c.request.method for c in rsps.calls] == ["GET", "GET"]
    assert capsys.readouterr().out == "schedule up to date\n"


def test_schedule_drift_is_corrected_with_exactly_the_needed_calls(monkeypatch, capsys):
    ci_env(monkeypatch, mr_iid=None)
    base = f"{API}/projects/{PROJECT}/pipeline_schedules"
    existing = {
        "id": 7,
        "description": "yolo-mlops nightly campaign",
        "ref": "main",
        "cron": "0 1 * * *",
        "cron_timezone": "UTC",
        "active": True,
        "variables": [
            {"key": "CAMPAIGN_MODE", "value": "nightly", "variable_type": "env_var"},
            {"key": "GPU", "value": "0", "variable_type": "env_var"},
            {"key": "OLD", "value": "x", "variable_type": "env_var"},
        ],
    }
    other = {**existing, "id": 3, "description": "yolo-mlops nightly campaign (copy)", "variables": []}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakeSchedules(rsps, [other, existing])
        assert cli(*ENSURE) == 0
        assert writes(rsps) == [
            ("PUT", f"{base}/7"),
            ("PUT", f"{base}/7/variables/GPU"),
            ("DELETE", f"{base}/7/variables/OLD"),
        ]
        put_schedule, put_variable = (c for c in rsps.calls if c.request.method == "PUT")
        assert body(put_schedule) == {"cron": "0 2 * * *"}
        assert body(put_variable) == {"value": "1"}
        assert fake.variables(7) == {"CAMPAIGN_MODE": "nightly", "GPU": "1"}
        assert fake.schedules[3] == other
    assert capsys.readouterr().out.splitlines() == [
        "cron: '0 1 * * *' -> '0 2 * * *'",
        "variable GPU changed",
        "variable OLD deleted",
    ]


@pytest.mark.parametrize("missing", ["GITLAB_TOKEN", "CI_SERVER_URL", "CI_PROJECT_ID"])
def test_schedule_ensure_needs_token_server_and_project(monkeypatch, capsys, missing):
    ci_env(monkeypatch)
    monkeypatch.delenv(missing)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        assert cli(*ENSURE) == 2
        assert len(rsps.calls) == 0
    err = capsys.readouterr().err
    assert err.startswith(f"error: {missing} is not set")
    assert len(err.splitlines()) == 1


def test_schedule_ensure_refuses_a_bad_variable(monkeypatch, capsys):
    ci_env(monkeypatch)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        assert cli("schedule", "ensure", "--cron", "0 2 * * *", "--variable", "BAD-KEY=1") == 2
        assert len(rsps.calls) == 0
    assert "'BAD-KEY=1'" in capsys.readouterr().err
