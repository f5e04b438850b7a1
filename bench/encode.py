"""Single-query encoding and the warm parse, torch against ONNX Runtime (``python -m bench.encode``).

The project's own held-out questions (``tests/data/heldout_*.yml``: written for the tests, never training data nor
the evaluation file), each encoded and parsed once per round with the encoder's cache cleared; rounds alternate
between the two encoders so a burst of load on the shared machine hits both. Also: the cosine between the two
vectors of each question (the ONNX path is used only when it gives the torch vectors).
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

from assistant.settings import REPO_ROOT, Settings

ROUNDS = 3
HELDOUT = REPO_ROOT / "tests" / "data"


def own_questions() -> list[str]:
    from assistant.teach.regression import load_heldout

    return [item.text for item in load_heldout(HELDOUT)]


def _pcts(ms: list[float]) -> str:
    s = sorted(ms)
    return f"{statistics.median(s):.1f} / {s[int(0.95 * (len(s) - 1))]:.1f}"


def run(settings: Settings) -> str:
    from knowledge.kb import KnowledgeBase
    from nlu import NLU

    load = os.getloadavg()
    questions = own_questions()
    kb = KnowledgeBase.load(settings.kb_dir, settings.guides_dir)
    cache = Path(settings.cache_dir) / "nlu"
    t0 = time.perf_counter()
    onnx = NLU(kb, settings.embedding_model, cache, onnx=True)
    onnx_start = time.perf_counter() - t0
    torch = NLU(kb, settings.embedding_model, cache, onnx=False)
    if onnx.encoder.onnx is None:
        return "## Single-query encoding: torch against ONNX Runtime\n\nONNX Runtime unavailable here (see the log).\n"
    cos = [float(onnx.encoder.onnx.encode(onnx.encoder.model, q) @ torch.encoder._torch_one(q)) for q in questions]
    for nlu in (onnx, torch):  # warm
        for q in questions[:10]:
            nlu.parse(q)
    enc = {"torch": [], "onnx": []}
    parse = {"torch": [], "onnx": []}
    for _ in range(ROUNDS):
        for name, nlu in (("torch", torch), ("onnx", onnx)):
            for q in questions:
                nlu.encoder._lru.clear()
                t0 = time.perf_counter()
                nlu.encoder.encode_one(q)
                enc[name].append(1000 * (time.perf_counter() - t0))
                nlu.encoder._lru.clear()
                t0 = time.perf_counter()
                nlu.parse(q)
                parse[name].append(1000 * (time.perf_counter() - t0))
    rate = {n: _throughput(onnx, questions, n) for n in (1, 2)}
    return "\n".join([
        "## Single-query encoding: torch against ONNX Runtime (`bench/encode.py`)", "",
        f"{len(questions)} own held-out questions × {ROUNDS} alternating rounds, each encoded and parsed with the "
        f"encoder's cache cleared (so every parse encodes). Model: {onnx.encoder.key}. Load average at start: "
        f"{', '.join(f'{x:.1f}' for x in load)}; at end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}.", "",
        "| measure | torch (fp32, 1 thread) | ONNX Runtime (fp32, 2 threads alone, 1 beside another query) |",
        "|---|---|---|",
        f"| encode one question, p50 / p95 | {_pcts(enc['torch'])} ms | {_pcts(enc['onnx'])} ms |",
        f"| warm parse, p50 / p95 (target p50 ≤ 15 ms) | {_pcts(parse['torch'])} ms | {_pcts(parse['onnx'])} ms |",
        f"| cosine between the two vectors of a question, lowest / mean | 1 | {min(cos):.6f} / "
        f"{statistics.mean(cos):.6f} |",
        f"| parses per second, one / two at once (threads of one process, every parse encodes) | | "
        f"{rate[1]:.0f} / {rate[2]:.0f} |",
        f"| NLU start (index from the cache; the ONNX export made or loaded) | | {onnx_start:.1f} s |", ""])


def _throughput(nlu, questions: list[str], at_once: int) -> float:
    """Parses per second with ``at_once`` threads parsing the questions, with the encoder's cache off."""
    from concurrent.futures import ThreadPoolExecutor

    size, nlu.encoder._cache_size = nlu.encoder._cache_size, 0  # nothing kept: every parse encodes
    nlu.encoder._lru.clear()
    try:
        t0 = time.perf_counter()
        with ThreadPoolExecutor(at_once) as pool:
            list(pool.map(nlu.parse, questions * ROUNDS))
        return ROUNDS * len(questions) / (time.perf_counter() - t0)
    finally:
        nlu.encoder._cache_size = size


if __name__ == "__main__":
    print(run(Settings()))
