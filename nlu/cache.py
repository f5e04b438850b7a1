"""Trained parts of the NLU cached on disk next to the index: read when present and readable, else built and kept."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


def load_or_build(path: Path | None, load: Callable[[Path], T], build: Callable[[], T | None],
                  save: Callable[[T, Path], None]) -> tuple[T | None, bool]:
    """The object cached at ``path`` (``load``), else ``build()``, saved there when it gives one.

    A file that cannot be read (``OSError``, ``ValueError``, ``KeyError``, ``TypeError``) is logged and rebuilt;
    ``path`` ``None`` builds without a cache.

    Returns:
        ``(object or None, from_cache)``.
    """
    if path is not None and path.is_file():
        try:
            return load(path), True
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("nlu.cache.unreadable path=%s error=%s", path, exc)
    built = build()
    if built is not None and path is not None:
        save(built, path)
    return built, False
