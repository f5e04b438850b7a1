"""The app's speech stack (engine + KB lexicon + pinyin correction), loaded once and shared by every channel that
takes speech: the kiosk's WebSockets and WeChat voice messages. It lives on ``services.voice``; no channel has to
be used first for another to have it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.container import keep_loaded
from assistant.logging import get_logger, log_event
from assistant.settings import Settings

log = get_logger(__name__)


@dataclass
class VoiceRuntime:
    """The loaded speech stack of one app: engine + lexicon + corrector (``voice.factory.VoicePipeline``)."""

    pipeline: Any
    engine_name: str
    load_s: float

    @property
    def engine(self) -> Any:
        return self.pipeline.engine


def denoise_config(settings: Settings) -> Any:
    """The noise suppression the settings ask for (``asr_denoise``, ``asr_denoise_atten_db``)."""
    from voice.denoise import DenoiseConfig

    return DenoiseConfig(kind=settings.asr_denoise, atten_lim_db=settings.asr_denoise_atten_db)


def build_voice(settings: Settings, kb: Any = None) -> VoiceRuntime:
    """Load the engine chosen by ``settings.asr_engine`` with the KB lexicon (blocking; seconds).

    Args:
        settings: the app settings (``asr_engine``, ``vosk_model_path``, ``whisper_model_dir``, ``asr_denoise``,
            ``asr_rehearings``, ``cache_dir``).
        kb: the loaded KnowledgeBase (``None``: only the built-in service terms).
    """
    from voice.factory import VoicePipeline, create_engine
    from voice.lexicon import Lexicon

    t0 = time.perf_counter()
    lexicon = Lexicon.from_kb(kb) if kb is not None else Lexicon.base()
    engine = create_engine(settings.asr_engine, Path(settings.cache_dir), lexicon,
                           vosk_model_path=settings.vosk_model_path, whisper_dir=settings.whisper_model_dir,
                           denoise=denoise_config(settings), rehearings=settings.asr_rehearings)
    runtime = VoiceRuntime(VoicePipeline(engine, lexicon), engine.name, time.perf_counter() - t0)
    log_event(log, "voice.engine.loaded", engine=engine.name, s=round(runtime.load_s, 2), terms=len(lexicon))
    return runtime


_build_lock = threading.Lock()


def voice_runtime(services: Any) -> VoiceRuntime:
    """The app's voice runtime, built on first use and kept in ``services.voice`` (blocking)."""
    rt = services.voice
    if rt is not None:
        return rt
    with _build_lock:
        rt = services.voice
        if rt is None:
            rt = build_voice(services.settings, services.kb)
            services.voice = rt
            keep_loaded()
    return rt




def warm_voice(services: Any) -> None:
    """Start loading the voice runtime in a background thread (no-op when loaded or loading). Errors are logged;
    the WebSocket then reports them with close code 1013."""
    if services.voice is not None or services.voice_warming:
        return
    services.voice_warming = True

    def _load() -> None:
        try:
            voice_runtime(services)
        except Exception as exc:  # noqa: BLE001 - reported per connection
            log_event(log, "voice.engine.warm_failed", error=f"{type(exc).__name__}: {str(exc)[:200]}")
        finally:
            services.voice_warming = False

    threading.Thread(target=_load, name="voice-warm", daemon=True).start()
