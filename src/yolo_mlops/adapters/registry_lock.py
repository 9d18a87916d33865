"""A machine-wide lock around one registered model's decide → register → move sequence.

MLflow has no compare-and-set on aliases. Within one machine (several gates sharing a state dir) this
lock serialises them; across CI runners GitLab's `resource_group: model-registry` does, and the gate's
re-read of the alias right before moving it catches anything else.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def registry_lock(state_dir: Path, model_name: str) -> Iterator[None]:
    path = state_dir / "locks" / f"registry-{model_name}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
