"""MLflow adapter for the gate, and the only code that talks to MLflow's registry and reads runs for it:
campaign runs as candidates, registered model versions, aliases, the ledger, the decision run.

Every MLflow or connection failure leaves as one RegistryError naming the server and the operation.

Over 300 lines on purpose: it is the gate's single door to MLflow (runs, versions, aliases, tags, ledger,
artifacts); split, the error translation and the filter escaping would live in two places."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from yolo_mlops.adapters.mlflow_tracking import MODEL_ARTIFACT_DIR
from yolo_mlops.core.errors import ServiceUnavailable
from yolo_mlops.core.policy import Candidate

LEDGER_TAG_PREFIX = "ledger."
# Version tags of a rejected (rolled back) version: the gate never promotes these weights again.
REJECTED_TAG = "rejected"
REJECTED_REASON_TAG = "rejected_reason"
WEIGHTS_FILE = "best.pt"
# Inside the MLflow model folder: pyfunc's save_model copies each artifact to artifacts/<file name>.
MODEL_WEIGHTS = f"artifacts/{WEIGHTS_FILE}"


class RegistryError(ServiceUnavailable):
    """The tracking server or registry could not be read or written."""


@dataclass(frozen=True)
class VersionInfo:
    version: str
    run_id: str
    tags: dict[str, str]
    source: str

    @property
    def rejected(self) -> bool:
        return self.tags.get(REJECTED_TAG) == "true"

    @property
    def rejected_reason(self) -> str:
        return self.tags.get(REJECTED_REASON_TAG, "no reason given")


@dataclass(frozen=True)
class RunRecord:
    """What the gate reads of one MLflow run."""

    run_id: str
    tags: dict[str, str]
    params: dict[str, str]
    metrics: dict[str, float]


# Characters a value in an MLflow filter string cannot hold safely: MLflow strips the outer quotes of a
# literal but has no escape for inner ones, so a quote would end the literal and start new filter syntax.
_FILTER_UNSAFE = frozenset("'\"\\\n\r")


def filter_literal(value: str, what: str) -> str:
    """`value` as a quoted literal for an MLflow filter string; RegistryError (nothing is searched) when it
    holds a quote, backslash or line break, which could change the filter's meaning."""
    unsafe = sorted(set(value) & _FILTER_UNSAFE)
    if unsafe:
        raise RegistryError(f"refusing to search MLflow for {what} {value!r}: it holds {''.join(unsafe)!r}")
    return f"'{value}'"


def _number(value: Any) -> float:
    return float(value) if value is not None else math.nan


class Registry:
    """One tracking URI, one experiment, one registered model."""

    def __init__(self, tracking_uri: str, experiment_name: str, model_name: str) -> None:
        self.tracking_uri = tracking_uri
        self.experiment_name = experiment_name
        self.model_name = model_name
        self.client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)

    def _call(self, what: str, fn: Any, *args: Any, absent: tuple[str, ...] = (), **kwargs: Any) -> Any:
        """`fn(*args, **kwargs)`, with every failure translated once, here; None when MLflow answers with one of
        the `absent` error codes (a thing that does not exist is an answer, not a fault)."""
        try:
            return fn(*args, **kwargs)
        except MlflowException as exc:
            if exc.error_code in absent:
                return None
            raise RegistryError(f"MLflow at {self.tracking_uri}: {what} failed: {exc.message}") from None
        except OSError as exc:  # connection refused, DNS, disk
            raise RegistryError(f"MLflow at {self.tracking_uri}: {what} failed: {exc}") from None

    # ---- runs ---------------------------------------------------------------------------------------

    def experiment_id(self) -> str | None:
        experiment = self._call("reading the experiment", self.client.get_experiment_by_name, self.experiment_name)
        return experiment.experiment_id if experiment else None

    def campaign_candidates(self, campaign: str) -> list[Candidate]:
        """The campaign's training runs, found with a server-side tag filter (never a whole-experiment listing)."""
        experiment_id = self.experiment_id()
        if experiment_id is None:
            return []
        runs = self._call(
            "searching the campaign's runs",
            self.client.search_runs,
            [experiment_id],
            filter_string=f"tags.campaign = {filter_literal(campaign, 'campaign')}",
            max_results=1000,
        )
        return [self._candidate(run) for run in runs if run.data.tags.get("pipeline") in ("baseline", "grid")]

    @staticmethod
    def _candidate(run: Any) -> Candidate:
        tags, params = run.data.tags, run.data.params
        config = "baseline" if tags.get("pipeline") == "baseline" else f"grid {tags.get('grid_cell', '?')}"
        return Candidate(
            run_id=run.info.run_id,
            config=config,
            status=run.info.status,
            metrics={k: _number(v) for k, v in run.data.metrics.items()},
            imgsz=int(params.get("imgsz", 0) or 0),
            start_time=int(run.info.start_time or 0),
            data_md5=tags.get("data_md5", ""),
            weights_sha256=tags.get("weights_sha256", ""),
            source_run_id=tags.get("source_run_id", run.info.run_id),
        )

    def run(self, run_id: str) -> RunRecord:
        run = self._call(f"reading run {run_id}", self.client.get_run, run_id)
        return RunRecord(run.info.run_id, dict(run.data.tags), dict(run.data.params), dict(run.data.metrics))

    def start_decision_run(self, campaign: str, tags: dict[str, str]) -> str:
        """The gate's own MLflow run: its id is the decision id; reports and the ledger land there."""
        experiment_id = self.experiment_id()
        if experiment_id is None:
            raise RegistryError(f"experiment {self.experiment_name!r} does not exist at {self.tracking_uri}")
        run = self._call(
            "creating the decision run",
            self.client.create_run,
            experiment_id,
            run_name=f"gate-{campaign}",
            tags={"pipeline": "gate", "gated_campaign": campaign, **tags},
        )
        return run.info.run_id

    def finish_decision_run(self, run_id: str, files: list[Path], status: str = "FINISHED") -> None:
        for path in files:
            self._call("logging a report", self.client.log_artifact, run_id, str(path), "gate")
        self._call("closing the decision run", self.client.set_terminated, run_id, status)

    # ---- registry -----------------------------------------------------------------------------------

    def ensure_model(self) -> None:
        missing = "RESOURCE_DOES_NOT_EXIST"
        if self._call("reading the registry", self.client.get_registered_model, self.model_name, absent=(missing,)):
            return
        self._call("creating the registered model", self.client.create_registered_model, self.model_name)

    def _model_filter(self) -> str:
        return f"name = {filter_literal(self.model_name, 'model')}"

    @staticmethod
    def _info(version: Any) -> VersionInfo:
        return VersionInfo(str(version.version), version.run_id or "", dict(version.tags or {}), version.source or "")

    def alias_version(self, alias: str) -> VersionInfo | None:
        found = self._call(
            f"reading alias {alias!r}",
            self.client.get_model_version_by_alias,
            self.model_name,
            alias,
            absent=("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"),
        )
        return self._info(found) if found else None

    def get_version(self, version: str) -> VersionInfo:
        return self._info(
            self._call(f"reading version {version}", self.client.get_model_version, self.model_name, version)
        )

    def version_or_none(self, version: str) -> VersionInfo | None:
        found = self._call(
            f"reading version {version}",
            self.client.get_model_version,
            self.model_name,
            version,
            absent=("RESOURCE_DOES_NOT_EXIST",),
        )
        return self._info(found) if found else None

    def versions(self) -> list[VersionInfo]:
        """Every version of the registered model, oldest first."""
        found = self._call("listing model versions", self.client.search_model_versions, self._model_filter())
        return sorted((self._info(v) for v in found), key=lambda v: int(v.version))

    def version_stage(self, version: str) -> str:
        """MLflow's deprecated stage of a version ("None", "Staging", …)."""
        found = self._call(f"reading version {version}", self.client.get_model_version, self.model_name, version)
        return str(found.current_stage)

    def version_with_weights(self, weights_sha256: str) -> VersionInfo | None:
        """An existing version holding these weights: re-gating must not register them twice."""
        found = self._call(
            "searching model versions",
            self.client.search_model_versions,
            f"{self._model_filter()} and tags.weights_sha256 = {filter_literal(weights_sha256, 'weights')}",
        )
        return self._info(min(found, key=lambda v: int(v.version))) if found else None

    def rejected_weights(self) -> dict[str, str]:
        """weights_sha256 -> "vN (reason)" for every version tagged rejected."""
        found = self._call(
            "searching rejected versions",
            self.client.search_model_versions,
            f"{self._model_filter()} and tags.{REJECTED_TAG} = 'true'",
        )
        return {
            v.tags["weights_sha256"]: f"v{v.version} ({v.rejected_reason})"
            for v in map(self._info, found)
            if v.tags.get("weights_sha256")
        }

    def set_rejected(self, version: str, reason: str | None) -> None:
        """Tag `version` rejected with `reason`, or lift that (reason None)."""
        what = f"{'tagging' if reason else 'untagging'} version {version}"
        if reason is None:
            for key in (REJECTED_TAG, REJECTED_REASON_TAG):
                self._call(what, self.client.delete_model_version_tag, self.model_name, version, key)
            return
        for key, value in ((REJECTED_TAG, "true"), (REJECTED_REASON_TAG, reason)):
            self._call(what, self.client.set_model_version_tag, self.model_name, version, key, value)

    def register(self, source_run_id: str, tags: dict[str, str]) -> VersionInfo:
        run = self._call("reading the winning run", self.client.get_run, source_run_id)
        version = self._call(
            "registering the model version",
            self.client.create_model_version,
            self.model_name,
            source=f"{run.info.artifact_uri}/{MODEL_ARTIFACT_DIR}",
            run_id=source_run_id,
            tags=tags,
        )
        return self._info(version)

    def download_run_model(self, run_id: str, dst: Path) -> Path:
        """The MLflow model folder a training run logged, downloaded into `dst` (before any version exists)."""
        return Path(
            self._call(
                f"downloading the model of run {run_id}",
                mlflow.artifacts.download_artifacts,
                run_id=run_id,
                artifact_path=MODEL_ARTIFACT_DIR,
                dst_path=str(dst),
                tracking_uri=self.tracking_uri,
            )
        )

    def download_weights(self, version: str, dst: Path) -> Path:
        """The weights file of a registered version, downloaded into `dst` (from the version's source, with this
        registry's own tracking URI: a `models:/` URI would resolve through the process-wide one)."""
        return self._download(f"version {version}", self.get_version(version).source, dst)

    def _download(self, what: str, artifact_uri: str, dst: Path) -> Path:
        local = self._call(
            f"downloading {what}",
            mlflow.artifacts.download_artifacts,
            artifact_uri=artifact_uri,
            dst_path=str(dst),
            tracking_uri=self.tracking_uri,
        )
        path = Path(local)
        if not path.is_dir():
            return path
        # Versions registered before models were MLflow models point at a folder holding only best.pt.
        return path / MODEL_WEIGHTS if (path / MODEL_WEIGHTS).is_file() else path / WEIGHTS_FILE

    def download_run_weights(self, run_id: str, dst: Path) -> Path:
        """The weights inside the MLflow model a training run logged (model/artifacts/best.pt): exactly the file a
        version registered from that run serves, downloaded into `dst`."""
        local = self._call(
            f"downloading {MODEL_ARTIFACT_DIR}/{MODEL_WEIGHTS} of run {run_id}",
            mlflow.artifacts.download_artifacts,
            run_id=run_id,
            artifact_path=f"{MODEL_ARTIFACT_DIR}/{MODEL_WEIGHTS}",
            dst_path=str(dst),
            tracking_uri=self.tracking_uri,
        )
        return Path(local)

    def delete_version(self, version: str) -> None:
        self._call(f"deleting version {version}", self.client.delete_model_version, self.model_name, version)

    def set_alias(self, alias: str, version: str | None) -> None:
        if version is None:
            self._call(f"deleting alias {alias!r}", self.client.delete_registered_model_alias, self.model_name, alias)
        else:
            self._call(
                f"moving alias {alias!r}", self.client.set_registered_model_alias, self.model_name, alias, version
            )

    def transition_stage(self, version: str, stage: str) -> None:
        """The deprecated MLflow stage, for users of old UIs (opt-in)."""
        self._call(
            "the stage transition", self.client.transition_model_version_stage, self.model_name, version, stage.title()
        )

    # ---- ledger -------------------------------------------------------------------------------------

    def ledger(self) -> list[dict[str, Any]]:
        """Every alias move, oldest first, from the registered model's tags."""
        model = self._call(
            "reading the ledger", self.client.get_registered_model, self.model_name, absent=("RESOURCE_DOES_NOT_EXIST",)
        )
        if model is None:
            return []
        entries = [json.loads(v) for k, v in (model.tags or {}).items() if k.startswith(LEDGER_TAG_PREFIX)]
        return sorted(entries, key=lambda entry: entry["seq"])

    def append_ledger(self, entry: dict[str, Any]) -> dict[str, Any]:
        seq = max((e["seq"] for e in self.ledger()), default=0) + 1
        entry = {"seq": seq, **entry}
        self._call(
            "writing the ledger",
            self.client.set_registered_model_tag,
            self.model_name,
            f"{LEDGER_TAG_PREFIX}{seq:06d}",
            json.dumps(entry, sort_keys=True, separators=(",", ":")),
        )
        return entry


def load_model(model_uri: str, tracking_uri: str) -> Any:
    """The pyfunc behind an MLflow model URI (`models:/NAME@ALIAS`, `models:/NAME/N`, `runs:/…`, a folder), resolved
    against `tracking_uri`'s registry. Sets the process-wide URIs: only for a process that uses one server."""
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    try:
        return mlflow.pyfunc.load_model(model_uri)
    except MlflowException as exc:
        raise RegistryError(f"MLflow at {tracking_uri}: loading {model_uri} failed: {exc.message}") from None
    except OSError as exc:
        raise RegistryError(f"MLflow at {tracking_uri}: loading {model_uri} failed: {exc}") from None
