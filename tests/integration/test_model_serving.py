"""The model each training run logs, as its consumers use it: an MLflow pyfunc loaded in a fresh process without
this package, its ONNX twin, `mlflow models serve`, and `yolo-mlops predict` on the version behind `staging`.

The models are the session's tiny campaign's (2 epochs at 64 px): barely trained, so the checks that need boxes
lower the confidence threshold through the model config a consumer can set too."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import CAMPAIGN, SESSION_STATE, cli_env, run_cli
from yolo_mlops.adapters.mlflow_registry import Registry
from yolo_mlops.adapters.mlflow_tracking import embedded_tracking_uri, file_sha256
from yolo_mlops.core.policy import ServablePolicy
from yolo_mlops.core.servable_rules import servable_verdicts
from yolo_mlops.promotion.servable_probe import probe

pytestmark = pytest.mark.integration

TRACKING = embedded_tracking_uri(SESSION_STATE)
LOW_CONF = 0.01
BOX_KEYS = {"image", "class", "confidence", "x1", "y1", "x2", "y2"}

# Loads the model with this package made unimportable: what a consumer with only the model's requirements has.
FRESH_CONSUMER = """
import json, sys
class NoProject:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "yolo_mlops":
            raise ImportError("yolo_mlops is not installed here")
sys.meta_path.insert(0, NoProject())
import mlflow.pyfunc, pandas as pd
model = mlflow.pyfunc.load_model(sys.argv[1], model_config={"conf": float(sys.argv[2])})
boxes = model.predict(pd.DataFrame({"image": [open(p, "rb").read() for p in sys.argv[3:]]}))
print(json.dumps({"columns": list(boxes.columns), "per_image": boxes["image"].value_counts().to_dict()}))
"""


@pytest.fixture(scope="module")
def logged(tiny_campaign, tmp_path_factory) -> dict:
    client = MlflowClient(tracking_uri=TRACKING)
    experiment = client.get_experiment_by_name("cv_yolo_tiny")
    runs = client.search_runs(
        [experiment.experiment_id], f"tags.campaign = '{CAMPAIGN}' and tags.pipeline = 'baseline'"
    )
    run = runs[0]
    model_dir = Path(client.download_artifacts(run.info.run_id, "model", str(tmp_path_factory.mktemp("model"))))
    images = sorted((tiny_campaign["project"] / "data" / "images" / "val").iterdir())[:4]
    return {"run": run, "model_dir": model_dir, "images": images, "campaign": tiny_campaign}


def test_the_run_logs_an_mlflow_model_with_its_onnx_twin_and_pinned_requirements(logged):
    model_dir, run = logged["model_dir"], logged["run"]
    assert (model_dir / "MLmodel").is_file() and "python_function" in (model_dir / "MLmodel").read_text()
    assert file_sha256(model_dir / "artifacts" / "best.pt") == run.data.tags["weights_sha256"]
    assert (model_dir / "artifacts" / "best.onnx").stat().st_size > 1_000_000
    requirements = (model_dir / "requirements.txt").read_text()
    for pinned in ("ultralytics==8.4.190", "torch==2.14.1", "onnxruntime==1.32.0"):
        assert pinned in requirements
    assert "yolo" + "-mlops" not in requirements and "zenml" not in requirements
    assert run.data.metrics["model_export_seconds"] > 0


def test_pyfunc_round_trip_in_a_fresh_process_without_this_package(logged, tmp_path):
    from ultralytics import YOLO

    env = cli_env(SESSION_STATE, tmp_path, tmp_path / "network.log")
    command = [sys.executable, "-c", FRESH_CONSUMER, str(logged["model_dir"]), str(LOW_CONF)]
    done = subprocess.run([*command, *map(str, logged["images"])], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(answer["columns"]) == BOX_KEYS
    # The same weights through Ultralytics directly: the pyfunc must not lose or invent boxes.
    direct = YOLO(str(logged["model_dir"] / "artifacts" / "best.pt"), task="detect").predict(
        [str(p) for p in logged["images"]], imgsz=64, conf=LOW_CONF, device="cpu", verbose=False
    )
    expected = {str(i): len(r.boxes) for i, r in enumerate(direct) if len(r.boxes)}
    assert expected, "the tiny model found nothing even at a low threshold: the comparison would be empty"
    assert answer["per_image"] == expected
    assert not (tmp_path / "network.log").exists()


def test_onnx_twin_agrees_with_pytorch(logged):
    policy = ServablePolicy(conf=LOW_CONF)
    seen = probe(logged["model_dir"], policy.conf, logged["images"])
    assert seen["loaded"] and "onnx_error" not in seen, seen
    assert len(seen["pytorch"]) > 0 and len(seen["onnx"]) > 0
    verdicts = {v.rule: v for v in servable_verdicts(policy, seen)}
    assert verdicts["servable:onnx_agrees"].passed, verdicts["servable:onnx_agrees"].detail


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def staged(logged) -> str:
    """A registered model whose `staging` alias points at the logged model (as the gate leaves it)."""
    name = f"served_{uuid.uuid4().hex[:8]}"
    registry = Registry(TRACKING, "cv_yolo_tiny", name)
    registry.ensure_model()
    version = registry.register(
        logged["run"].info.run_id, {"weights_sha256": logged["run"].data.tags["weights_sha256"]}
    )
    registry.set_alias("staging", version.version)
    return name


def test_mlflow_models_serve_answers_invocations_with_boxes(staged, logged, tmp_path):
    port = _free_port()
    env = cli_env(
        SESSION_STATE,
        tmp_path,
        tmp_path / "network.log",
        MLFLOW_TRACKING_URI=TRACKING,
        MLFLOW_PYFUNC_INFERENCE_CONFIG=json.dumps({"conf": LOW_CONF}),
    )
    venv_bin = Path(sys.executable).parent
    env["PATH"] = f"{venv_bin}:{env['PATH']}"  # the server starts `uvicorn` from PATH, as in an activated venv
    command = [str(venv_bin / "mlflow"), "models", "serve", "-m", f"models:/{staged}@staging", "--env-manager", "local"]
    server = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "serve.log", "w"),  # noqa: SIM115 - lives as long as the server
    )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2):
                    break
            except OSError:
                time.sleep(1)
        payload = {
            "dataframe_split": {
                "columns": ["image"],
                "data": [[base64.b64encode(p.read_bytes()).decode()] for p in logged["images"]],
            }
        }
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations",
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            predictions = json.loads(response.read())["predictions"]
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert predictions and all(set(row) == BOX_KEYS for row in predictions)
    assert {row["image"] for row in predictions} <= set(range(len(logged["images"])))


def test_predict_command_prints_boxes_and_writes_annotated_images(staged, logged, tmp_path):
    env = cli_env(SESSION_STATE, tmp_path, tmp_path / "network.log", MLFLOW_TRACKING_URI=TRACKING)
    images = [str(p) for p in logged["images"]]
    out = tmp_path / "predictions"
    result = run_cli(
        ["predict", "--model", f"models:/{staged}@staging", *images, "--out", str(out)],
        logged["campaign"]["project"],
        env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"on {len(images)} image(s) from models:/{staged}@staging" in result.stdout
    assert sorted(p.name for p in out.glob("*.png")) == sorted(Path(p).name for p in images)
    assert (out / "boxes.csv").read_text().startswith("file,image,class,confidence,x1,y1,x2,y2")


def test_predict_names_a_missing_model_in_one_line(logged, tmp_path):
    env = cli_env(SESSION_STATE, tmp_path, tmp_path / "network.log", MLFLOW_TRACKING_URI=TRACKING)
    image = str(logged["images"][0])
    result = run_cli(["predict", "--model", "models:/no_such_model@staging", image], logged["campaign"]["project"], env)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
