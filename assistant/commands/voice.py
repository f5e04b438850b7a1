"""``jinxiaoer voice route|transcribe|fetch-model``: speech from the command line.

* ``voice route FILE.wav [FILE.wav …]`` loads the speech model, the KB and the NLU once, then prints one JSON
  line per file: ``{"file", "transcript", "corrected", "intent", "out_of_scope", "matters": [{"code", "name",
  "score"}…]}`` (no Rasa server needed; like ``evaluate`` it uses the NLU + search layer). A file that cannot be
  read gives ``{"file", "error"}`` and the exit code 1 at the end; the other files are still routed.
* ``voice transcribe FILE.wav`` prints the transcript (``--raw``: without the pinyin correction).
* ``voice fetch-model`` downloads the official small Chinese Vosk model (size + MD5 from the published list) to
  ``vosk_model_path`` or ``<cache_dir>/vosk/…``; without internet it says how to supply a model by hand.

Any common WAV works (8–48 kHz, mono or stereo, 8/16/24/32-bit); audio is read into memory only.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from assistant.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``voice`` and its sub-commands to the ``jinxiaoer`` parser.

    Args:
        subparsers: the dispatcher's sub-parser collection.
    """
    p = subparsers.add_parser("voice", help="speech recognition: route / transcribe WAV files, fetch a model",
                              description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="voice_command", metavar="SUBCOMMAND")
    r = sub.add_parser("route", help="WAV → transcript → corrected → NLU intent and matters (one JSON line each)")
    r.add_argument("files", nargs="+", type=Path, help="WAV files")
    r.add_argument("--engine", choices=["auto", "vosk", "whisper"], default=None,
                   help="override settings.asr_engine")
    r.add_argument("-k", type=int, default=3, help="how many matters to list (default 3)")
    r.set_defaults(func=_route)
    t = sub.add_parser("transcribe", help="print what a WAV file says")
    t.add_argument("files", nargs="+", type=Path, help="WAV files")
    t.add_argument("--raw", action="store_true", help="without the pinyin correction to the KB lexicon")
    t.add_argument("--engine", choices=["auto", "vosk", "whisper"], default=None)
    t.set_defaults(func=_transcribe)
    f = sub.add_parser("fetch-model", help="download + checksum the official small Chinese Vosk model")
    f.add_argument("--dest", type=Path, default=None,
                   help="target folder (default: settings.vosk_model_path or <cache_dir>/vosk/<model>)")
    f.add_argument("--name", default=None, help="model name in the Vosk model list (default: the small Chinese one)")
    f.set_defaults(func=_fetch)
    p.set_defaults(func=lambda args, settings: (p.print_help(), 2)[1])


def _pipeline(settings: Settings, engine: str | None, kb: Any) -> Any:
    from voice.factory import VoicePipeline, create_engine
    from voice.lexicon import Lexicon

    lexicon = Lexicon.from_kb(kb) if kb is not None else Lexicon.base()
    from assistant.speech import denoise_config

    eng = create_engine(engine or settings.asr_engine, Path(settings.cache_dir), lexicon,
                        vosk_model_path=settings.vosk_model_path, whisper_dir=settings.whisper_model_dir,
                        denoise=denoise_config(settings), rehearings=settings.asr_rehearings)
    return VoicePipeline(eng, lexicon)


def _load_kb(settings: Settings) -> Any:
    from assistant.container import load_kb

    return load_kb(settings)


def route_files(files: list[Path], pipeline: Any, nlu: Any, k: int = 3) -> list[dict[str, Any]]:
    """Route each file; returns the JSON-able lines (also used by the benchmark).

    Args:
        files: WAV paths.
        pipeline: a :class:`voice.factory.VoicePipeline`.
        nlu: an ``nlu.NLU``.
        k: matters per line.
    """
    from voice.audio import AudioError, read_wav

    out = []
    for path in files:
        try:
            audio = read_wav(path)
        except AudioError as exc:
            out.append({"file": str(path), "error": str(exc)})
            continue
        tr = pipeline.transcribe(audio)
        parse = nlu.parse(tr.corrected) if tr.corrected else {"intent": {"name": "nlu_fallback"},
                                                             "out_of_scope": False, "matters": []}
        out.append({"file": str(path), "transcript": tr.transcript, "corrected": tr.corrected,
                    "intent": (parse.get("intent") or {}).get("name", ""),
                    "out_of_scope": bool(parse.get("out_of_scope")),
                    "matters": [{"code": m["code"], "name": m["name"], "score": round(float(m["score"]), 4)}
                                for m in (parse.get("matters") or [])[:k]],
                    "asr_s": round(tr.asr_s, 3), "audio_s": round(tr.audio_s, 2)})
    return out


def _route(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.container import load_nlu
    from voice.models import ModelError

    t0 = time.perf_counter()
    kb = _load_kb(settings)
    try:
        pipeline = _pipeline(settings, args.engine, kb)
    except ModelError as exc:
        print(f"voice route: {exc}", file=sys.stderr)
        return 2
    nlu = load_nlu(settings, kb)
    print(f"voice route: models loaded in {time.perf_counter() - t0:.1f} s (engine {pipeline.engine.name})",
          file=sys.stderr)
    rc = 0
    for path in args.files:  # one at a time so lines appear as they are ready
        line = route_files([path], pipeline, nlu, args.k)[0]
        rc = rc or (1 if "error" in line else 0)
        print(json.dumps(line, ensure_ascii=False), flush=True)
    return rc


def _transcribe(args: argparse.Namespace, settings: Settings) -> int:
    from voice.audio import AudioError, read_wav
    from voice.models import ModelError

    try:
        pipeline = _pipeline(settings, args.engine, _load_kb(settings))
    except ModelError as exc:
        print(f"voice transcribe: {exc}", file=sys.stderr)
        return 2
    rc = 0
    for path in args.files:
        try:
            tr = pipeline.transcribe(read_wav(path))
        except AudioError as exc:
            print(f"voice transcribe: {path}: {exc}", file=sys.stderr)
            rc = 1
            continue
        text = tr.transcript if args.raw else tr.corrected
        print(f"{path}\t{text}" if len(args.files) > 1 else text, flush=True)
    return rc


def _fetch(args: argparse.Namespace, settings: Settings) -> int:
    from voice.models import VOSK_SMALL_CN, ModelError, default_vosk_model_dir, fetch_vosk_model

    dest = args.dest or settings.vosk_model_path or default_vosk_model_dir(Path(settings.cache_dir))
    try:
        got = fetch_vosk_model(Path(dest), name=args.name or VOSK_SMALL_CN)
    except ModelError as exc:
        print(f"voice fetch-model: {exc}", file=sys.stderr)
        return 1
    print(f"installed {got.name} ({got.size} bytes, MD5 {got.md5}) at {got.path}")
    if settings.vosk_model_path is None and args.dest is not None:
        print(f"set JXE_VOSK_MODEL_PATH={got.path} so the app finds it")
    return 0
