"""Which step answers which intent: read from the Rasa project's rules (``data/*.yml``), the one place where
that is written.

Rasa follows these rules when it is up; the degraded path (:mod:`assistant.dialogue.degraded`) follows the same
table when it is not. A rule of the form ``intent: X`` → ``action: Y`` (no condition, two steps) maps ``X`` to
``Y``; a rule whose action is a form (``domain/*.yml`` ``forms:``) marks ``X`` as starting that form, which needs
Rasa.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml


@dataclass(frozen=True)
class RuleTable:
    """The intent → step table of the Rasa project.

    Attributes:
        steps: intent → the action (step) that answers it.
        forms: intent → the form it starts.
        fallback_step: what answers an intent no rule covers (Rasa's ``core_fallback_action_name``).
    """

    steps: dict[str, str] = field(default_factory=dict)
    forms: dict[str, str] = field(default_factory=dict)
    fallback_step: str = "action_fallback"

    def step_for(self, intent: str) -> str:
        """The step that answers ``intent`` (the fallback step when no rule covers it)."""
        return self.steps.get(intent, self.fallback_step)


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in {".yml", ".yaml"}) if folder.is_dir() else []


@lru_cache(maxsize=4)
def load_rules(project_dir: Path) -> RuleTable:
    """Read the rule table of the Rasa project at ``project_dir`` (``config.yml``, ``domain/``, ``data/``)."""
    forms: set[str] = set()
    for path in _yaml_files(project_dir / "domain"):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        forms |= set((doc.get("forms") or {}).keys())
    steps: dict[str, str] = {}
    starts: dict[str, str] = {}
    for path in _yaml_files(project_dir / "data"):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for rule in doc.get("rules") or []:
            seq = rule.get("steps") or []
            if rule.get("condition") or len(seq) < 2 or "intent" not in seq[0] or "action" not in seq[1]:
                continue
            intent, action = seq[0]["intent"], seq[1]["action"]
            if action in forms:
                starts[intent] = action
            elif len(seq) == 2:
                steps[intent] = action
    fallback = "action_fallback"
    config = project_dir / "config.yml"
    if config.is_file():
        for policy in (yaml.safe_load(config.read_text(encoding="utf-8")) or {}).get("policies") or []:
            if policy.get("core_fallback_action_name"):
                fallback = policy["core_fallback_action_name"]
    return RuleTable(steps=steps, forms=starts, fallback_step=fallback)
