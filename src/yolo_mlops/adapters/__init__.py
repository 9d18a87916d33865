"""Thin adapters at the edges: one module per outside system."""
