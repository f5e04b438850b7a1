"""金牛区's streets (街道) and the matching of a free-text address to the street that serves it.

Matching, most specific first: a street named outright (``营门口街道``) → a community (``花照壁社区``) → a
landmark → a road that belongs to one street only. A road that crosses several streets (``蜀汉路``) gives
the candidates instead of a guess; an address in another district gives ``outside`` so nobody is sent to the
wrong side of town.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from knowledge.halls import STREETS_FILE  # the one list of streets (knowledge/data/jinniu_streets.yml)

#: Chengdu's other districts/counties: an address naming one is not 金牛区's.
OTHER_DISTRICTS = ("锦江区", "青羊区", "武侯区", "成华区", "龙泉驿区", "青白江区", "新都区", "温江区", "双流区",
                   "郫都区", "新津区", "高新区", "天府新区", "简阳", "都江堰", "彭州", "邛崃", "崇州", "金堂",
                   "大邑", "蒲江")


#: What a written address has: a number, a road, a building, a housing estate, a village (a time or a wish
#: written where the address was asked — «我想改成明天下午» — has none).
_ADDRESS_MARKS = re.compile(r"\d|路|街|巷|大道|号|栋|幢|单元|楼|室|小区|花园|苑|院|村|组|社区|大厦|公寓|广场|家园|新城|附")


def looks_like_address(text: str) -> bool:
    """Whether free text has anything of a written address (:data:`_ADDRESS_MARKS`)."""
    return bool(_ADDRESS_MARKS.search(text or ""))


@dataclass(frozen=True)
class Street:
    """One street (街道).

    Attributes:
        name: full name (``营门口街道``).
        aliases: short forms (``营门口``).
        roads: roads, streets and lanes in it.
        communities: its communities (社区).
        landmarks: well-known places in it.
    """

    name: str
    aliases: tuple[str, ...] = ()
    roads: tuple[str, ...] = ()
    communities: tuple[str, ...] = ()
    landmarks: tuple[str, ...] = ()

    @property
    def service_centre(self) -> str:
        """Its 便民服务中心."""
        return f"{self.name}便民服务中心"


@dataclass
class StreetMatch:
    """The result of matching an address.

    Attributes:
        street: the matched street, or ``None``.
        candidates: streets the address could belong to when it is ambiguous.
        reason: ``street`` / ``community`` / ``landmark`` / ``road`` (matched by), ``ambiguous``, ``outside``
            (another district) or ``unknown``.
        term: the word that decided.
    """

    street: Street | None
    candidates: list[Street] = field(default_factory=list)
    reason: str = "unknown"
    term: str = ""


def _norm(text: str) -> str:
    t = re.sub(r"\s+", "", text or "")
    return t.replace("成都市", "").replace("四川省", "").replace("金牛区", "")


class StreetDirectory:
    """The streets of 金牛区.

    Args:
        streets: the streets.
    """

    def __init__(self, streets: list[Street]):
        self.streets = streets
        self._by_name = {s.name: s for s in streets}
        # term -> streets (a road may belong to several)
        self._terms: list[tuple[str, str, list[Street]]] = []
        index: dict[tuple[str, str], list[Street]] = {}
        for s in streets:
            for kind, terms in (("street", (s.name,)), ("community", s.communities),
                                ("landmark", s.landmarks), ("road", s.roads)):
                for term in terms:
                    index.setdefault((kind, term), [])
                    if s not in index[(kind, term)]:
                        index[(kind, term)].append(s)
        order = {"street": 0, "community": 1, "landmark": 2, "road": 3}
        self._terms = sorted(((k, t, ss) for (k, t), ss in index.items()),
                             key=lambda x: (order[x[0]], -len(x[1])))

    @classmethod
    def load(cls, path: Path = STREETS_FILE) -> "StreetDirectory":
        """Read the streets YAML.

        Raises:
            ValueError: a malformed file.
        """
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        items = data.get("streets")
        if not isinstance(items, list) or not items:
            raise ValueError(f"{path}: expected `streets:` with a list")
        out = []
        for i, it in enumerate(items, 1):
            if not isinstance(it, dict) or not str(it.get("name", "")).endswith("街道"):
                raise ValueError(f"{path}: entry {i}: `name` must be a street name ending in 街道")
            out.append(Street(name=it["name"], aliases=tuple(it.get("aliases") or ()),
                              roads=tuple(it.get("roads") or ()), communities=tuple(it.get("communities") or ()),
                              landmarks=tuple(it.get("landmarks") or ())))
        return cls(out)

    @property
    def names(self) -> list[str]:
        """The street names."""
        return [s.name for s in self.streets]

    def get(self, name: str) -> Street | None:
        """A street by full name or alias (``营门口`` → 营门口街道)."""
        n = (name or "").strip()
        if n in self._by_name:
            return self._by_name[n]
        for s in self.streets:
            if n in s.aliases or n + "街道" == s.name:
                return s
        return None

    def match(self, address: str) -> StreetMatch:
        """The street serving a free-text address.

        Args:
            address: e.g. ``"成都市金牛区营康西路12号附3号"``, ``"花照壁社区5栋"``.
        """
        raw = address or ""
        for d in OTHER_DISTRICTS:
            if d in raw:
                return StreetMatch(None, [], "outside", d)
        t = _norm(raw)
        if not t:
            return StreetMatch(None)
        # the longest road name wins over a shorter one contained in it (抚琴西南路 over 抚琴西路 …)
        for kind, term, streets in self._terms:
            if term in t:
                if kind == "road":
                    longer = [(k2, t2, s2) for k2, t2, s2 in self._terms
                              if k2 == "road" and len(t2) > len(term) and term in t2 and t2 in t]
                    if longer:
                        kind, term, streets = longer[0]
                if len(streets) == 1:
                    return StreetMatch(streets[0], [streets[0]], kind, term)
                return StreetMatch(None, list(streets), "ambiguous", term)
        for s in self.streets:  # short alias as a last resort ("在营门口那边")
            for a in s.aliases:
                if len(a) >= 2 and a in t:
                    return StreetMatch(s, [s], "street", a)
        return StreetMatch(None)
