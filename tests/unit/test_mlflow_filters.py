"""Values put into MLflow filter strings: quoted when safe, refused when they could change the filter."""

import pytest

from yolo_mlops.adapters.mlflow_registry import RegistryError, filter_literal


@pytest.mark.parametrize("value", ["4711", "Nightly_2026.11-29..rc-1", "a%b_c", "0" * 64])
def test_safe_values_are_quoted_as_they_are(value):
    assert filter_literal(value, "campaign") == f"'{value}'"


@pytest.mark.parametrize("value", ["x' AND tags.campaign != 'y", 'a"b', "a\\", "a\nb"])
def test_values_that_could_change_the_filter_are_refused(value):
    with pytest.raises(RegistryError, match="refusing to search MLflow for weights"):
        filter_literal(value, "weights")
