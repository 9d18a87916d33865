"""yolo-mlops: train, compare and promote small YOLO detectors from GitLab CI."""

__version__ = "0.1.0"
