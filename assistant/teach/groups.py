"""Group near-duplicate triage items with the NLU's sentence encoder.

Greedy leader clustering in the order items arrived: an item joins the earliest group whose first item (its
leader) is at least ``threshold`` cosine-similar, else it leads a new group. A group's id is its leader's item id,
so ids stay the same as items arrive (a new item only joins a group or starts one) until the group is resolved.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np

from assistant.teach.store import OpenItem

#: Cosine at which two inbox texts are the same question (m3e-small: paraphrases 0.88–0.95).
DEFAULT_GROUP_THRESHOLD = 0.87


@dataclass
class Group:
    """Near-duplicate items."""

    id: int
    items: list[OpenItem] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.items)

    @property
    def last_seen(self) -> datetime:
        return max(_aware(i.created_at) for i in self.items)

    def view(self) -> dict[str, Any]:
        """The group as the API shows it."""
        texts = Counter(i.text for i in self.items)
        matters = Counter((i.matter_code, i.matter_name) for i in self.items if i.matter_code)
        (code, name), _ = matters.most_common(1)[0] if matters else ((None, None), 0)
        held = [i for i in self.items if i.status == "held"]
        return {"id": self.id, "text": texts.most_common(1)[0][0], "count": self.count,
                "examples": [t for t, _ in texts.most_common(5)],
                "predicted_matter": {"code": code, "name": name or ""} if code else None,
                "intent": Counter(i.intent for i in self.items).most_common(1)[0][0],
                "reasons": dict(Counter(i.reason for i in self.items)),
                "first_seen": min(_aware(i.created_at) for i in self.items).isoformat(),
                "last_seen": self.last_seen.isoformat(),
                "item_ids": [i.id for i in self.items],
                "status": "held" if held else "open", "message": held[-1].message if held else ""}


def _aware(dt: datetime) -> datetime:
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt


def group(items: list[OpenItem], threshold: float = DEFAULT_GROUP_THRESHOLD) -> list[Group]:
    """Group ``items`` (oldest first); items without a vector group by identical text."""
    groups: list[Group] = []
    leaders: list[np.ndarray] = []
    leader_group: list[int] = []
    by_text: dict[str, int] = {}
    for it in items:
        if it.text in by_text:
            groups[by_text[it.text]].items.append(it)
            continue
        gi = None
        if it.vector is not None and leaders:
            sims = np.stack(leaders) @ it.vector
            ok = np.flatnonzero(sims >= threshold)
            if len(ok):
                gi = leader_group[int(ok[0])]
        if gi is None:
            gi = len(groups)
            groups.append(Group(it.id))
            if it.vector is not None:
                leaders.append(it.vector)
                leader_group.append(gi)
        groups[gi].items.append(it)
        by_text.setdefault(it.text, gi)
    return groups


def ordered(groups: list[Group], sort: str = "count") -> list[Group]:
    """``count``: most frequent first (newest first among equals); ``newest``: most recently seen first."""
    if sort == "newest":
        return sorted(groups, key=lambda g: (g.last_seen, g.count), reverse=True)
    return sorted(groups, key=lambda g: (g.count, g.last_seen), reverse=True)
