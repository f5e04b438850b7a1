"""Every replica serves the learned examples within seconds, without a restart: each process checks the learned
examples' version in the database every ``learned_poll_s`` seconds and, when it changed, swaps a new snapshot
into its NLU (only new texts are encoded; nothing is rebuilt)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from assistant.logging import get_logger, log_event
from assistant.teach import regression, store
from nlu.learned import LearnedExample

log = get_logger(__name__)

_LOCK = threading.Lock()


def sync_once(services: Any, force: bool = False) -> bool:
    """Load the live learned examples into this process's NLU when their version changed.

    Returns:
        Whether a new snapshot is served.
    """
    nlu = getattr(services, "nlu", None)
    if nlu is None:
        return False
    with _LOCK:
        version = store.learned_version(services.db)
        serving = nlu.learned.version  # "" until the process's first load
        if not force and serving == version:
            return False
        rows = store.live_learned(services.db)
        learned = nlu.learned_set([LearnedExample(r["text"], r["kind"], r["label"]) for r in rows], version,
                                  float(services.settings.learned_match_threshold))
        nlu.set_learned(learned)
    log_event(log, "triage.learned.synced", version=version, examples=len(learned))
    if serving:  # not at start: a replica that just joined the balancer spends its CPU on turns
        _warm_in_background(services)
    return True


_WARMING = threading.Event()


def _warm_in_background(services: Any) -> None:
    """Route the held-out sets with the served examples in a thread of its own (the next regression check starts
    from them), never holding up the polling; one at a time."""
    if _WARMING.is_set():
        return
    _WARMING.set()

    def run() -> None:
        try:
            regression.warm(services.nlu, services.settings.triage_heldout_dir)
        except Exception:
            log.exception("triage.heldout.warm_failed")
        finally:
            _WARMING.clear()

    threading.Thread(target=run, name="triage-heldout-warm", daemon=True).start()


async def sync_loop(services: Any) -> None:
    """Poll forever (the app's lifespan runs it and cancels it on shutdown)."""
    interval = max(0.5, float(services.settings.learned_poll_s))
    while True:
        try:
            if services.nlu is not None:
                await asyncio.to_thread(sync_once, services)
        except asyncio.CancelledError:
            raise
        except Exception:  # the database may be briefly away: try again at the next tick
            log.exception("triage.learned.sync_failed")
        await asyncio.sleep(interval)
