"""`yolo-mlops data publish` / `data pull` against the S3 of a real native stack (started on free ports as in
test_native_stack.py): the first publish pushes, the second changes nothing, an empty checkout pulls the same
md5, and a remote missing one object is detected and named with the fix."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli
from tests.integration.test_native_stack import s3_keys, stack  # noqa: F401 - the module's stack fixture
from yolo_mlops.adapters.dvc import read_dvc_file
from yolo_mlops.adapters.s3 import s3_client
from yolo_mlops.data.validate import dataset_md5

pytestmark = pytest.mark.integration
DVC = [sys.executable, "-m", "dvc"]


def checkout(folder: Path, env: dict) -> Path:
    """A git + DVC checkout with the project's committed DVC set-up (remotes `embedded` and `s3`)."""
    (folder / ".dvc").mkdir(parents=True)
    subprocess.run(["git", "init", "-q"], cwd=folder, check=True)
    shutil.copy(REPO / ".dvc" / "config", folder / ".dvc" / "config")
    shutil.copy(REPO / ".dvcignore", folder / ".dvcignore")
    return folder


def test_publish_then_pull_into_an_empty_checkout(stack, tmp_path):  # noqa: F811
    assert stack["up"].returncode == 0, stack["up"].stdout + stack["up"].stderr
    env = stack["ci_env"]
    source = checkout(tmp_path / "source", env)
    synth = ["data", "synth", "--out", "data", "--train", "6", "--val", "3", "--size", "64"]
    assert run_cli(synth, source, env).returncode == 0
    subprocess.run([*DVC, "add", "-q", "data"], cwd=source, env=env, check=True)
    md5 = read_dvc_file(source / "data.dvc").md5
    manifest = json.loads((source / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]).read_text())
    objects = len({entry["md5"] for entry in manifest}) + 1  # each distinct file, and the manifest itself
    assert objects > 10

    first = run_cli(["data", "publish"], source, env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"pushed {objects} of {objects} objects" in first.stdout
    keys = s3_keys(stack, "dvc")
    assert len(keys) == objects and all(key.startswith("data/files/md5/") for key in keys)
    assert "endpointurl" in (source / ".dvc" / "config.local").read_text()
    assert (source / ".dvc" / "config").read_text() == (REPO / ".dvc" / "config").read_text()

    second = run_cli(["data", "publish", "data"], source, env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert f"nothing to push: s3://dvc/data holds all {objects} objects" in second.stdout
    assert len(s3_keys(stack, "dvc")) == objects

    empty = checkout(tmp_path / "empty", env)
    shutil.copy(source / "data.dvc", empty / "data.dvc")
    pulled = run_cli(["data", "pull"], empty, env)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    assert dataset_md5(empty / "data") == md5

    # One file's object gone from the remote: a pull names the fix, and publish puts it back.
    victim = next(key for key in keys if not key.endswith(".dir"))
    s3 = s3_client(env["MLFLOW_S3_ENDPOINT_URL"], env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"])
    s3.delete_object(Bucket="dvc", Key=victim)
    fresh = checkout(tmp_path / "fresh", env)
    shutil.copy(source / "data.dvc", fresh / "data.dvc")
    refused = run_cli(["data", "pull"], fresh, env)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
    assert "lacks 1 object(s) of data.dvc" in refused.stderr and "`yolo-mlops data publish`" in refused.stderr
    assert not (fresh / "data").exists()
    repaired = run_cli(["data", "publish"], source, env)
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    # The missing file and the manifest: DVC skips a directory whose manifest is on the remote.
    assert f"pushed 2 of {objects} objects" in repaired.stdout
    assert victim in s3_keys(stack, "dvc")
