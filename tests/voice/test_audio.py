"""WAV decoding, resampling, downmixing and the streaming PCM converter, on real files made with ffmpeg."""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest

from tests.voice.conftest import AUDIO, ffmpeg_pcm, ffmpeg_wav
from voice.audio import AudioError, PcmConverter, check_rate, decode_wav, pcm16_to_float, read_wav, rms_dbfs

CLIP = AUDIO / "q020.wav"


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    n = min(len(a), len(b))
    return float(np.corrcoef(a[:n], b[:n])[0, 1])


def test_fixture_is_16k_mono_pcm16():
    with wave.open(str(CLIP)) as wf:
        assert (wf.getframerate(), wf.getnchannels(), wf.getsampwidth()) == (16000, 1, 2)
    audio = read_wav(CLIP)
    assert audio.source_rate == 16000 and audio.source_channels == 1
    assert 2.0 < audio.duration_s < 8.0


@pytest.mark.parametrize("args,rate,channels", [
    (("-ar", "8000"), 8000, 1),
    (("-ar", "44100", "-ac", "2"), 44100, 2),
    (("-ar", "48000", "-c:a", "pcm_s32le"), 48000, 1),
    (("-ar", "22050", "-c:a", "pcm_u8"), 22050, 1),
    (("-ar", "16000", "-c:a", "pcm_s24le", "-ac", "2"), 16000, 2),
    (("-ar", "16000", "-c:a", "pcm_f32le"), 16000, 1),
])
def test_common_wav_variants_decode_to_the_same_16k_signal(tmp_path, args, rate, channels):
    ref = read_wav(CLIP).samples
    out = read_wav(ffmpeg_wav(CLIP, tmp_path / "v.wav", *args))
    assert abs(out.duration_s - len(ref) / 16000) < 0.05
    assert _corr(ref, out.samples) > (0.9 if rate == 8000 else 0.98)
    # WAVE_FORMAT_EXTENSIBLE / float files are decoded by ffmpeg and report the converted format
    assert (out.source_rate, out.source_channels) in {(rate, channels), (16000, 1)}


@pytest.mark.parametrize("data,message", [
    (b"", "0 bytes"),
    (b"this is not audio at all, just text" * 10, "not a WAV"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "not a WAV"),
])
def test_unusable_bytes_give_a_clear_error(data, message):
    with pytest.raises(AudioError, match=message):
        decode_wav(data)


def test_truncated_wav_header_and_empty_data(tmp_path):
    full = CLIP.read_bytes()
    with pytest.raises(AudioError, match="truncated|damaged|no samples"):
        decode_wav(full[:30])
    buf = io.BytesIO()
    with wave.open(buf, "wb") as wf:
        wf.setnchannels(1), wf.setsampwidth(2), wf.setframerate(16000)
    with pytest.raises(AudioError, match="no samples"):
        decode_wav(buf.getvalue())


def test_truncated_wav_body_keeps_what_is_there():
    full = CLIP.read_bytes()
    audio = decode_wav(full[: len(full) // 2 + 1])  # odd cut inside the data chunk
    assert 1.0 < audio.duration_s < read_wav(CLIP).duration_s


def test_missing_file_and_bad_rate():
    with pytest.raises(AudioError, match="cannot read"):
        read_wav(AUDIO / "does-not-exist.wav")
    for bad in (0, 100, 10**7, "fast", None):
        with pytest.raises(AudioError):
            check_rate(bad)
    assert check_rate("44100") == 44100


def test_streaming_converter_resamples_and_downmixes_in_odd_chunks():
    ref = read_wav(CLIP).samples
    stereo_44k = ffmpeg_pcm(CLIP, 44100, 2)
    conv = PcmConverter(44100, 2)
    out = bytearray()
    step = 4097  # odd: frames and samples split across chunks
    for i in range(0, len(stereo_44k), step):
        out += conv.convert(stereo_44k[i:i + step])
    got = pcm16_to_float(bytes(out))
    assert abs(len(got) - len(ref)) < 16000 * 0.02
    assert _corr(ref, got) > 0.95
    with pytest.raises(AudioError):
        PcmConverter(16000, 0)


def test_passthrough_is_byte_exact():
    pcm = ffmpeg_pcm(CLIP, 16000, 1)
    conv = PcmConverter()
    assert conv.passthrough
    assert conv.convert(pcm[:1001]) + conv.convert(pcm[1001:]) == pcm[: len(pcm) - len(pcm) % 2]


def test_levels():
    assert rms_dbfs(np.zeros(1600, dtype=np.float32)) < -100
    assert -10 < rms_dbfs(np.full(1600, 0.5, dtype=np.float32)) < -5
