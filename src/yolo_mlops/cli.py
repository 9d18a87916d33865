"""`yolo-mlops`: the single entry point. Heavy libraries are imported only after the environment is set."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from yolo_mlops.core.errors import UserError

DEFAULT_DATA = Path("data")
DEFAULT_DVC_FILE = Path("data.dvc")


def _settings_and_env():
    from yolo_mlops.adapters.process_env import configure_process_env
    from yolo_mlops.runtime import current_settings

    settings = current_settings()
    configure_process_env(settings.state_dir)
    return settings


# ---- data -------------------------------------------------------------------------------------------


def cmd_data_synth(args: argparse.Namespace) -> int:
    from yolo_mlops.data.synth import synthesize
    from yolo_mlops.data.validate import dataset_md5

    synthesize(args.out, train=args.train, val=args.val, size=args.size, seed=args.seed)
    print(f"wrote {args.out} (md5 {dataset_md5(args.out)})")
    return 0


def cmd_data_from_coco128(args: argparse.Namespace) -> int:
    from yolo_mlops.data.coco import import_person_subset
    from yolo_mlops.data.validate import dataset_md5

    try:
        import_person_subset(args.src, args.out, val_fraction=args.val_fraction, seed=args.seed)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    print(f"wrote {args.out} (md5 {dataset_md5(args.out)})")
    return 0


def cmd_data_validate(args: argparse.Namespace) -> int:
    from yolo_mlops.datasets import require_valid_dataset

    md5 = require_valid_dataset(args.path)
    print(f"{args.path}: valid (md5 {md5})")
    if args.dotenv:
        args.dotenv.write_text(f"DATA_MD5={md5}\n")
    return 0


# ---- training ---------------------------------------------------------------------------------------


def _check_dataset(dataset: Path, dvc_file: Path) -> str:
    """Validate before any training; warn when the data differs from what data.dvc records."""
    from yolo_mlops.adapters.dvc import read_dvc_file
    from yolo_mlops.datasets import require_valid_dataset

    md5 = require_valid_dataset(dataset)
    if dvc_file.is_file():
        tracked = read_dvc_file(dvc_file)
        if tracked.path == dataset.resolve() and tracked.md5 != md5:
            print(
                f"warning: {dataset} (md5 {md5}) differs from {dvc_file} ({tracked.md5}); "
                "`dvc add` it to version this data.",
                file=sys.stderr,
            )
    return md5


def _run_campaign(
    planned: list, dataset: Path, dvc_file: Path, title: str, registry_config: Path, out: Path | None = None
) -> int:
    from yolo_mlops.config import load_registry

    model_name = load_registry(registry_config).model_name
    settings = _settings_and_env()
    md5 = _check_dataset(dataset, dvc_file)
    if not planned:
        print("no grid cell falls on this shard; nothing to train")
        return 0
    # Only now the heavy imports: they read the environment set above, and bad input fails fast without them.
    from yolo_mlops.campaign import execute, prepare_tracking
    from yolo_mlops.reports import write_leaderboard

    print(f"campaign {settings.campaign}: {len(planned)} run(s) on {dataset} (md5 {md5})", flush=True)
    prepare_tracking(settings)
    rows = [execute(p, dataset, settings, Path.cwd(), model_name) for p in planned]
    out_dir = out or settings.state_dir / "campaigns" / settings.campaign
    print(write_leaderboard(rows, f"{title} — campaign {settings.campaign}", out_dir))
    print(f"leaderboard and plot: {out_dir}/leaderboard.{{txt,json,png}}")
    return 0


def cmd_train_baseline(args: argparse.Namespace) -> int:
    from yolo_mlops.planning import plan_baseline

    return _run_campaign(plan_baseline(args.config), args.data, args.dvc_file, "baseline", args.registry, args.out)


def cmd_train_grid(args: argparse.Namespace) -> int:
    from yolo_mlops.planning import plan_grid

    title = "grid" if args.cell is None else f"grid shard {args.cell}"
    return _run_campaign(plan_grid(args.config, args.cell), args.data, args.dvc_file, title, args.registry, args.out)


def cmd_demo(args: argparse.Namespace) -> int:
    from yolo_mlops.planning import plan_baseline, plan_grid

    planned = plan_baseline(args.configs / "baseline.yaml") + plan_grid(args.configs / "grid.yaml", None)
    if not (args.data / "data.yaml").exists():
        from yolo_mlops.data.synth import synthesize

        print(f"no dataset at {args.data}: generating the embedded synthetic one", flush=True)
        synthesize(args.data)
    code = _run_campaign(planned, args.data, args.dvc_file, "demo leaderboard", args.registry)
    if code:
        return code
    args.baseline, args.grid, args.campaign, args.dry_run = (
        args.configs / "baseline.yaml",
        args.configs / "grid.yaml",
        None,
        False,
    )
    gate_code = cmd_gate(args)
    # In the demo a rejection by policy is an answer, not a failure; "could not decide" still fails it.
    return 0 if gate_code in (0, 3) else gate_code


# ---- gate and alias moves ---------------------------------------------------------------------------


def _gate(args: argparse.Namespace):
    """Settings, policy and a ready Gate (configs read before anything touches a service)."""
    from yolo_mlops.config import load_gate_policy, load_registry

    policy = load_gate_policy(args.policy)
    registry_config = load_registry(args.registry)
    if getattr(args, "stage_transition", False):
        from dataclasses import replace

        registry_config = replace(registry_config, mlflow_stage_transition=True)
    settings = _settings_and_env()
    from yolo_mlops.campaign import prepare_tracking
    from yolo_mlops.gate import Gate

    return settings, Gate(settings, prepare_tracking(settings), policy, registry_config)


def cmd_gate(args: argparse.Namespace) -> int:
    from yolo_mlops.config import expected_configs

    expected = expected_configs(args.baseline, args.grid)
    settings, gate = _gate(args)
    from yolo_mlops.gate import GateRequest

    campaign = args.campaign or settings.campaign
    out_dir = args.out or settings.state_dir / "campaigns" / campaign / "gate"
    report = gate.run(GateRequest(campaign, expected, args.data, promote=not args.dry_run, out_dir=out_dir))
    print(f"gate: {report['outcome']} — {report['reason']}")
    for verdict in report["verdicts"]:
        print(f"  [{'pass' if verdict['passed'] else 'FAIL'}] {verdict['rule']}: {verdict['detail']}")
    if report["alias_moved"]:
        print(f"  {report['model']}@{report['alias']} -> version {report['model_version']}")
    print(f"reports: {out_dir}/{{gate_report.json,gate_report.md,gate_junit.xml,gate.env,ledger.json}}")
    return int(report["exit_code"])


def cmd_promote(args: argparse.Namespace) -> int:
    _, gate = _gate(args)
    result = gate.promote(args.source, args.target)
    if result["moved"]:
        print(
            f"{gate.config.model_name}@{args.target} -> version {result['version']} (ledger #{result['entry']['seq']})"
        )
    else:
        print(f"nothing to do: {result['reason']}")
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    _, gate = _gate(args)
    result = gate.rollback(args.alias)
    target = f"version {result['to']}" if result["to"] else "no version (alias removed)"
    seq = result["entry"]["seq"]
    print(f"{gate.config.model_name}@{args.alias}: version {result['from']} -> {target} (ledger #{seq})")
    return 0


# ---- service stack ----------------------------------------------------------------------------------


def cmd_stack_up(args: argparse.Namespace) -> int:
    from yolo_mlops import stack

    settings = _settings_and_env()
    config, source = stack.load_stack_config(args.env_file)
    if source.endswith(".env.example"):
        print("using the local-only defaults of .env.example (copy it to .env to change them)")
    if not args.native and stack.docker_engine_answers():
        subprocess.run([*stack.compose_command(source), "up", "-d", "--wait"], check=True)  # noqa: S603
        print("stack up with docker compose")
    else:
        from yolo_mlops.adapters.native_stack import NativeStack, StackError

        try:
            timings = NativeStack(config, stack.stack_dir(settings.state_dir)).up()
        except StackError as exc:
            raise UserError(str(exc)) from None
        print("stack up as native processes: " + ", ".join(f"{k} ready at {v} s" for k, v in timings.items()))
    client = {**config.client_env(), "ZENML_STORE_API_KEY": _local_api_key(settings.state_dir, config)}
    path = stack.write_client_env(settings.state_dir, client)
    print(f"client variables (with secrets, mode 0600): {path}\n  use them with: set -a; . {path}; set +a")
    return 0


def _local_api_key(state_dir: Path, config) -> str:  # noqa: ANN001 (StackConfig, imported lazily)
    """The local stack's CI service-account key: the one kept from an earlier `up` while the server
    accepts it, else a new one from `zenml bootstrap` run as the local admin in a child process."""
    import os
    import tempfile

    from yolo_mlops import stack

    kept = stack.load_client_env(state_dir).get("ZENML_STORE_API_KEY")
    if kept and stack.zenml_api_key_status(config.zenml_url, kept) == 200:
        return kept
    with tempfile.TemporaryDirectory() as tmp:
        key_file = Path(tmp) / "key"
        env = {
            **os.environ,
            "ZENML_STORE_URL": config.zenml_url,
            "ZENML_STORE_USERNAME": config["ZENML_ADMIN_USERNAME"],
            "ZENML_STORE_PASSWORD": config["ZENML_ADMIN_PASSWORD"],
            "ZENML_CONFIG_PATH": str(Path(tmp) / "zenml-admin"),  # the admin's login stays out of the state dir
        }
        env.pop("ZENML_STORE_API_KEY", None)
        command = [
            sys.executable,
            "-m",
            "yolo_mlops.cli",
            "zenml",
            "bootstrap",
            "--rotate",
            "--output-file",
            str(key_file),
        ]
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)  # noqa: S603
        return key_file.read_text().strip()


def cmd_stack_down(args: argparse.Namespace) -> int:
    from yolo_mlops import stack
    from yolo_mlops.adapters.native_stack import NativeStack

    settings = _settings_and_env()
    config, source = stack.load_stack_config(args.env_file)
    stopped = NativeStack(config, stack.stack_dir(settings.state_dir)).down()
    if stopped:
        print("stopped native services: " + ", ".join(stopped))
    elif not args.native and stack.docker_engine_answers():
        subprocess.run([*stack.compose_command(source), "down"], check=True)  # noqa: S603
        print("stack down with docker compose")
    else:
        print("nothing to stop: no native service of this state dir runs")
    return 0


def cmd_stack_status(args: argparse.Namespace) -> int:
    import os

    from yolo_mlops import stack

    settings = _settings_and_env()
    # Shared servers: the job's own variables only. A local stack: those `stack up` wrote, unless overridden.
    local = stack.client_env_file(settings.state_dir).is_file() and not args.shared
    env = {**os.environ, **stack.load_client_env(settings.state_dir)} if local else dict(os.environ)
    checks = stack.preflight(env, local_stack=local)
    for check in checks:
        print(check)
    return 0 if all(c.ok for c in checks) else 1


def cmd_zenml_bootstrap(args: argparse.Namespace) -> int:
    import os

    missing = [k for k in ("ZENML_STORE_URL", "ZENML_STORE_USERNAME", "ZENML_STORE_PASSWORD") if not os.environ.get(k)]
    if missing:
        raise UserError(f"{missing[0]} is not set: bootstrap runs as a ZenML admin (URL, username, password).")
    _settings_and_env()
    from yolo_mlops.adapters import zenml_server

    key = zenml_server.bootstrap(rotate=args.rotate)
    if key is None:
        print(f"service account {zenml_server.SERVICE_ACCOUNT} exists; its key stays valid (--rotate issues a new one)")
        return 0
    if args.output_file:
        args.output_file.touch(mode=0o600)
        args.output_file.write_text(key + "\n")
        print(f"API key of service account {zenml_server.SERVICE_ACCOUNT} written to {args.output_file} (mode 0600)")
    else:
        print(
            f"API key of service account {zenml_server.SERVICE_ACCOUNT} (shown once; store it as the masked "
            f"CI/CD variable ZENML_STORE_API_KEY):\n{key}"
        )
    return 0


def cmd_zenml_register_stack(args: argparse.Namespace) -> int:
    import os

    from yolo_mlops.stack import CLIENT_VARIABLES as needed

    missing = [k for k in needed if not os.environ.get(k)]
    if missing:
        raise UserError(f"{missing[0]} is not set: register-stack needs {', '.join(needed)}.")
    _settings_and_env()
    from yolo_mlops.adapters import zenml_server

    changes = zenml_server.register_stack(
        zenml_server.StackTarget(
            s3_endpoint=os.environ["MLFLOW_S3_ENDPOINT_URL"],
            artifact_bucket=os.environ.get("S3_BUCKET_ZENML", "zenml"),
            aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
            mlflow_uri=os.environ["MLFLOW_TRACKING_URI"],
            mlflow_username=os.environ["MLFLOW_TRACKING_USERNAME"],
            mlflow_password=os.environ["MLFLOW_TRACKING_PASSWORD"],
        )
    )
    print("; ".join(changes) if changes else "nothing changed")
    print(f"active stack: {zenml_server.STACK}")
    return 0


# ---- parser -----------------------------------------------------------------------------------------


def _add_data_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="dataset directory (default: data)")
    parser.add_argument("--dvc-file", type=Path, default=DEFAULT_DVC_FILE, help="DVC file tracking it")
    _add_registry_arg(parser)


def _add_registry_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--registry", type=Path, default=Path("configs/registry.yaml"), help="registry config")


def _add_gate_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policy", type=Path, default=Path("configs/gate.yaml"), help="gate policy")
    parser.add_argument(
        "--stage-transition", action="store_true", help="also perform MLflow's deprecated stage transition"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="yolo-mlops", description=__doc__)
    groups = parser.add_subparsers(dest="group", required=True)

    data = groups.add_parser("data", help="create, import and validate datasets").add_subparsers(
        dest="command", required=True
    )
    synth = data.add_parser("synth", help="write the deterministic synthetic one-class 'person' dataset")
    synth.add_argument("--out", type=Path, default=DEFAULT_DATA)
    synth.add_argument("--train", type=int, default=480)
    synth.add_argument("--val", type=int, default=120)
    synth.add_argument("--size", type=int, default=256, help="image side in pixels")
    synth.add_argument("--seed", type=int, default=0)
    synth.set_defaults(func=cmd_data_synth)
    coco = data.add_parser("from-coco128", help="tiny person dataset from a coco128-layout folder")
    coco.add_argument("src", type=Path)
    coco.add_argument("--out", type=Path, default=Path("data_coco_person"))
    coco.add_argument("--val-fraction", type=float, default=0.2)
    coco.add_argument("--seed", type=int, default=0)
    coco.set_defaults(func=cmd_data_from_coco128)
    validate = data.add_parser("validate", help="check a YOLO dataset; every problem as file:line: what")
    validate.add_argument("path", type=Path)
    validate.add_argument("--dotenv", type=Path, help="also write DATA_MD5=<md5> here (for later CI jobs)")
    validate.set_defaults(func=cmd_data_validate)

    train = groups.add_parser("train", help="run training pipelines").add_subparsers(dest="command", required=True)
    baseline = train.add_parser("baseline", help="the baseline pipeline run")
    baseline.add_argument("--config", type=Path, default=Path("configs/baseline.yaml"))
    _add_data_args(baseline)
    baseline.add_argument("--out", type=Path, help="leaderboard folder (default: <state>/campaigns/<campaign>)")
    baseline.set_defaults(func=cmd_train_baseline)
    grid = train.add_parser("grid", help="one pipeline run per grid cell")
    grid.add_argument("--config", type=Path, default=Path("configs/grid.yaml"))
    grid.add_argument("--cell", help="I/N: run only shard I of N (CI_NODE_INDEX/CI_NODE_TOTAL)")
    _add_data_args(grid)
    grid.add_argument("--out", type=Path, help="leaderboard folder (default: <state>/campaigns/<campaign>)")
    grid.set_defaults(func=cmd_train_grid)

    demo = groups.add_parser("demo", help="embedded end-to-end run: data, baseline, grid, leaderboard")
    demo.add_argument("--configs", type=Path, default=Path("configs/cpu"), help="folder with baseline/grid.yaml")
    _add_data_args(demo)
    demo.add_argument("--out", type=Path, default=None, help=argparse.SUPPRESS)
    _add_gate_args(demo)
    demo.set_defaults(func=cmd_demo)

    gate = groups.add_parser("gate", help="decide on a campaign's runs; promote the best to staging if it earns it")
    gate.add_argument("--campaign", help="campaign id (default: YOLO_MLOPS_CAMPAIGN, CI_PIPELINE_ID)")
    gate.add_argument("--baseline", type=Path, default=Path("configs/baseline.yaml"), help="for the expected runs")
    gate.add_argument("--grid", type=Path, default=Path("configs/grid.yaml"), help="for the expected runs")
    gate.add_argument("--data", type=Path, default=DEFAULT_DATA, help="current data, to re-score the champion")
    gate.add_argument("--dry-run", action="store_true", help="decide and report; change nothing")
    gate.add_argument("--out", type=Path, help="report folder (default: <state>/campaigns/<campaign>/gate)")
    _add_gate_args(gate)
    _add_registry_arg(gate)
    gate.set_defaults(func=cmd_gate)

    promote = groups.add_parser("promote", help="point one alias at the version behind another")
    promote.add_argument("--from", dest="source", default="staging")
    promote.add_argument("--to", dest="target", default="production")
    _add_gate_args(promote)
    _add_registry_arg(promote)
    promote.set_defaults(func=cmd_promote)

    rollback = groups.add_parser("rollback", help="move an alias back to its previous version (from the ledger)")
    rollback.add_argument("--alias", required=True, help="the alias to move back, e.g. staging or production")
    _add_gate_args(rollback)
    _add_registry_arg(rollback)
    rollback.set_defaults(func=cmd_rollback)

    stack_group = groups.add_parser("stack", help="the service stack: MLflow, ZenML, S3, MySQL").add_subparsers(
        dest="command", required=True
    )
    for name, func, text in (
        ("up", cmd_stack_up, "start the services (docker compose if a Docker engine answers, else native)"),
        ("down", cmd_stack_down, "stop exactly what `up` started"),
        ("status", cmd_stack_status, "preflight: each service reachable, credentials and API key accepted"),
    ):
        command = stack_group.add_parser(name, help=text)
        command.add_argument("--env-file", type=Path, help="stack settings (default: .env, else .env.example)")
        command.add_argument("--native", action="store_true", help="processes even where Docker answers")
        command.add_argument("--shared", action="store_true", help="servers shared by URL, not a local stack")
        command.set_defaults(func=func)

    zenml_group = groups.add_parser("zenml", help="ZenML server: service account, stack").add_subparsers(
        dest="command", required=True
    )
    bootstrap = zenml_group.add_parser("bootstrap", help="as an admin: create the CI service account, show its key")
    bootstrap.add_argument("--rotate", action="store_true", help="issue a new key if the account exists")
    bootstrap.add_argument("--output-file", type=Path, help="write the key here (mode 0600) instead of printing it")
    bootstrap.set_defaults(func=cmd_zenml_bootstrap)
    register = zenml_group.add_parser("register-stack", help="with the API key: secrets, S3 store, MLflow tracker")
    register.set_defaults(func=cmd_zenml_register_stack)

    from yolo_mlops.cli_gitlab import add_gitlab_commands

    add_gitlab_commands(groups)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command: Callable[[argparse.Namespace], int] = args.func
    try:
        return command(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
