"""ZenML steps: one per file, wiring core functions and adapters, nothing else."""
