"""The committed KB files equal a fresh import of ../shared (no drift), and re-importing is deterministic."""

from __future__ import annotations

import pytest

from knowledge.importing import ATTRIBUTION_FILE, SICHUAN_FILE, SICHUAN_LICENSE, import_sichuan_catalog
from knowledge.loaders.jsonl import read_matters
from tests.knowledge.conftest import KB_DIR, SICHUAN_SRC, require


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    out = tmp_path_factory.mktemp("kb")
    import_sichuan_catalog(require(SICHUAN_SRC), out)
    return out


@pytest.mark.parametrize("name", [SICHUAN_FILE, ATTRIBUTION_FILE, SICHUAN_LICENSE])
def test_committed_file_equals_fresh_import(fresh, name):
    committed = (KB_DIR / name).read_bytes()
    assert committed == (fresh / name).read_bytes(), (
        f"knowledge/data/{name} differs from a fresh import: run "
        f"`jinxiaoer kb import sichuan --src {SICHUAN_SRC}` and commit the result")


def test_reimport_is_byte_identical(fresh, tmp_path):
    import_sichuan_catalog(SICHUAN_SRC, tmp_path)
    for name in (SICHUAN_FILE, ATTRIBUTION_FILE):
        assert (tmp_path / name).read_bytes() == (fresh / name).read_bytes()


def test_committed_catalogue_is_valid_and_complete():
    matters, issues = read_matters(KB_DIR / SICHUAN_FILE)
    assert issues == []
    assert len(matters) == 1135 and [line for line, _ in matters] == list(range(1, 1136))
    assert all(not m.verified and "510106000000" in m.online_link for _, m in matters)
    text = (KB_DIR / ATTRIBUTION_FILE).read_text(encoding="utf-8")
    assert "Apache-2.0" in text and "unverified" in text.lower() and "四川政务服务网" in text
