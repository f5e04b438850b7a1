"""A helper resolves a triage group: its texts become learned examples — after the regression check — and the
NLU of this process serves them at once (the others within ``learned_poll_s``, :mod:`assistant.teach.sync`)."""

from __future__ import annotations

import threading
import uuid
from typing import Any

from assistant.dialogue.rules import load_rules
from assistant.logging import get_logger, log_event
from assistant.teach import groups as grouping
from assistant.teach import regression, store
from assistant.teach.sync import sync_once
from nlu.learned import LearnedExample

log = get_logger(__name__)

#: Intents a group cannot be taught as (they are what the inbox collects, or have their own kind).
NOT_TEACHABLE = {"nlu_fallback", "out_of_scope"}

_LOCK = threading.Lock()


class ResolveError(Exception):
    """A resolve that cannot be done: ``status`` (HTTP), ``code`` and a bilingual ``message``."""

    def __init__(self, status: int, code: str, message: str, check: dict[str, Any] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.check = status, code, message, check


def teachable_intents(services: Any) -> list[str]:
    """The intents a group may be resolved to: those the NLU knows and a dialogue rule answers."""
    rules = load_rules(services.settings.rasa_project_dir.resolve())
    known = set(getattr(services.nlu, "intents", ()) or ())
    return sorted((set(rules.steps) & known) - NOT_TEACHABLE)


def current_groups(services: Any) -> list[grouping.Group]:
    """The open groups (vectors filled in for items recorded while the NLU was loading)."""
    items = store.open_items(services.db)
    nlu = services.nlu
    missing = [i for i in items if i.vector is None]
    if missing and nlu is not None:
        from nlu.text import MAX_MODEL_CHARS, normalize, strip_frame

        vecs = nlu.encoder.encode([strip_frame(normalize(i.text, MAX_MODEL_CHARS)) or i.text for i in missing])
        store.set_vectors(services.db, {i.id: v for i, v in zip(missing, vecs)})
        fresh = {i.id: v for i, v in zip(missing, vecs)}
        items = [store.OpenItem(**{**i.__dict__, "vector": fresh.get(i.id, i.vector)}) for i in items]
    return grouping.group(items, float(services.settings.triage_group_threshold))


def resolve(services: Any, group_id: int, kind: str, label: str, actor: str) -> dict[str, Any]:
    """Teach the group that contains item ``group_id`` as ``kind``/``label``.

    Returns:
        ``{"id", "status": "live", "kind", "label", "examples", "items", "check"}``.

    Raises:
        ResolveError: 404 no such item / unknown matter; 409 already resolved; 422 an intent that cannot be
            taught; 409 ``regression`` when the batch would route the held-out sets worse (the group is kept,
            marked ``held``, with the message).
    """
    nlu = services.nlu
    if nlu is None or services.kb is None:
        raise ResolveError(503, "nlu_loading", "模型还在加载，请稍后再试。/ the NLU is still loading")
    if kind == "matter":
        m = services.kb.get(label)
        if m is None:
            raise ResolveError(404, "unknown_matter", f"没有编码为 {label} 的事项。/ no matter {label}")
        label_name = m.name
    elif kind == "intent":
        if label not in teachable_intents(services):
            raise ResolveError(422, "unknown_intent", f"不能教成意图 {label}。/ intent {label!r} cannot be taught")
        label_name = label
    else:
        kind, label, label_name = "out_of_scope", "", "不属于政务事项"
    with _LOCK:
        g = next((g for g in current_groups(services) if any(i.id == group_id for i in g.items)), None)
        if g is None:
            status = store.item_status(services.db, group_id)
            if status is None:
                raise ResolveError(404, "not_found", f"没有编号为 {group_id} 的待学习条目。/ no triage item {group_id}")
            raise ResolveError(409, "already_resolved", f"条目 {group_id} 已经处理过了。/ item {group_id} is resolved")
        texts = list(dict.fromkeys(i.text for i in g.items))
        batch = uuid.uuid4().hex[:12]
        candidate = nlu.served_with([LearnedExample(t, kind, label) for t in texts])
        result = regression.check(nlu, candidate, services.settings.triage_heldout_dir)
        rows = [{"text": t, "kind": kind, "label": label,
                 "triage_item_id": next(i.id for i in g.items if i.text == t)} for t in texts]
        check = result.as_dict()
        ids = [i.id for i in g.items]
        if not result.passed:
            message = (f"这批例句会让留出集的识别变差（{result.baseline} → {result.candidate} / {result.total} 条正确），"
                       f"已暂缓上线，请换一个事项或意图。/ held back: routing of the held-out set would drop from "
                       f"{result.baseline} to {result.candidate} of {result.total}")
            store.add_learned(services.db, rows, "held", batch, check, actor)
            store.mark(services.db, ids, "held", {"kind": kind, "label": label, "batch": batch, "message": message},
                       actor)
            log_event(log, "triage.batch.held", group=group_id, kind=kind, label=label, batch=batch,
                      baseline=result.baseline, candidate=result.candidate)
            raise ResolveError(409, "regression", message, check)
        store.add_learned(services.db, rows, "live", batch, check, actor)
        store.mark(services.db, ids, "resolved", {"kind": kind, "label": label, "batch": batch}, actor)
    sync_once(services)  # this replica serves it at once; the others at their next poll
    log_event(log, "triage.batch.live", group=group_id, kind=kind, label=label, batch=batch, examples=len(rows),
              items=len(ids))
    return {"id": group_id, "status": "live", "kind": kind, "label": label, "label_name": label_name,
            "batch": batch, "examples": texts, "items": len(ids), "check": check}
