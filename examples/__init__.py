"""Runnable examples. From the repository root: ``python -m examples.ecommerce``."""
