"""The pre-service intents: every one the domain lists has ≥ 25 hand-written examples in the NLU's file."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.conftest import REPO_ROOT

OWN_COPY = REPO_ROOT / "assistant" / "preservice" / "data" / "intents_preservice.yml"


def test_domain_intents_have_enough_examples_in_the_nlu_file():
    domain = yaml.safe_load((REPO_ROOT / "domain" / "preservice.yml").read_text(encoding="utf-8"))
    nlu = yaml.safe_load((REPO_ROOT / "nlu" / "data" / "intents.yml").read_text(encoding="utf-8"))["intents"]
    for intent in domain["intents"]:
        assert intent in nlu, f"{intent} is missing from nlu/data/intents.yml (copy the block from {OWN_COPY.name})"
        assert len(set(nlu[intent])) >= 25, intent


def test_the_nlu_file_carries_the_pre_service_block_unchanged():
    own = yaml.safe_load(OWN_COPY.read_text(encoding="utf-8"))["intents"]
    nlu = yaml.safe_load(Path(REPO_ROOT / "nlu" / "data" / "intents.yml").read_text(encoding="utf-8"))["intents"]
    for intent, examples in own.items():
        assert nlu.get(intent) == examples, intent
