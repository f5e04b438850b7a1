"""Shared paths and fixtures for the knowledge tests."""

from __future__ import annotations

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
    """``path`` (under ../shared); the test FAILS when it is absent (``make test`` needs ../shared)."""
    if not path.exists():
        pytest.fail(f"a required part is missing: {path} (../shared must sit beside the repository)")
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
