"""S3 adapter (MinIO, SeaweedFS or AWS): the one place a boto3 client is built."""

from __future__ import annotations

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
