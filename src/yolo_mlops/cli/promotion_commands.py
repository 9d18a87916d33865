"""`yolo-mlops gate|promote|rollback`: the gate's decision and the alias moves."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from yolo_mlops.cli.shared import (
    DEFAULT_DATA,
    Subcommands,
    add_gate_args,
    add_registry_arg,
    campaign_dir,
    int_in,
    settings_and_env,
)
from yolo_mlops.core.errors import ServiceUnavailable
from yolo_mlops.core.settings import check_campaign_id

# A server fault on the way to a decision or a move: the gate could not decide (the CLI's error boundary).
SERVICE_FAULT_EXIT = 4

if TYPE_CHECKING:  # the real imports wait until the process environment is set
    from yolo_mlops.configuration.config_files import RegistryConfig
    from yolo_mlops.core.policy import GatePolicy
    from yolo_mlops.core.settings import Settings
    from yolo_mlops.promotion.gate import Gate


@dataclass(frozen=True)
class GateOptions:
    """What `yolo-mlops gate` (and the demo's closing gate) is asked to do."""

    policy: Path
    registry: Path
    stage_transition: bool = False
    baseline: Path | None = None
    grid: Path | None = None
    data: Path = DEFAULT_DATA
    campaign: str | None = None
    dry_run: bool = False
    out: Path | None = None
    allow_first_model: bool = False


def _configs(policy_path: Path, registry_path: Path, stage_transition: bool) -> tuple[GatePolicy, RegistryConfig]:
    """The gate policy and registry config, read before anything touches a service."""
    from yolo_mlops.configuration.config_files import load_gate_policy, load_registry

    policy = load_gate_policy(policy_path)
    registry_config = load_registry(registry_path)
    if stage_transition:
        registry_config = replace(registry_config, mlflow_stage_transition=True)
    return policy, registry_config


def _connect(settings: Settings, policy: GatePolicy, registry_config: RegistryConfig) -> Gate:
    """A ready Gate: ZenML's stack active, MLflow's experiment there (each server fault: ServiceUnavailable)."""
    from yolo_mlops.promotion.gate import Gate
    from yolo_mlops.training.campaign import prepare_tracking

    return Gate(settings, prepare_tracking(settings), policy, registry_config)


def _gate(policy_path: Path, registry_path: Path, stage_transition: bool) -> Gate:
    policy, registry_config = _configs(policy_path, registry_path, stage_transition)
    return _connect(settings_and_env(), policy, registry_config)


def run_gate(options: GateOptions) -> int:
    from yolo_mlops.configuration.config_files import expected_configs
    from yolo_mlops.promotion.gate import GateRequest, unreachable_report

    if options.campaign is not None:
        check_campaign_id(options.campaign, "--campaign")
    expected = expected_configs(options.baseline, options.grid)
    policy, registry_config = _configs(options.policy, options.registry, options.stage_transition)
    settings = settings_and_env()
    campaign = options.campaign or settings.campaign
    out_dir = options.out or campaign_dir(settings.state_dir, campaign) / "gate"
    request = GateRequest(
        campaign,
        expected,
        options.data,
        promote=not options.dry_run,
        out_dir=out_dir,
        allow_first_model=options.allow_first_model,
    )
    try:
        gate = _connect(settings, policy, registry_config)
    except ServiceUnavailable as exc:
        # The servers failed on the way in: the gate could not decide, and its reports say why.
        report = unreachable_report(request, policy, registry_config, exc)
    else:
        report = gate.run(request)
    print(f"gate: {report['outcome']} — {report['reason']}")
    for verdict in report["verdicts"]:
        print(f"  [{'pass' if verdict['passed'] else 'FAIL'}] {verdict['rule']}: {verdict['detail']}")
    if report["alias_moved"]:
        print(f"  {report['model']}@{report['alias']} -> version {report['model_version']}")
    elif report["dry_run"]:
        print("  dry run: the registry was not changed")
    print(f"reports: {out_dir}/{{gate_report.json,gate_report.md,gate_junit.xml,gate.env,ledger.json}}")
    return int(report["exit_code"])


def cmd_gate(args: argparse.Namespace) -> int:
    return run_gate(
        GateOptions(
            policy=args.policy,
            registry=args.registry,
            stage_transition=args.stage_transition,
            baseline=args.baseline,
            grid=args.grid,
            data=args.data,
            campaign=args.campaign,
            dry_run=args.dry_run,
            out=args.out,
            allow_first_model=args.allow_first_model,
        )
    )


def cmd_promote(args: argparse.Namespace) -> int:
    gate = _gate(args.policy, args.registry, args.stage_transition)
    result = gate.moves.promote(args.source, args.target, None if args.version is None else str(args.version))
    if result["moved"]:
        print(
            f"{gate.config.model_name}@{args.target} -> version {result['version']} (ledger #{result['entry']['seq']})"
        )
    else:
        print(f"nothing to do: {result['reason']}")
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    gate = _gate(args.policy, args.registry, args.stage_transition)
    result = gate.rollback(args.alias)
    target = f"version {result['to']}" if result["to"] else "no version (alias removed)"
    seq = result["entry"]["seq"]
    print(f"{gate.config.model_name}@{args.alias}: version {result['from']} -> {target} (ledger #{seq})")
    print(f"version {result['from']} is rejected: no gate promotes its weights again until `unreject`")
    return 0


def cmd_unreject(args: argparse.Namespace) -> int:
    gate = _gate(args.policy, args.registry, args.stage_transition)
    result = gate.moves.unreject(str(args.version))
    if result["changed"]:
        print(f"{gate.config.model_name} v{args.version}: rejection lifted (ledger #{result['entry']['seq']})")
    else:
        print(f"nothing to do: {gate.config.model_name} v{args.version} is not rejected")
    return 0


def add_commands(groups: Subcommands) -> None:
    gate = groups.add_parser("gate", help="decide on a campaign's runs; promote the best to staging if it earns it")
    gate.add_argument("--campaign", help="campaign id (default: YOLO_MLOPS_CAMPAIGN, CI_PIPELINE_ID)")
    gate.add_argument("--baseline", type=Path, default=Path("configs/baseline.yaml"), help="for the expected runs")
    gate.add_argument("--grid", type=Path, default=Path("configs/grid.yaml"), help="for the expected runs")
    gate.add_argument("--data", type=Path, default=DEFAULT_DATA, help="current data, to re-score the champion")
    gate.add_argument("--dry-run", action="store_true", help="decide and report; change nothing")
    gate.add_argument("--out", type=Path, help="report folder (default: <state>/campaigns/<campaign>/gate)")
    gate.add_argument(
        "--allow-first-model",
        action="store_true",
        help="the ledger says the alias was set but it resolves to nothing: promote a first model anyway",
    )
    add_gate_args(gate)
    add_registry_arg(gate)
    gate.set_defaults(func=cmd_gate, service_fault_exit=SERVICE_FAULT_EXIT)

    promote = groups.add_parser("promote", help="point one alias at the version behind another")
    promote.add_argument("--from", dest="source", default="staging")
    promote.add_argument("--to", dest="target", default="production")
    promote.add_argument(
        "--version",
        type=int_in(1),
        help="promote exactly this version (the gate's MODEL_VERSION); refused (exit 4) if --from moved since",
    )
    add_gate_args(promote)
    add_registry_arg(promote)
    promote.set_defaults(func=cmd_promote, service_fault_exit=SERVICE_FAULT_EXIT)

    rollback = groups.add_parser("rollback", help="move an alias back to its previous version (from the ledger)")
    rollback.add_argument("--alias", required=True, help="the alias to move back, e.g. staging or production")
    add_gate_args(rollback)
    add_registry_arg(rollback)
    rollback.set_defaults(func=cmd_rollback, service_fault_exit=SERVICE_FAULT_EXIT)

    unreject = groups.add_parser("unreject", help="lift the rejection a rollback put on a version")
    unreject.add_argument("--version", required=True, type=int_in(1), help="the rejected version")
    add_gate_args(unreject)
    add_registry_arg(unreject)
    unreject.set_defaults(func=cmd_unreject, service_fault_exit=SERVICE_FAULT_EXIT)
