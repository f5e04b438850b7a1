"""The front end: Silero VAD endpointing, conditioning (high-pass, level), spectral gating, and the seeded noisy
test set script."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import REPO_ROOT
from tests.voice.conftest import AUDIO
from voice.audio import SAMPLE_RATE, read_wav
from voice.frontend import (VAD_FRAME, EnergyVad, FrontendConfig, SileroVad, VadConfig, VadEndpointer, condition,
                            highpass, make_vad, normalize_level, silero_model_path, spectral_gate)

NOISY = REPO_ROOT / "tests" / "fixtures" / "audio_noisy"


def _db(x: np.ndarray) -> float:
    return 10 * np.log10(np.mean(x.astype(np.float64) ** 2) + 1e-20)


def _feed(ep: VadEndpointer, x: np.ndarray, step: int = 1600) -> list[tuple[int, int, int]]:
    """Stream ``x``; the utterances found as (end sample in the stream, first, last speech sample)."""
    out, pos = [], 0
    while len(x):
        chunk = x[:step]
        cut = ep.feed(chunk)
        if cut is None:
            pos += len(chunk)
            x = x[step:]
            continue
        out.append((pos + cut, ep.first_speech_sample, ep.last_speech_sample))
        ep.reset()
        pos += cut
        x = x[cut:]
    return out


def test_silero_ships_in_the_wheel_and_is_used():
    assert silero_model_path() is not None
    assert isinstance(make_vad(), SileroVad)
    assert isinstance(make_vad("energy"), EnergyVad)


def test_vad_tells_speech_from_silence_and_noise():
    vad = SileroVad()
    speech = read_wav(AUDIO / "q020.wav").samples
    assert vad.probs(speech).max() > 0.9
    rng = np.random.default_rng(3)
    assert vad.probs(np.zeros(SAMPLE_RATE * 2, dtype=np.float32)).max() < 0.2
    assert vad.probs((rng.normal(0, 0.05, SAMPLE_RATE * 2)).astype(np.float32)).max() < 0.5


def test_endpointer_cuts_the_utterance_and_ends_it_after_the_pause():
    speech = read_wav(AUDIO / "q020.wav").samples
    lead = np.zeros(SAMPLE_RATE, dtype=np.float32)
    stream = np.concatenate([lead, speech, np.zeros(2 * SAMPLE_RATE, dtype=np.float32)])
    ep = VadEndpointer(SileroVad(), VadConfig(end_silence_s=0.8))
    found = _feed(ep, stream)
    assert len(found) == 1
    end, first, last = found[0]
    onset = SAMPLE_RATE + 0.4 * SAMPLE_RATE  # the clip starts with 0.4 s of silence
    assert abs(first - onset) < 0.25 * SAMPLE_RATE
    speech_end = SAMPLE_RATE + len(speech) - 0.4 * SAMPLE_RATE
    assert abs(last - speech_end) < 0.3 * SAMPLE_RATE
    # the end comes ~0.8 s after the last speech, well before the stream's end
    assert 0.6 * SAMPLE_RATE < end - last < 1.2 * SAMPLE_RATE


def test_endpointer_sees_no_utterance_in_silence_or_hum():
    t = np.arange(3 * SAMPLE_RATE) / SAMPLE_RATE
    hum = (0.05 * np.sin(2 * np.pi * 50 * t)).astype(np.float32)
    for x in (np.zeros(3 * SAMPLE_RATE, dtype=np.float32), hum):
        ep = VadEndpointer(SileroVad())
        assert _feed(ep, x) == [] and not ep.in_speech


def test_endpointer_positions_are_the_same_for_any_chunk_size():
    stream = np.concatenate([read_wav(AUDIO / "q035.wav").samples, np.zeros(SAMPLE_RATE, dtype=np.float32)])
    results = {step: _feed(VadEndpointer(SileroVad()), stream, step) for step in (VAD_FRAME, 1600, 4000, 7777)}
    firsts = {r[0][1] for r in results.values()}
    assert all(len(r) == 1 for r in results.values()) and len(firsts) == 1


def test_highpass_removes_hum_and_keeps_speech():
    speech = read_wav(AUDIO / "q020.wav").samples
    t = np.arange(len(speech)) / SAMPLE_RATE
    hum = (0.1 * np.sin(2 * np.pi * 50 * t)).astype(np.float32)
    assert _db(highpass(hum)) < _db(hum) - 30
    assert abs(_db(highpass(speech)) - _db(speech)) < 3


def test_normalize_level_brings_quiet_and_loud_speech_to_the_same_level():
    speech = read_wav(AUDIO / "q020.wav").samples
    quiet, loud = normalize_level(speech * 0.02), normalize_level(speech * 0.9)
    assert abs(_db(quiet) - _db(loud)) < 0.5
    assert np.max(np.abs(loud)) <= 0.95 + 1e-6
    assert np.array_equal(normalize_level(np.zeros(1000, dtype=np.float32)), np.zeros(1000, dtype=np.float32))


def test_spectral_gate_lowers_stationary_noise():
    rng = np.random.default_rng(1)
    speech = read_wav(AUDIO / "q020.wav").samples
    noise = (rng.normal(0, 0.01, len(speech))).astype(np.float32)
    gated = spectral_gate(speech + noise, noise=noise[:SAMPLE_RATE])
    head = slice(0, int(0.3 * SAMPLE_RATE))  # the clip's leading silence: noise only
    assert _db(gated[head]) < _db((speech + noise)[head]) - 6


def test_condition_steps_follow_the_config():
    x = read_wav(AUDIO / "q020.wav").samples * 0.05
    assert np.array_equal(condition(x, FrontendConfig(highpass=False, normalize=False, gate=False)), x)
    assert _db(condition(x, FrontendConfig(normalize=True))) > _db(x) + 10  # normalised up
    t = np.arange(len(x)) / SAMPLE_RATE
    hum = (0.05 * np.sin(2 * np.pi * 50 * t)).astype(np.float32)
    assert _db(condition(x + hum) - condition(x)) < _db(hum) - 30  # the default removes the hum


def test_noisy_set_is_committed_and_describes_its_conditions():
    clean = [json.loads(x) for x in (AUDIO / "manifest.jsonl").read_text(encoding="utf-8").splitlines() if x]
    noisy = [json.loads(x) for x in (NOISY / "manifest.jsonl").read_text(encoding="utf-8").splitlines() if x]
    assert [m["file"] for m in noisy] == [m["file"] for m in clean]
    for m in noisy:
        c = m["conditions"]
        assert 5.0 <= c["babble_snr_db"] <= 15.0 and 0.89 <= c["speed"] <= 1.11 and c["lead_noise_s"] == 0.5
        assert (NOISY / m["file"]).exists()
    assert any(m["conditions"]["clipped"] for m in noisy) and not all(m["conditions"]["clipped"] for m in noisy)


def test_noisy_set_script_is_deterministic_and_matches_the_committed_set(tmp_path):
    out = tmp_path / "noisy"
    subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "make_noisy_fixtures.py"), "--out", str(out)],
                   check=True, capture_output=True)
    for name in ("manifest.jsonl", "q001.wav", "q036.wav"):
        assert (out / name).read_bytes() == (NOISY / name).read_bytes()


@pytest.mark.parametrize("seed", [15])
def test_another_seed_gives_another_draw(tmp_path, seed):
    out = tmp_path / "other"
    subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "make_noisy_fixtures.py"), "--out", str(out),
                    "--seed", str(seed)], check=True, capture_output=True)
    assert (out / "q001.wav").read_bytes() != (NOISY / "q001.wav").read_bytes()


def test_a_fixed_babble_level_changes_only_the_babble(tmp_path):
    """``--babble-snr`` (the bench's SNR sweep): every clip has the babble at that level and every other condition
    of the committed draw of the same seed."""
    out = tmp_path / "snr30"
    subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "make_noisy_fixtures.py"), "--out", str(out),
                    "--babble-snr", "30"], check=True, capture_output=True)
    fixed = [json.loads(x) for x in (out / "manifest.jsonl").read_text(encoding="utf-8").splitlines() if x]
    drawn = [json.loads(x) for x in (NOISY / "manifest.jsonl").read_text(encoding="utf-8").splitlines() if x]
    for a, b in zip(fixed, drawn, strict=True):
        assert a["conditions"]["babble_snr_db"] == 30.0 != b["conditions"]["babble_snr_db"]
        assert {k: v for k, v in a["conditions"].items() if k != "babble_snr_db"} == \
            {k: v for k, v in b["conditions"].items() if k != "babble_snr_db"}
        quiet, loud = read_wav(out / a["file"]).samples, read_wav(NOISY / b["file"]).samples
        assert len(quiet) == len(loud) and not np.array_equal(quiet, loud)
