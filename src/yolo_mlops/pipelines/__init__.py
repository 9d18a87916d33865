"""ZenML pipelines: wiring of steps only."""
