"""Shared fixtures: the seed pages and the real default model."""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "fixtures" / "seeds"


@pytest.fixture(scope="session")
def seed_articles():
    return [{"id": p.stem, "text": p.read_text("utf-8")} for p in sorted(SEEDS.glob("*.txt"))]


@pytest.fixture(scope="session")
def seed_expected():
    return json.loads((SEEDS / "expected.json").read_text("utf-8"))
