"""The environment contract (README, "Environment"), parsed from a mapping (pure)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from yolo_mlops.core.errors import ConfigError

DEFAULT_EXPERIMENT = "cv_yolo_tiny"
DEFAULT_STATE_DIRNAME = ".mlops"
# THE campaign id character set (README, "Environment"): it names MLflow tags, folders and run names, so
# it holds no quote, slash, space or leading dot or dash (so never `..`).
CAMPAIGN_ID_RULE = "1-64 characters: letters, digits, '.', '_', '-', starting with a letter or digit"
_CAMPAIGN_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
ZENML_API_KEY_PREFIX = "ZENKEY_"


@dataclass(frozen=True)
class Settings:
    state_dir: Path
    campaign: str
    experiment_name: str
    mlflow_tracking_uri: str | None
    zenml_store_url: str | None

    @property
    def embedded(self) -> bool:
        """True when no servers are configured: MLflow sqlite + ZenML local store under state_dir."""
        return self.mlflow_tracking_uri is None and self.zenml_store_url is None


def generated_campaign(now: datetime, token: str) -> str:
    return f"local-{now:%Y%m%d-%H%M%S}-{token}"


def check_campaign_id(campaign: str, source: str) -> str:
    """`campaign` if it is a valid campaign id; else ConfigError naming where it came from (`source`)."""
    if not _CAMPAIGN_RE.fullmatch(campaign):
        raise ConfigError(f"{source}={campaign!r} is not a valid campaign id; use {CAMPAIGN_ID_RULE}.")
    return campaign


def resolve_settings(env: Mapping[str, str], project_dir: Path, now: datetime, token: str) -> Settings:
    state = env.get("YOLO_MLOPS_STATE_DIR") or str(project_dir / DEFAULT_STATE_DIRNAME)
    source = "YOLO_MLOPS_CAMPAIGN" if env.get("YOLO_MLOPS_CAMPAIGN") else "CI_PIPELINE_ID"
    campaign = env.get(source) or generated_campaign(now, token)
    return Settings(
        state_dir=Path(state).expanduser().resolve(),
        campaign=check_campaign_id(campaign, source),
        experiment_name=env.get("MLFLOW_EXPERIMENT_NAME") or DEFAULT_EXPERIMENT,
        mlflow_tracking_uri=env.get("MLFLOW_TRACKING_URI") or None,
        zenml_store_url=env.get("ZENML_STORE_URL") or None,
    )


def padded_api_key(key: str) -> str:
    """A ZenML API key with its base64 `=` padding restored.

    GitLab refuses to mask a variable holding `=`, so the key may be stored without its padding; ZenML's
    server base64-decodes the part after `ZENKEY_` strictly and rejects it unpadded.
    """
    prefix = ZENML_API_KEY_PREFIX if key.startswith(ZENML_API_KEY_PREFIX) else ""
    body = key[len(prefix) :].rstrip("=")
    if len(body) % 4 == 1:  # no base64 text has this length: leave it for the server to reject as it is
        return key
    return prefix + body + "=" * (-len(body) % 4)
