"""Prometheus metrics of the app (``prometheus-client``), served at ``GET /metrics`` (:mod:`assistant.api.metrics`).

* ``jxe_turn_seconds{channel, outcome}`` — histogram of a chat turn's duration (``outcome``: ``ok``, ``degraded``,
  ``input`` for text that never reached the dialogue);
* ``jxe_turn_errors_total{stage}`` — failures inside a turn that the citizen did not see (``state``, ``store``,
  ``claim``, ``finish``, ``degraded``);
* ``jxe_degraded_turns_total{reason}`` — turns answered without Rasa (``rasa_unavailable``, ``rasa_timeout`` …);
* ``jxe_handoffs_waiting`` — open human-helper tickets nobody has claimed yet (read from the database when
  scraped);
* ``jxe_asr_sessions`` — kiosk speech-recognition WebSocket sessions open now;
* ``jxe_scheduler_runs_total{outcome}`` — reminder-scheduler runs (``leader``: this process sent, ``not_leader``: another replica leads).

With several worker processes behind one port (``uvicorn --workers``), set the environment variable
``PROMETHEUS_MULTIPROC_DIR`` to an empty directory before the workers start: every worker writes its values there
and ``/metrics`` adds them up (``prometheus_client.multiprocess``). The cluster's replicas are one process each and
are scraped one by one (each on its own port).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, values
from prometheus_client import REGISTRY
from prometheus_client import multiprocess
from prometheus_client.core import GaugeMetricFamily

__all__ = ["TURN_SECONDS", "TURN_ERRORS", "DEGRADED_TURNS", "ASR_SESSIONS", "SCHEDULER_RUNS", "exposition",
           "multiprocess_mode"]

TURN_SECONDS = Histogram("jxe_turn_seconds", "Duration of a chat turn, seconds", ["channel", "outcome"],
                         buckets=(0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0))
TURN_ERRORS = Counter("jxe_turn_errors_total", "Failures inside a chat turn (the citizen still got an answer)",
                      ["stage"])
DEGRADED_TURNS = Counter("jxe_degraded_turns_total", "Chat turns answered without Rasa", ["reason"])
ASR_SESSIONS = Gauge("jxe_asr_sessions", "Kiosk speech-recognition sessions open now", multiprocess_mode="livesum")
SCHEDULER_RUNS = Counter("jxe_scheduler_runs_total", "Reminder scheduler runs", ["outcome"])


class _Value:
    """A gauge whose value is read at scrape time (not kept in any process)."""

    def __init__(self, name: str, doc: str, value: float):
        self.name, self.doc, self.value = name, doc, value

    def collect(self):
        yield GaugeMetricFamily(self.name, self.doc, value=self.value)


def multiprocess_mode() -> bool:
    """Whether values are kept in ``PROMETHEUS_MULTIPROC_DIR`` (several worker processes)."""
    return values.ValueClass is not values.MutexValue


def exposition(handoffs_waiting: int | None) -> bytes:
    """The text exposition of every metric (all workers' when in multi-process mode), plus
    ``jxe_handoffs_waiting`` (``None``: the database could not be read; the gauge is left out)."""
    if multiprocess_mode():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    if handoffs_waiting is not None:
        extra = CollectorRegistry()
        extra.register(_Value("jxe_handoffs_waiting", "Open human-helper tickets not claimed yet", handoffs_waiting))
        body += generate_latest(extra)
    return body
