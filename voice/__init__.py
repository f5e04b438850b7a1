"""Speech → text for 金小二: one streaming recognizer interface (:mod:`voice.engine`) with a Vosk engine
(:mod:`voice.vosk_engine`) and an offline faster-whisper engine (:mod:`voice.whisper_engine`), model handling
(:mod:`voice.models`), audio decoding/resampling (:mod:`voice.audio`), the front end for a noisy hall (Silero VAD,
hum filter, level normalisation: :mod:`voice.frontend`), the pinyin correction to the KB lexicon
(:mod:`voice.lexicon`, :mod:`voice.correction`), choosing the matter from the n-best hearings with a routing
callable and asking when unsure (:mod:`voice.decision`), and the vosk-server messages (:mod:`voice.protocol`).
:func:`voice.factory.create_engine` picks the engine.

Imports nothing from the project but the KB's matters (passed in); the engines load lazily (import
``voice.factory`` and friends explicitly — this package imports no model library at import time).
"""
