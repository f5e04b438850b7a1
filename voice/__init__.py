"""Speech → text for 金小二: one streaming recognizer interface (:mod:`voice.engine`) with a Vosk engine
(:mod:`voice.vosk_engine`) and an offline faster-whisper engine (:mod:`voice.whisper_engine`), model handling
(:mod:`voice.models`), audio decoding/resampling (:mod:`voice.audio`) and the pinyin correction to the KB lexicon
(:mod:`voice.lexicon`, :mod:`voice.correction`). :func:`voice.factory.create_engine` picks the engine.

Imports nothing from the project but the KB's matters (passed in); the engines load lazily (import
``voice.factory`` and friends explicitly — this package imports no model library at import time).
"""
