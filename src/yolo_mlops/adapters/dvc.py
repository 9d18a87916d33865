"""DVC adapter, the only module driving DVC: what a committed .dvc file says about the dataset it tracks,
and pushing and pulling it (DVC 3's command line, run by this interpreter)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from yolo_mlops.core.errors import DatasetError, UserError


@dataclass(frozen=True)
class TrackedData:
    path: Path
    md5: str


def read_dvc_file(dvc_file: Path) -> TrackedData:
    """The single output of a `dvc add`-made file: its path (relative to the file) and md5."""
    try:
        content = yaml.safe_load(dvc_file.read_text())
        out = content["outs"][0]
        return TrackedData(path=(dvc_file.parent / out["path"]).resolve(), md5=str(out["md5"]))
    except (OSError, yaml.YAMLError, KeyError, IndexError, TypeError):
        raise DatasetError(
            f"{dvc_file}: not a readable DVC file with one output; restore it with `git checkout {dvc_file.name}`."
        ) from None


class DvcFailed(Exception):
    """A dvc command failed; the message is DVC's own last error line."""


def _dvc(args: list[str], repo: Path) -> str:
    """Run `dvc ARGS` in `repo` (this interpreter's DVC); its stdout, or DvcFailed with its error line."""
    result = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=repo, capture_output=True, text=True)
    if result.returncode != 0:
        lines = [line for line in (result.stderr + result.stdout).splitlines() if line.strip()]
        errors = [line for line in lines if "ERROR" in line]
        # Without an ERROR line, the first line says what happened; the last one is DVC's support trailer.
        raise DvcFailed(errors[-1] if errors else (lines or [f"exit code {result.returncode}"])[0])
    return result.stdout


def set_local_endpoint(repo: Path, remote: str, endpoint: str) -> None:
    """The remote's S3 endpoint in .dvc/config.local (git-ignored): the committed config stays server-free."""
    _dvc(["remote", "modify", "--local", remote, "endpointurl", endpoint], repo)


def remote_url(repo: Path, remote: str) -> str:
    try:
        url = _dvc(["config", f"remote.{remote}.url"], repo).strip()
    except DvcFailed:
        url = ""
    if not url:
        raise UserError(f".dvc/config has no remote {remote!r}; name one of `dvc remote list`.")
    return url


def commit(repo: Path, dvc_file: Path) -> None:
    """The workspace's data into DVC's cache, as recorded by `dvc_file` (a no-op when it is there)."""
    _dvc(["commit", "-q", "-f", str(dvc_file)], repo)


def push(repo: Path, remote: str, dvc_file: Path) -> None:
    _dvc(["push", "-q", "-r", remote, str(dvc_file)], repo)


def pull(repo: Path, remote: str, dvc_file: Path) -> None:
    _dvc(["pull", "-q", "-r", remote, str(dvc_file)], repo)


def object_key(prefix: str, md5: str) -> str:
    """Where DVC 3 keeps an object on a cloud remote: <prefix>/files/md5/<2 chars>/<the rest>."""
    return "/".join(part for part in (prefix.strip("/"), "files", "md5", md5[:2], md5[2:]) if part)


def cached_manifest(repo: Path, dir_md5: str) -> bytes | None:
    """The directory manifest (a JSON list of {md5, relpath}) from the local cache, if it is there."""
    path = repo / ".dvc" / "cache" / object_key("", dir_md5)
    return path.read_bytes() if path.is_file() else None


def manifest_md5s(manifest: bytes) -> list[str]:
    return [str(entry["md5"]) for entry in json.loads(manifest)]
