"""The training pipeline: one run per config (the baseline, or one grid cell)."""

from typing import Any

from zenml import pipeline

from yolo_mlops.training.steps.evaluate_model import evaluate_model
from yolo_mlops.training.steps.prepare_dataset import prepare_dataset
from yolo_mlops.training.steps.summarize_experiment import summarize_experiment
from yolo_mlops.training.steps.train_yolo import train_yolo


@pipeline(enable_cache=True)
def training_pipeline(dataset_dir: str, params: dict[str, Any], config_name: str) -> None:
    data_yaml, data_md5 = prepare_dataset(dataset_dir=dataset_dir)
    model_dir, training = train_yolo(data_yaml=data_yaml, data_md5=data_md5, params=params)
    metrics = evaluate_model(model_dir=model_dir, data_yaml=data_yaml, params=params)
    summarize_experiment(metrics=metrics, training=training, data_md5=data_md5, config_name=config_name)
