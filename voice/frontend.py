"""Front-end signal processing for a noisy service hall: voice activity detection, hum removal, level normalisation
and (measured, off by default) spectral-gating noise suppression.

* :class:`SileroVad` — the Silero VAD network (ONNX, shipped inside the ``silero-vad`` wheel; run here with
  onnxruntime and numpy only) gives a speech probability per 32 ms frame. It tells speech from the babble of other
  voices, hum and room noise far better than an energy threshold, which a 5–15 dB babble floor defeats.
  :class:`EnergyVad` is the fallback when the package is missing (same interface).
* :class:`VadEndpointer` — streaming start/end of an utterance from those probabilities (hysteresis), so an
  utterance is cut out of the stream and ended without the talk button.
* :func:`condition` — what is done to an utterance before it is decoded: a high-pass filter (mains hum at
  50/100 Hz and rumble; speech carries little below 100 Hz); optionally a level normalisation of the
  speech-active part to −20 dBFS with a peak limit. Measured on the noisy set (``bench/voice.py``): see
  :class:`FrontendConfig` and docs/benchmarks.md for what each step buys; only the high-pass is on.
* :func:`spectral_gate` — stationary spectral gating (noise profile from the non-speech frames). Babble is not
  stationary, and on the noisy set gating made recognition worse, so :func:`condition` leaves it off unless asked.

Everything here is generic signal processing: no parameter is tuned to a particular clip.
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voice.audio import SAMPLE_RATE

log = logging.getLogger(__name__)

#: Samples per VAD frame (Silero's window at 16 kHz: 32 ms).
VAD_FRAME = 512
_CONTEXT = 64


def _highpass_sos(cutoff_hz: float = 100.0) -> np.ndarray:
    from scipy.signal import butter

    return butter(4, cutoff_hz, btype="highpass", fs=SAMPLE_RATE, output="sos")


_HP_SOS = _highpass_sos()


def silero_model_path() -> Path | None:
    """The Silero VAD ONNX model inside the installed ``silero-vad`` wheel (None when not installed)."""
    try:
        from importlib.resources import files

        p = Path(str(files("silero_vad").joinpath("data").joinpath("silero_vad.onnx")))
    except (ModuleNotFoundError, OSError, TypeError):
        return None
    return p if p.is_file() else None


class SileroVad:
    """Speech probability per 32 ms frame with the Silero VAD network (onnxruntime, one thread).

    The ONNX session is shared (loaded once per process); :meth:`stream` gives per-session state.
    """

    _session = None
    _lock = threading.Lock()
    name = "silero"

    def __init__(self, model_path: Path | None = None):
        path = model_path or silero_model_path()
        if path is None:
            raise RuntimeError("silero-vad is not installed")
        with SileroVad._lock:
            if SileroVad._session is None:
                import onnxruntime

                opts = onnxruntime.SessionOptions()
                opts.inter_op_num_threads = 1
                opts.intra_op_num_threads = 1
                opts.log_severity_level = 3
                SileroVad._session = onnxruntime.InferenceSession(str(path), sess_options=opts,
                                                                  providers=["CPUExecutionProvider"])
        self.session = SileroVad._session
        self.reset()

    def reset(self) -> None:
        """Forget the recurrent state (a new stream)."""
        self._state = np.zeros((2, 1, 128), dtype=np.float32)
        self._context = np.zeros((1, _CONTEXT), dtype=np.float32)
        self._rest = np.zeros(0, dtype=np.float32)

    def frame_prob(self, frame: np.ndarray) -> float:
        """The speech probability of one 512-sample frame (the recurrent state carries over)."""
        x = np.concatenate([self._context, frame.reshape(1, VAD_FRAME).astype(np.float32)], axis=1)
        out, self._state = self.session.run(None, {"input": x, "state": self._state,
                                                   "sr": np.array(SAMPLE_RATE, dtype=np.int64)})
        self._context = x[:, -_CONTEXT:]
        return float(out.reshape(-1)[0])

    def feed(self, samples: np.ndarray) -> np.ndarray:
        """Probabilities of the complete frames in ``samples`` (a partial frame is kept for the next call)."""
        data = np.concatenate([self._rest, samples]) if len(self._rest) else samples
        n = len(data) // VAD_FRAME
        self._rest = data[n * VAD_FRAME:].astype(np.float32)
        return np.array([self.frame_prob(data[i * VAD_FRAME:(i + 1) * VAD_FRAME]) for i in range(n)],
                        dtype=np.float32)

    def probs(self, samples: np.ndarray) -> np.ndarray:
        """Probabilities for a whole recording (state reset before and after)."""
        self.reset()
        p = self.feed(samples)
        self.reset()
        return p


class EnergyVad:
    """Fallback VAD without a model: frame level above an adaptive noise floor, mapped to a 0–1 "probability"."""

    name = "energy"

    def __init__(self, margin_db: float = 10.0, min_db: float = -50.0):
        self.margin_db, self.min_db = margin_db, min_db
        self.reset()

    def reset(self) -> None:
        self.noise_db = -70.0
        self._rest = np.zeros(0, dtype=np.float32)

    def feed(self, samples: np.ndarray) -> np.ndarray:
        data = np.concatenate([self._rest, samples]) if len(self._rest) else samples
        n = len(data) // VAD_FRAME
        self._rest = data[n * VAD_FRAME:].astype(np.float32)
        out = np.zeros(n, dtype=np.float32)
        for i in range(n):
            f = data[i * VAD_FRAME:(i + 1) * VAD_FRAME].astype(np.float64)
            db = 10 * np.log10(max(float(np.mean(f * f)), 1e-12))
            over = db - max(self.min_db, self.noise_db + self.margin_db)
            out[i] = 1.0 / (1.0 + np.exp(-over / 2.0))
            self.noise_db = db if db < self.noise_db else 0.98 * self.noise_db + 0.02 * db
        return out

    def probs(self, samples: np.ndarray) -> np.ndarray:
        self.reset()
        p = self.feed(samples)
        self.reset()
        return p


def make_vad(kind: str = "auto"):
    """``"silero"`` (raises when missing), ``"energy"``, or ``"auto"`` (Silero when installed, else energy)."""
    if kind == "energy":
        return EnergyVad()
    try:
        return SileroVad()
    except Exception as exc:  # noqa: BLE001 - optional model; the energy VAD still works
        if kind == "silero":
            raise
        log.warning("voice.vad.fallback reason=%s", exc)
        return EnergyVad()


@dataclass
class VadConfig:
    """Hysteresis of the streaming endpointer (frames are 32 ms).

    Attributes:
        start_prob / end_prob: a frame is speech above ``start_prob``; speech goes on until the probability falls
            below ``end_prob`` (Silero's recommended pair: 0.5 / 0.35).
        min_speech_s: speech needed before an utterance counts (a cough, a click do not).
        end_silence_s: non-speech after speech that ends the utterance (people pause ~0.6 s at a comma).
        max_utterance_s: hard cap (whisper's window is 30 s).
        pad_s: audio kept before the first and after the last speech frame.
        margin_db: a speech frame must also be this much louder than the hall's background level (the 20th
            percentile of the last ``floor_window_s`` of frame levels): the babble of other visitors is speech
            to the VAD too, but the person at the kiosk is nearer and louder.
        floor_window_s: how much recent audio the background level is taken from.
    """

    start_prob: float = 0.5
    end_prob: float = 0.35
    min_speech_s: float = 0.25
    end_silence_s: float = 0.8
    max_utterance_s: float = 15.0
    pad_s: float = 0.3
    margin_db: float = 6.0
    floor_window_s: float = 3.0


class VadEndpointer:
    """Streaming utterance detection on VAD probabilities (same role as :class:`voice.engine.Endpointer`).

    ``feed(samples)`` returns ``None`` while the utterance goes on, or how many of ``samples`` belong to the
    utterance that just ended; the caller then calls :meth:`reset` and feeds the rest again (the VAD does not see
    those samples twice: their probabilities are kept). ``first_speech_sample`` / ``last_speech_sample`` locate
    the speech relative to the start of the current utterance's audio.
    """

    def __init__(self, vad=None, config: VadConfig | None = None):
        self.vad = vad if vad is not None else make_vad()
        self.cfg = config or VadConfig()
        f = VAD_FRAME / SAMPLE_RATE
        self.min_speech_frames = max(1, round(self.cfg.min_speech_s / f))
        self.end_silence_frames = max(1, round(self.cfg.end_silence_s / f))
        self.max_frames = round(self.cfg.max_utterance_s / f)
        self.vad.reset()
        self._queue: list[tuple[int, float]] = []  # (stream frame index, probability) not yet used
        self._next_frame = 0   # stream index of the next frame the VAD will produce
        self._call_pos = 0     # stream sample of the first sample of the next feed() call
        self._skip = 0         # samples at the start of the next call that the VAD has already seen
        self._utt_start = 0    # stream sample where the current utterance starts
        self.probs: list[float] = []  # this utterance's frame probabilities
        self._levels: list[float] = []  # recent frame levels (dB), for the background level
        self._floor_n = max(8, round(self.cfg.floor_window_s / f))
        self._pending = np.zeros(0, dtype=np.float32)  # samples not yet in a whole frame (for levels)
        self.vad_gain = 10 ** (12 / 20)
        self._zi = np.zeros((_HP_SOS.shape[0], 2))
        self.reset()

    def reset(self) -> None:
        """Start a new utterance (the VAD's recurrent state carries on: it is one audio stream)."""
        self._utt_start = self._call_pos
        self.frames = 0
        self.speech_frames = 0
        self.trailing_silence = 0
        self._first = -1
        self._last = -1
        self._active = False
        self.probs = []

    @property
    def in_speech(self) -> bool:
        return self.speech_frames >= self.min_speech_frames

    @property
    def trailing_silence_s(self) -> float:
        return self.trailing_silence * VAD_FRAME / SAMPLE_RATE

    @property
    def first_speech_sample(self) -> int:
        return max(0, self._first * VAD_FRAME - self._utt_start) if self._first >= 0 else 0

    @property
    def last_speech_sample(self) -> int:
        return max(0, (self._last + 1) * VAD_FRAME - self._utt_start) if self._last >= 0 else 0

    def feed(self, samples: np.ndarray) -> int | None:
        call_start = self._call_pos
        skip = min(self._skip, len(samples))
        self._skip = 0
        fresh = samples[skip:]
        data = np.concatenate([self._pending, fresh]) if len(self._pending) else fresh
        n = len(data) // VAD_FRAME
        levels = []
        for j in range(n):
            fr = data[j * VAD_FRAME:(j + 1) * VAD_FRAME].astype(np.float64)
            levels.append(10 * math.log10(max(float(np.mean(fr * fr)), 1e-12)))
        self._pending = data[n * VAD_FRAME:].astype(np.float32)
        # the VAD's input only: a fixed +12 dB with a soft limiter. Silero under-reads quiet speech (a visitor a
        # metre away), and its recurrent state is upset by a gain that changes over time (measured: an AGC that
        # lowered its gain when speech began hid the speech), so the gain is constant.
        # and a streaming high-pass first (mains hum and rumble make Silero miss speech: recall 0.54 → 0.61 on
        # the noisy set's speech frames with both)
        if len(fresh):
            from scipy.signal import sosfilt

            hp, self._zi = sosfilt(_HP_SOS, fresh.astype(np.float64), zi=self._zi)
            new = self.vad.feed(np.tanh(hp * self.vad_gain).astype(np.float32))
        else:
            new = np.zeros(0, dtype=np.float32)
        for p, db in zip(new, levels):
            self._queue.append((self._next_frame, float(p), db))
            self._next_frame += 1
        self._call_pos = call_start + len(samples)
        while self._queue:
            k, p, db = self._queue.pop(0)
            self.probs.append(p)
            self._levels.append(db)
            if len(self._levels) > self._floor_n:
                del self._levels[0]
            loud = len(self._levels) < 8 or db >= float(np.percentile(self._levels, 20)) + self.cfg.margin_db
            voiced = p >= self.cfg.start_prob or (self._active and p >= self.cfg.end_prob)
            self._active = bool(voiced)
            # an utterance starts on frames that are speech to the VAD and louder than the hall; once started it
            # goes on while the VAD hears speech or the level stays up with some speech evidence (Silero misses
            # frames of a voice under babble)
            if voiced and loud or (self.in_speech and (voiced or (loud and p >= 0.15))):
                self.speech_frames += 1
                self.trailing_silence = 0
                self._last = k
                if self._first < 0:
                    self._first = k
            else:
                self.trailing_silence += 1
                if not self.in_speech and self.trailing_silence > 3:
                    # a blip shorter than min_speech (a cough, a click): forget it
                    self.speech_frames = 0
                    self._first = -1
            self.frames += 1
            done = (self.in_speech and self.trailing_silence >= self.end_silence_frames) \
                or self.frames >= self.max_frames
            if done:
                used = max(0, min(len(samples), (k + 1) * VAD_FRAME - call_start))
                self._skip = len(samples) - used
                self._call_pos = call_start + used
                return used
        return None


def speech_bounds(probs: np.ndarray, cfg: VadConfig | None = None) -> tuple[int, int] | None:
    """(start, end) sample of the speech in a whole recording by its VAD probabilities (None: no speech)."""
    cfg = cfg or VadConfig()
    speech = probs >= cfg.start_prob
    if speech.sum() < max(1, round(cfg.min_speech_s * SAMPLE_RATE / VAD_FRAME)):
        return None
    idx = np.nonzero(speech)[0]
    pad = int(cfg.pad_s * SAMPLE_RATE)
    return max(0, int(idx[0]) * VAD_FRAME - pad), (int(idx[-1]) + 1) * VAD_FRAME + pad


# ------------------------------------------------------------------------------------------------------------
# conditioning


def highpass(x: np.ndarray, cutoff_hz: float = 100.0) -> np.ndarray:
    """4th-order Butterworth high-pass (removes 50 Hz hum and its 100 Hz harmonic, rumble, DC)."""
    if len(x) < 64:
        return x
    from scipy.signal import butter, sosfiltfilt

    sos = butter(4, cutoff_hz, btype="highpass", fs=SAMPLE_RATE, output="sos")
    return sosfiltfilt(sos, x).astype(np.float32)


def normalize_level(x: np.ndarray, target_dbfs: float = -20.0, peak: float = 0.95,
                    probs: np.ndarray | None = None) -> np.ndarray:
    """Scale so the speech-active part (VAD frames, or the loudest frames) has RMS ``target_dbfs``; then limit
    the peak to ``peak`` (soft: a gain that would clip is reduced)."""
    n = len(x) // VAD_FRAME
    if n == 0:
        return x
    frames = x[: n * VAD_FRAME].reshape(n, VAD_FRAME).astype(np.float64)
    power = np.mean(frames ** 2, axis=1)
    if probs is not None and len(probs) >= n and np.any(probs[:n] >= 0.5):
        active = power[probs[:n] >= 0.5]
    else:
        active = power[power >= np.percentile(power, 60)]
    rms = float(np.sqrt(np.mean(active))) if len(active) else 0.0
    if rms < 1e-6:
        return x
    gain = 10 ** (target_dbfs / 20) / rms
    top = float(np.max(np.abs(x))) * gain
    if top > peak:
        gain *= peak / top
    return (x * gain).astype(np.float32)


def spectral_gate(x: np.ndarray, noise: np.ndarray | None = None, reduce_db: float = 12.0,
                  threshold_sd: float = 1.5, n_fft: int = 512, hop: int = 128) -> np.ndarray:
    """Stationary spectral gating: bins below (noise mean + ``threshold_sd`` · sd) in dB are attenuated by
    ``reduce_db`` (smoothed mask). ``noise``: a noise-only excerpt (default: the quietest 20 % of frames)."""
    from scipy.signal import istft, stft

    if len(x) < n_fft * 2:
        return x
    _, _, z = stft(x, fs=SAMPLE_RATE, nperseg=n_fft, noverlap=n_fft - hop)
    mag_db = 20 * np.log10(np.abs(z) + 1e-10)
    if noise is not None and len(noise) >= n_fft * 2:
        _, _, zn = stft(noise, fs=SAMPLE_RATE, nperseg=n_fft, noverlap=n_fft - hop)
        ndb = 20 * np.log10(np.abs(zn) + 1e-10)
    else:
        energy = mag_db.mean(axis=0)
        ndb = mag_db[:, energy <= np.percentile(energy, 20)]
    thresh = ndb.mean(axis=1, keepdims=True) + threshold_sd * ndb.std(axis=1, keepdims=True)
    mask = (mag_db > thresh).astype(np.float64)
    # smooth the mask over 3 bins × 5 frames so it does not make musical noise
    from scipy.ndimage import uniform_filter

    mask = uniform_filter(mask, size=(3, 5))
    floor = 10 ** (-reduce_db / 20)
    gain = floor + (1 - floor) * mask
    _, y = istft(z * gain, fs=SAMPLE_RATE, nperseg=n_fft, noverlap=n_fft - hop)
    return y[: len(x)].astype(np.float32)


@dataclass
class FrontendConfig:
    """Which conditioning steps run before decoding. Default: the high-pass only — on the noisy set (36 clips,
    n-best decision top-1 / top-3) Silero VAD without processing gave 38.9 / 41.7 %, + high-pass 41.7 / 44.4 %,
    + level normalisation instead 38.9 / 44.4 %, both 33.3 / 44.4 %, both + spectral gating 36.1 / 47.2 %:
    differences of one or two clips, so only the cheap, physically motivated hum filter is kept (whisper's
    log-mel normalisation already makes it level-invariant; gating costs ~0.1 RTF and babble is not stationary)."""

    highpass: bool = True
    normalize: bool = False
    gate: bool = False


def condition(x: np.ndarray, cfg: FrontendConfig | None = None, probs: np.ndarray | None = None) -> np.ndarray:
    """Prepare one utterance for the recogniser (see the module docstring)."""
    cfg = cfg or FrontendConfig()
    y = x.astype(np.float32)
    if cfg.highpass:
        y = highpass(y)
    if cfg.gate:
        y = spectral_gate(y)
    if cfg.normalize:
        y = normalize_level(y, probs=probs)
    return y
