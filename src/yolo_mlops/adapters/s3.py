"""S3 adapter (MinIO, SeaweedFS or AWS): the one place a boto3 client is built."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def s3_client(endpoint: str, access_key: str, secret_key: str) -> Any:
    """A boto3 S3 client for a non-AWS endpoint: one attempt, short timeouts (callers poll or report)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1}, connect_timeout=3, read_timeout=10),
    )


class S3Unavailable(Exception):
    """The endpoint is unreachable or refused the request; the message says which, without the keys."""


@contextmanager
def _faults(what: str) -> Iterator[None]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        raise S3Unavailable(f"{what} refused ({exc.response['Error']['Code']})") from None
    except BotoCoreError as exc:
        raise S3Unavailable(f"unreachable ({type(exc).__name__})") from None


def existing_keys(client: Any, bucket: str, keys: list[str]) -> set[str]:
    """Which of `keys` exist in `bucket`, from one listing of their common prefix (pages of 1000)."""
    found: set[str] = set()
    with _faults(f"listing bucket {bucket!r}"):
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=os.path.commonprefix(keys))
        for page in pages:
            found.update(item["Key"] for item in page.get("Contents", []))
    return found & set(keys)


def read_object(client: Any, bucket: str, key: str) -> bytes | None:
    """The object's content, or None when the bucket holds no such key."""
    if not existing_keys(client, bucket, [key]):
        return None
    with _faults(f"reading {bucket}/{key}"):
        return client.get_object(Bucket=bucket, Key=key)["Body"].read()


def delete_object(client: Any, bucket: str, key: str) -> None:
    with _faults(f"deleting {bucket}/{key}"):
        client.delete_object(Bucket=bucket, Key=key)
