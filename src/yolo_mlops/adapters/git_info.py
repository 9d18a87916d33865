"""Git and GitLab CI provenance for run tags."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def _git(args: list[str], cwd: Path) -> str:
    try:
        out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def provenance_tags(cwd: Path) -> dict[str, str]:
    """git_commit, git_branch, and in GitLab CI ci_pipeline_id and ci_job_url."""
    tags = {
        "git_commit": os.environ.get("CI_COMMIT_SHA") or _git(["rev-parse", "HEAD"], cwd),
        # CI checks out a detached HEAD, so the branch comes from CI's own variable there.
        "git_branch": os.environ.get("CI_COMMIT_REF_NAME") or _git(["rev-parse", "--abbrev-ref", "HEAD"], cwd),
    }
    for tag, variable in (("ci_pipeline_id", "CI_PIPELINE_ID"), ("ci_job_url", "CI_JOB_URL")):
        if os.environ.get(variable):
            tags[tag] = os.environ[variable]
    return tags
