"""The pure part of GitLab reporting: note body, commit status, schedule variables from the CLI."""

import pytest

from yolo_mlops.core.gitlab_messages import NOTE_MARKER, commit_status, note_body, parse_variables


def report(outcome: str, **extra) -> dict:
    base = {
        "outcome": outcome,
        "reason": "candidate grid-imgsz96 beats the champion on mAP50 by 0.031",
        "model": "yolo_tiny_person",
        "alias": "staging",
        "model_version": "3",
        "decision_id": "d-1",
        "campaign": "c-1",
    }
    return {**base, **extra}


def test_note_body_has_the_marker_on_its_first_line():
    body = note_body("## Model gate\n\nbody\n")
    first, rest = body.split("\n", 1)
    assert first == NOTE_MARKER
    assert rest == "## Model gate\n\nbody\n"


@pytest.mark.parametrize(
    ("outcome", "state", "description"),
    [
        ("promote", "success", "promote: yolo_tiny_person@staging -> v3"),
        ("first_model", "success", "first_model: yolo_tiny_person@staging -> v3"),
        ("already_champion", "success", "already_champion: yolo_tiny_person@staging is v3"),
        ("keep_champion", "success", "keep_champion: candidate grid-imgsz96 beats the champion on mAP50 by 0.031"),
        ("no_decision", "failed", "no_decision: candidate grid-imgsz96 beats the champion on mAP50 by 0.031"),
    ],
)
def test_commit_status_per_outcome(outcome, state, description):
    assert commit_status(report(outcome)) == (state, description)


def test_commit_status_without_a_version_falls_back_to_the_reason():
    assert commit_status(report("promote", model_version=None, reason="why")) == ("success", "promote: why")


def test_commit_status_marks_a_dry_run():
    assert commit_status(report("promote", dry_run=True))[1] == "promote: yolo_tiny_person@staging -> v3 (dry run)"


def test_long_reason_is_truncated_to_one_line_of_255_chars():
    state, description = commit_status(report("no_decision", reason="metric floor failed\n" + "x" * 1000))
    assert state == "failed"
    assert len(description) == 255
    assert description.startswith("no_decision: metric floor failed x")
    assert description.endswith("…")
    assert "\n" not in description


def test_unknown_outcome_is_refused():
    with pytest.raises(ValueError, match="unknown gate outcome 'maybe'"):
        commit_status(report("maybe"))


def test_parse_variables():
    assert parse_variables([]) == {}
    assert parse_variables(["MODE=nightly", "_X1=a=b", "EMPTY="]) == {"MODE": "nightly", "_X1": "a=b", "EMPTY": ""}


@pytest.mark.parametrize("pair", ["MODE", "=value", "1MODE=x", "MY-VAR=x", "MY VAR=x", ""])
def test_parse_variables_names_the_bad_pair(pair):
    with pytest.raises(ValueError) as caught:
        parse_variables(["OK=1", pair])
    assert repr(pair) in str(caught.value)
    assert "KEY=VALUE" in str(caught.value)


def test_parse_variables_refuses_a_key_given_twice():
    with pytest.raises(ValueError, match="MODE is given twice"):
        parse_variables(["MODE=a", "MODE=b"])
