"""The learned examples as YAML (``jinxiaoer kb export-learned``), to review them or fold them into the KB."""

from __future__ import annotations

from datetime import datetime, timezone

import yaml
from sqlalchemy import select

from assistant.db.session import Database
from assistant.db.triage import LearnedExampleRow


def learned_data(db: Database, include_held: bool = False) -> dict:
    """``{"version": 1, "exported_at", "matters": {code: [text]}, "intents": {name: [text]}, "out_of_scope": [text]}``
    (served examples; with ``include_held`` also ``held: [{text, kind, label, batch}]``)."""
    out: dict = {"version": 1, "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                 "matters": {}, "intents": {}, "out_of_scope": []}
    held = []
    with db.session() as s:
        for r in s.scalars(select(LearnedExampleRow).order_by(LearnedExampleRow.id)):
            if r.status != "live":
                held.append({"text": r.text, "kind": r.kind, "label": r.label, "batch": r.batch})
            elif r.kind == "matter":
                out["matters"].setdefault(r.label, []).append(r.text)
            elif r.kind == "intent":
                out["intents"].setdefault(r.label, []).append(r.text)
            else:
                out["out_of_scope"].append(r.text)
    if include_held:
        out["held"] = held
    return out


def learned_yaml(db: Database, include_held: bool = False) -> str:
    """:func:`learned_data` as YAML text."""
    return yaml.safe_dump(learned_data(db, include_held), allow_unicode=True, sort_keys=False)
