"""Every text of the dialogue is in assistant/dialogue/replies.yml: each key the code asks for exists, each key in
the file is used, and every placeholder is filled by the code that says it."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from assistant.dialogue.replies import say, texts

ROOT = Path(__file__).resolve().parents[2] / "assistant"
_LITERAL = re.compile(r'say\("([^"]+)"')
_DYNAMIC = re.compile(r'say\(f"([^"{]+)\{')


def _code() -> str:
    """The modules that say something (they import ``replies``)."""
    sources = (p.read_text(encoding="utf-8") for p in ROOT.rglob("*.py"))
    return "\n".join(s for s in sources if "assistant.dialogue.replies import" in s)


def test_every_key_the_code_says_exists():
    missing = sorted({k for k in _LITERAL.findall(_code()) if k not in texts()})
    assert not missing, missing


def test_every_key_in_the_file_is_used():
    code = _code()
    used = set(_LITERAL.findall(code)) | {k for k in texts() if f'"{k}"' in code}  # keys kept in tables
    prefixes = tuple(_DYNAMIC.findall(code))
    assert prefixes, "the dynamic keys (smalltalk.{intent} …) were not found"
    unused = sorted(k for k in texts() if k not in used and not k.startswith(prefixes))
    assert not unused, unused


@pytest.mark.parametrize("key", sorted(texts()))
def test_placeholders_are_well_formed(key):
    fields = [f for _, f, _, _ in string.Formatter().parse(texts()[key]) if f is not None]
    assert all(f and f.isidentifier() for f in fields), fields
    if not fields:
        assert say(key) == texts()[key]


def test_a_missing_key_is_an_error():
    with pytest.raises(KeyError):
        say("no.such.key")
