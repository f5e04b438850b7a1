"""Shared paths and fixtures for the knowledge tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
#: ``../shared`` beside the repository root (evaluation data and the source exports).
SHARED = REPO_ROOT.parent / "shared"
SICHUAN_SRC = SHARED / "data" / "sichuan-matter-catalog"
GUANGDONG_SRC = SHARED / "data" / "guangdong-matter-guides"
EVAL_QUERIES = SHARED / "eval" / "citizen_questions.jsonl"
KB_DIR = REPO_ROOT / "knowledge" / "data"
GUIDES_DIR = REPO_ROOT / "knowledge" / "guides"


def require(path: Path) -> Path:
    """Skip the test when ``path`` (under ../shared) is absent — but fail in CI, where shared/ must be present."""
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is required in CI")
        pytest.skip(f"{path} not present")
    return path


@pytest.fixture(scope="session")
def committed_kb():
    """The committed KB (catalogue + guides), loaded once."""
    from knowledge.kb import KnowledgeBase

    return KnowledgeBase.load(KB_DIR, GUIDES_DIR)


@pytest.fixture(scope="session")
def sichuan_import():
    """A fresh import of the Sichuan catalogue from ../shared."""
    from knowledge.loaders.sichuan import import_sichuan

    return import_sichuan(require(SICHUAN_SRC))


@pytest.fixture(scope="session")
def guangdong_import():
    """A fresh import of the Guangdong guide export from ../shared."""
    from knowledge.loaders.guangdong import import_guangdong

    return import_guangdong(require(GUANGDONG_SRC))
