"""Where the tests find the repository's files: the root, and the corpus of real OpenAPI documents."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus"
"""Real, public OpenAPI documents, byte for byte as published (``tests/corpus/MANIFEST.md``)."""
