"""Where a place is, seen from 成都 (``data/places.yml``): our own city, elsewhere in 四川, or another province.

Imports nothing else from the project.
"""

from __future__ import annotations

import re
from enum import Enum
from functools import lru_cache
from pathlib import Path

import yaml

PLACES_FILE = Path(__file__).resolve().parent / "data" / "places.yml"

__all__ = ["PLACES_FILE", "Region", "Places"]


class Region(str, Enum):
    """Where a place is."""

    LOCAL = "local"  # 成都 (a 户口 of our own city)
    PROVINCE = "province"  # 四川, outside 成都
    OTHER = "other"  # another province


class Places:
    """The place names of ``data/places.yml`` by region.

    Args:
        path: the file.
    """

    def __init__(self, path: Path = PLACES_FILE):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        self.regions: dict[str, Region] = {}
        for region in Region:
            for name in data.get(region.value) or []:
                self.regions.setdefault(str(name), region)
        names = sorted(self.regions, key=len, reverse=True)
        #: the names, longest first (a road or a street named after a place is no place one comes from: 西安路街道)
        self.pattern = re.compile(f"({'|'.join(map(re.escape, names))})(?![路街道巷])")

    @classmethod
    @lru_cache(maxsize=1)
    def load(cls) -> "Places":
        """The project's places, read once."""
        return cls()

    def found(self, text: str) -> list[tuple[int, str, Region]]:
        """The places ``text`` names, in order: (where, the name, its region)."""
        return [(m.start(), m.group(1), self.regions[m.group(1)]) for m in self.pattern.finditer(text)]
