"""The DVC-tracked dataset on the team's S3 remote: publish it (validate → push → every object checked on
the remote) and pull it back. Endpoint and keys come from the environment; the endpoint goes into
.dvc/config.local only, never into the committed .dvc/config."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from yolo_mlops.adapters import dvc
from yolo_mlops.adapters.s3 import S3Unavailable, delete_object, existing_keys, read_object, s3_client
from yolo_mlops.core.errors import DatasetError, UserError
from yolo_mlops.data.validate import dataset_md5, require_valid_dataset

S3_VARIABLES = ("MLFLOW_S3_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


@dataclass(frozen=True)
class RemoteData:
    """One DVC file's objects (the directory manifest first) on one S3 remote."""

    name: str
    url: str
    endpoint: str
    client: Any
    bucket: str
    keys: list[str]

    def missing(self) -> list[str]:
        with _remote_faults(self.name, self.url, self.endpoint):
            present = existing_keys(self.client, self.bucket, self.keys)
        return [key for key in self.keys if key not in present]


@contextmanager
def _remote_faults(name: str, url: str, endpoint: str) -> Iterator[None]:
    try:
        yield
    except S3Unavailable as exc:
        raise UserError(
            f"DVC remote {name!r} ({url}) at {endpoint}: {exc}; check MLFLOW_S3_ENDPOINT_URL "
            "and AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY."
        ) from None


@dataclass(frozen=True)
class Transfer:
    md5: str
    objects: int  # every file of the dataset + its directory manifest
    moved: int  # objects transferred: those the remote lacked (publish), all of them (pull)
    remote: str


def _connect(repo: Path, remote: str, env: Mapping[str, str]) -> tuple[str, str, Any, str, str]:
    url = dvc.remote_url(repo, remote)
    parsed = urlparse(url)
    if parsed.scheme != "s3":
        raise UserError(f"DVC remote {remote!r} is {url}, not an s3:// remote; name the S3 one with --remote.")
    missing = [k for k in S3_VARIABLES if not env.get(k)]
    if missing:
        raise UserError(
            f"{missing[0]} is not set: the DVC remote's endpoint and keys come from {', '.join(S3_VARIABLES)} "
            "(a local stack writes them to .mlops/stack/client.env)."
        )
    endpoint = env["MLFLOW_S3_ENDPOINT_URL"]
    dvc.set_local_endpoint(repo, remote, endpoint)
    client = s3_client(endpoint, env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"])
    return url, endpoint, client, parsed.netloc, parsed.path


def _remote_data(repo: Path, remote: str, env: Mapping[str, str], dir_md5: str, manifest: bytes | None) -> RemoteData:
    url, endpoint, client, bucket, prefix = _connect(repo, remote, env)
    dir_key = dvc.object_key(prefix, dir_md5)
    if manifest is None:  # a fresh checkout: the manifest comes from the remote, if it is there
        with _remote_faults(remote, url, endpoint):
            manifest = read_object(client, bucket, dir_key) or b"[]"
    keys = [dir_key, *(dvc.object_key(prefix, md5) for md5 in dvc.manifest_md5s(manifest))]
    return RemoteData(remote, url, endpoint, client, bucket, keys)


def _run(action: str, step: Any, *args: Any) -> None:
    try:
        step(*args)
    except dvc.DvcFailed as exc:
        raise UserError(f"`dvc {action}` failed: {exc}") from None


def publish(data: Path, dvc_file: Path, remote: str, env: Mapping[str, str]) -> Transfer:
    """Validate `data`, check it is what `dvc_file` records, push what the remote lacks, then check that the
    remote holds every object. A second run pushes nothing."""
    repo, tracked = dvc_file.resolve().parent, dvc.read_dvc_file(dvc_file)
    if tracked.path != data.resolve():
        raise UserError(f"{dvc_file} tracks {tracked.path}, not {data}; pass its path or the right --dvc-file.")
    md5 = require_valid_dataset(data)
    if md5 != tracked.md5:
        raise DatasetError(
            f"{data} (md5 {md5}) is not the data {dvc_file} records ({tracked.md5}): to publish it, "
            f"`dvc add {data}` and commit {dvc_file}; to restore the recorded data, `dvc checkout {dvc_file}`."
        )
    _run("commit", dvc.commit, repo, Path(dvc_file.name))  # into DVC's cache; a no-op when it is there
    manifest = dvc.cached_manifest(repo, tracked.md5)
    if manifest is None:
        raise UserError(f"DVC's cache has no manifest for {tracked.md5} after `dvc commit {dvc_file}`.")
    target = _remote_data(repo, remote, env, tracked.md5, manifest)
    absent = target.missing()
    manifest_key = target.keys[0]
    if absent and manifest_key not in absent:
        # DVC 3.67 takes a manifest on the remote for proof that every file of the directory is there
        # (push and `dvc status -c` alike): it pushes nothing until the manifest is gone, then pushes it last.
        with _remote_faults(target.name, target.url, target.endpoint):
            delete_object(target.client, target.bucket, manifest_key)
        absent.insert(0, manifest_key)
    if absent:
        _run(f"push -r {remote}", dvc.push, repo, remote, Path(dvc_file.name))
        still = target.missing()
        if still:
            raise UserError(
                f"after `dvc push -r {remote}`, {target.url} still lacks {len(still)} object(s) "
                f"(first: {still[0]}); check the bucket's permissions and run `yolo-mlops data publish` again."
            )
    return Transfer(md5=tracked.md5, objects=len(target.keys), moved=len(absent), remote=target.url)


def pull(dvc_file: Path, remote: str, env: Mapping[str, str]) -> Transfer:
    """Check that the remote holds every object of `dvc_file`, pull them, and check the md5 of the result."""
    repo, tracked = dvc_file.resolve().parent, dvc.read_dvc_file(dvc_file)
    target = _remote_data(repo, remote, env, tracked.md5, dvc.cached_manifest(repo, tracked.md5))
    absent = target.missing()
    if absent:
        raise DatasetError(
            f"DVC remote {remote!r} ({target.url}) lacks {len(absent)} object(s) of {dvc_file} (md5 {tracked.md5}); "
            "publish the data from a checkout that has it: `yolo-mlops data publish`."
        )
    _run(f"pull -r {remote}", dvc.pull, repo, remote, Path(dvc_file.name))
    md5 = dataset_md5(tracked.path)
    if md5 != tracked.md5:
        raise DatasetError(f"{tracked.path} has md5 {md5} after `dvc pull`, not {tracked.md5} as {dvc_file} says.")
    return Transfer(md5=md5, objects=len(target.keys), moved=len(target.keys), remote=target.url)
