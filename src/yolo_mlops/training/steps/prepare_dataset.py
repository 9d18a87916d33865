"""Step: resolve and validate the DVC-tracked dataset before any training."""

from pathlib import Path
from typing import Annotated

from zenml import step

from yolo_mlops.data.validate import require_valid_dataset


@step(enable_cache=False)
def prepare_dataset(dataset_dir: str) -> tuple[Annotated[str, "data_yaml"], Annotated[str, "data_md5"]]:
    """Never cached: the directory's content is re-hashed on every run, so a changed dataset
    changes `data_md5`, and with it the cache key of every step downstream."""
    root = Path(dataset_dir).resolve()
    md5 = require_valid_dataset(root)
    return str(root / "data.yaml"), md5
