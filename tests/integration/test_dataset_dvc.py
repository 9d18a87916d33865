"""The committed data.dvc is reproducible from `data synth`, and DVC push/pull work on the embedded remote."""

import hashlib
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO, run_cli
from yolo_mlops.adapters.dvc import read_dvc_file
from yolo_mlops.data.synth import DEFAULT_TRAIN, DEFAULT_VAL
from yolo_mlops.data.validate import dataset_md5

pytestmark = pytest.mark.integration
DVC = [sys.executable, "-m", "dvc"]


def test_synth_reproduces_the_md5_in_data_dvc_and_round_trips_through_the_remote(sandbox):
    project = sandbox["project"]
    env = {**sandbox["env"], "DVC_NO_ANALYTICS": "1"}
    # A copy of the repo's DVC set-up: the committed .dvc/config (embedded remote), .dvcignore and data.dvc.
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    (project / ".dvc").mkdir()
    shutil.copy(REPO / ".dvc" / "config", project / ".dvc" / "config")
    shutil.copy(REPO / ".dvcignore", project / ".dvcignore")
    shutil.copy(REPO / "data.dvc", project / "data.dvc")
    expected = read_dvc_file(project / "data.dvc").md5

    result = run_cli(["data", "synth", "--out", "data"], project, env)
    assert result.returncode == 0, result.stderr
    assert dataset_md5(project / "data") == expected
    assert f"md5 {expected}" in result.stdout

    subprocess.run([*DVC, "commit", "-q", "-f", "data.dvc"], cwd=project, env=env, check=True)
    assert read_dvc_file(project / "data.dvc").md5 == expected  # DVC itself computes the same md5
    (project / "data" / "labels" / "train.cache").write_bytes(b"ultralytics label cache")  # must not count
    status = subprocess.run([*DVC, "status", "data.dvc"], cwd=project, env=env, capture_output=True, text=True)
    assert status.returncode == 0 and "up to date" in status.stdout, status.stdout + status.stderr
    subprocess.run([*DVC, "push", "-q"], cwd=project, env=env, check=True)
    remote = project / ".mlops" / "dvc-remote"
    # The remote stores each content once (background-only images share one empty label file).
    files = [p for p in (project / "data").rglob("*") if p.is_file() and p.suffix != ".cache"]
    assert len(files) == 2 * (DEFAULT_TRAIN + DEFAULT_VAL) + 1  # an image and a label each, and data.yaml
    contents = {hashlib.md5(p.read_bytes(), usedforsecurity=False).hexdigest() for p in files}
    assert sum(1 for p in remote.rglob("*") if p.is_file()) == len(contents) + 1  # + the .dir manifest

    shutil.rmtree(project / "data")
    shutil.rmtree(project / ".dvc" / "cache")
    subprocess.run([*DVC, "pull", "-q"], cwd=project, env=env, check=True)
    assert dataset_md5(project / "data") == expected
    assert not os.listdir(sandbox["home"])
