"""Audio plumbing for speech recognition: WAV decoding, downmixing, resampling, PCM16 helpers.

Every engine in :mod:`voice` consumes 16-bit little-endian mono PCM at :data:`SAMPLE_RATE` (16 kHz). Anything
else (8 kHz telephone audio, 44.1/48 kHz browser audio, stereo, 8/24/32-bit or float WAVs) is converted here.
Bad input raises :class:`AudioError` with a message fit to show to the caller; nothing is written to disk.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import wave
from dataclasses import dataclass
from math import gcd
from pathlib import Path

import numpy as np

#: The sample rate every engine works at.
SAMPLE_RATE = 16000
#: Rates a client may declare (vosk-server clients send 8000…48000).
MIN_RATE, MAX_RATE = 4000, 192000


class AudioError(ValueError):
    """The audio cannot be used (empty, truncated, not audio, unsupported format). The message says why."""


@dataclass(frozen=True)
class Audio:
    """Decoded audio: mono 16 kHz float32 samples in [-1, 1] plus what the input was.

    Attributes:
        samples: mono float32 samples at :data:`SAMPLE_RATE`.
        source_rate: the sample rate of the input.
        source_channels: the channel count of the input.
    """

    samples: np.ndarray
    source_rate: int
    source_channels: int

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return len(self.samples) / SAMPLE_RATE

    def pcm16(self) -> bytes:
        """The samples as 16-bit little-endian PCM bytes."""
        return float_to_pcm16(self.samples)


def pcm16_to_float(data: bytes | bytearray | memoryview) -> np.ndarray:
    """Decode little-endian 16-bit PCM bytes to float32 in [-1, 1].

    Args:
        data: raw PCM16 bytes; an odd trailing byte is dropped.
    """
    buf = bytes(data)
    if len(buf) % 2:
        buf = buf[:-1]
    return np.frombuffer(buf, dtype="<i2").astype(np.float32) / 32768.0


def float_to_pcm16(samples: np.ndarray) -> bytes:
    """Encode float samples in [-1, 1] as little-endian 16-bit PCM (clipped)."""
    clipped = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
    return (clipped * 32767.0).astype("<i2").tobytes()


def downmix(samples: np.ndarray, channels: int) -> np.ndarray:
    """Average interleaved channels to mono.

    Args:
        samples: interleaved float samples (frames × channels, flattened).
        channels: number of interleaved channels (1 returns the input).
    """
    if channels <= 1:
        return samples
    usable = len(samples) - len(samples) % channels
    return samples[:usable].reshape(-1, channels).mean(axis=1).astype(np.float32)


def resample(samples: np.ndarray, rate: int, target: int = SAMPLE_RATE) -> np.ndarray:
    """Resample mono float samples with a polyphase filter (scipy).

    Args:
        samples: mono float32 samples.
        rate: their sample rate in Hz.
        target: the wanted rate in Hz.
    """
    if rate == target or len(samples) == 0:
        return samples.astype(np.float32, copy=False)
    from scipy.signal import resample_poly

    g = gcd(int(rate), int(target))
    return resample_poly(samples, target // g, rate // g).astype(np.float32)


def check_rate(rate: object) -> int:
    """Validate a declared sample rate and return it as an int.

    Raises:
        AudioError: when the rate is not a number between :data:`MIN_RATE` and :data:`MAX_RATE`.
    """
    try:
        value = int(float(rate))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise AudioError(f"sample_rate must be a number, got {rate!r}") from None
    if not MIN_RATE <= value <= MAX_RATE:
        raise AudioError(f"sample_rate {value} is outside {MIN_RATE}–{MAX_RATE} Hz")
    return value


class StreamResampler:
    """Stateful resampler for audio that arrives in chunks (continuous across chunk boundaries).

    Downsampling first low-passes the input with a windowed-sinc FIR (state kept between chunks, group delay
    compensated), then every output sample is linearly interpolated at its exact input position; the
    fractional position carries over to the next chunk, so chunking does not change the result.

    Args:
        rate: input rate in Hz.
        target: output rate in Hz.
    """

    TAPS = 63

    def __init__(self, rate: int, target: int = SAMPLE_RATE):
        from scipy.signal import firwin

        self.step = rate / target
        self.b = firwin(self.TAPS, cutoff=0.45 * min(rate, target), fs=rate) if rate > target else None
        self.zi = np.zeros(self.TAPS - 1) if self.b is not None else None
        self.pos = (self.TAPS - 1) / 2 if self.b is not None else 0.0
        self.tail = np.zeros(0, dtype=np.float64)

    def process(self, x: np.ndarray) -> np.ndarray:
        """Resample the next chunk of mono float samples."""
        from scipy.signal import lfilter

        x = np.asarray(x, dtype=np.float64)
        if self.b is not None and len(x):
            x, self.zi = lfilter(self.b, 1.0, x, zi=self.zi)
        data = np.concatenate([self.tail, x]) if len(self.tail) else x
        n = len(data)
        if n < 2:
            self.tail = data
            return np.zeros(0, dtype=np.float32)
        idx = np.arange(self.pos, n - 1, self.step)
        if len(idx) == 0:
            self.pos -= n - 1
            self.tail = data[-1:]
            return np.zeros(0, dtype=np.float32)
        i0 = idx.astype(np.int64)
        frac = idx - i0
        out = data[i0] * (1.0 - frac) + data[i0 + 1] * frac
        self.pos = idx[-1] + self.step - (n - 1)
        self.tail = data[-1:]
        return out.astype(np.float32)


class PcmConverter:
    """Turns a stream of PCM16 chunks at any rate/channel count into 16 kHz mono PCM16 chunks.

    Resampling is stateful (:class:`StreamResampler`), so the result does not depend on how the stream was
    chunked; an odd byte or a partial frame is carried to the next chunk.

    Args:
        rate: the input sample rate in Hz.
        channels: the number of interleaved input channels.
    """

    def __init__(self, rate: int = SAMPLE_RATE, channels: int = 1):
        self.rate = check_rate(rate)
        if channels not in (1, 2, 3, 4, 5, 6, 7, 8):
            raise AudioError(f"channels must be 1–8, got {channels!r}")
        self.channels = int(channels)
        self._carry = b""
        self._resampler = StreamResampler(self.rate) if self.rate != SAMPLE_RATE else None

    @property
    def passthrough(self) -> bool:
        """True when the input is already 16 kHz mono."""
        return self.rate == SAMPLE_RATE and self.channels == 1

    def convert(self, chunk: bytes) -> bytes:
        """Convert one chunk; returns 16 kHz mono PCM16 (possibly empty)."""
        data = self._carry + bytes(chunk)
        frame = 2 * self.channels
        usable = len(data) - len(data) % frame
        self._carry = data[usable:]
        data = data[:usable]
        if not data:
            return b""
        if self.passthrough:
            return data
        samples = downmix(pcm16_to_float(data), self.channels)
        if self._resampler is not None:
            samples = self._resampler.process(samples)
        return float_to_pcm16(samples)


_FFMPEG_TIMEOUT_S = 30


def _decode_with_ffmpeg(data: bytes) -> np.ndarray:
    ffmpeg = shutil.which("ffmpeg")
    if not ffmpeg:
        raise AudioError("unsupported WAV encoding (install ffmpeg to read it)")
    proc = subprocess.run(
        [ffmpeg, "-hide_banner", "-loglevel", "error", "-i", "pipe:0", "-f", "s16le", "-ac", "1",
         "-ar", str(SAMPLE_RATE), "pipe:1"],
        input=data, capture_output=True, timeout=_FFMPEG_TIMEOUT_S, check=False,
    )
    if proc.returncode != 0 or not proc.stdout:
        raise AudioError("not a readable audio file")
    return pcm16_to_float(proc.stdout)


def decode_wav(data: bytes) -> Audio:
    """Decode WAV bytes (any common rate, 1–8 channels, 8/16/24/32-bit PCM; other encodings via ffmpeg).

    Args:
        data: the complete file content.

    Raises:
        AudioError: empty input, not a WAV, truncated header, no samples.
    """
    if not data:
        raise AudioError("empty audio (0 bytes)")
    if len(data) < 12 or data[:4] not in (b"RIFF", b"RIFX") or data[8:12] != b"WAVE":
        raise AudioError("not a WAV file (no RIFF/WAVE header)")
    try:
        with wave.open(io.BytesIO(data), "rb") as wf:
            rate, channels, width = wf.getframerate(), wf.getnchannels(), wf.getsampwidth()
            raw = wf.readframes(wf.getnframes())
    except (wave.Error, EOFError, ValueError) as exc:
        if "unknown format" in str(exc):  # float / extensible WAVs the stdlib cannot read
            samples = _decode_with_ffmpeg(data)
            if len(samples) == 0:
                raise AudioError("the WAV file contains no samples") from None
            return Audio(samples, SAMPLE_RATE, 1)
        raise AudioError(f"truncated or damaged WAV file ({exc})") from None
    if channels < 1 or width not in (1, 2, 3, 4):
        raise AudioError(f"unsupported WAV layout ({channels} channels, {8 * width}-bit)")
    check_rate(rate)
    frame = channels * width
    raw = raw[: len(raw) - len(raw) % frame]
    if not raw:
        raise AudioError("the WAV file contains no samples (empty or truncated)")
    if width == 1:
        samples = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 2:
        samples = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    elif width == 3:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        ints = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        ints = np.where(ints & 0x800000, ints - 0x1000000, ints)
        samples = ints.astype(np.float32) / 8388608.0
    else:
        samples = np.frombuffer(raw, dtype="<i4").astype(np.float32) / 2147483648.0
    mono = downmix(samples, channels)
    return Audio(resample(mono, rate), rate, channels)


def read_wav(path: str | Path) -> Audio:
    """Read and decode a WAV file from disk.

    Args:
        path: the file to read.

    Raises:
        AudioError: the file is missing or not usable audio.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise AudioError(f"{p}: cannot read ({exc.strerror or exc})") from None
    return decode_wav(data)


def write_wav(path: str | Path, samples: np.ndarray, rate: int = SAMPLE_RATE) -> None:
    """Write mono float samples as a 16-bit PCM WAV (used by the fixture script and ``asr_keep_audio``).

    Args:
        path: the file to write.
        samples: mono float32 samples.
        rate: their sample rate in Hz.
    """
    with wave.open(str(path), "wb") as wf:
        wf.setnchannels(1)
        wf.setsampwidth(2)
        wf.setframerate(rate)
        wf.writeframes(float_to_pcm16(samples))


def rms_dbfs(samples: np.ndarray) -> float:
    """Root-mean-square level of float samples in dBFS (-120 for silence)."""
    if len(samples) == 0:
        return -120.0
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return 20.0 * np.log10(max(rms, 1e-6))
