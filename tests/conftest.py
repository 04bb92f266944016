"""Shared fixtures: where the corpus is, and a freshly built seed library."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def shared_dir() -> Path:
    return Path(os.environ.get("REFSETTE_SHARED", ROOT.parent / "shared"))


def need_corpus() -> Path:
    """The corpus directory, or a skip (a user's clone) / failure (CI) when it is missing."""
    corpus = shared_dir() / "corpus"
    if not corpus.is_dir():
        message = f"corpus not found beside the repository ({corpus.name} under ../shared)"
        if os.environ.get("REFSETTE_REQUIRE_CORPUS"):
            pytest.fail(message + " and REFSETTE_REQUIRE_CORPUS is set")
        pytest.skip(message)
    return corpus


def value_at(record: dict, path: str):
    """``author.0.family`` → record["author"][0]["family"]; None where the path ends early."""
    value = record
    for part in path.split("."):
        value = value[int(part)] if isinstance(value, list) else value.get(part)
        if value is None:
            return None
    return value


@pytest.fixture
def corpus() -> Path:
    return need_corpus()
