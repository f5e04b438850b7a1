"""The service halls' own knowledge: the 金牛区政务服务中心 and every street's 便民服务中心 — address, hours (lunch
break, weekend, holiday, 延时服务), transport, parking, 取号/预约, 帮办代办, 24-hour self-service, 证照邮寄 and
accessibility (docs/knowledge.md, "The halls").

Data: ``knowledge/data/halls.yml``. The streets themselves (names, short aliases, roads …) live in one place only,
``knowledge/data/jinniu_streets.yml``, which the halls file names in ``streets_file``; every street there must have
exactly one 便民服务中心 here. ``street_defaults`` holds what all street centres share (a hall's own value wins;
``{street}`` in a default is replaced by the hall's street).

:class:`HallDirectory` loads and looks halls up (``district()``, ``for_street()``, ``find()`` in free text);
:func:`check_halls` reports problems as ``file:line: field: message`` for ``jinxiaoer kb validate``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError

from knowledge.errors import Issue, KBError, display_path
from knowledge.loaders.guides import locate_line, read_yaml_mapping
from knowledge.schema import _Strict

DATA_DIR = Path(__file__).resolve().parent / "data"
HALLS_FILE = DATA_DIR / "halls.yml"
#: The one list of 金牛区's streets (also read by the pre-service street matcher).
STREETS_FILE = DATA_DIR / "jinniu_streets.yml"
#: Files in the KB data folder that are not catalogues or guides (validated by :func:`check_halls`).
HALL_FILE_NAMES = (HALLS_FILE.name, STREETS_FILE.name)
#: The marker of a value nobody has checked yet; a verified hall must not contain it.
PENDING = "待核实"

HallLevel = Literal["区政务大厅", "街道便民服务中心"]


class MetroStop(_Strict):
    """A metro station near the hall."""

    line: str = Field(min_length=1)
    station: str = Field(min_length=1)
    exit: str = ""
    #: How far / how to walk from the exit.
    walk: str = ""


class Hours(_Strict):
    """When the hall is open."""

    weekday: str = Field(min_length=1)
    lunch_break: str = ""
    weekend: str = ""
    holiday: str = ""
    #: 延时服务: after hours / at weekends, usually by appointment.
    extended: str = ""


class Transport(_Strict):
    """How to get there."""

    metro: list[MetroStop] = Field(default_factory=list)
    bus: list[str] = Field(default_factory=list)
    note: str = ""


class Appointment(_Strict):
    """取号 and 预约."""

    #: On site: the queue-ticket machine, what to bring.
    on_site: str = ""
    #: Online / by phone: 天府通办, 四川政务服务网 …
    online: str = ""
    note: str = ""


class Hall(_Strict):
    """One service hall: the district's 政务服务中心 or a street's 便民服务中心."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(min_length=1)
    level: HallLevel
    #: The street it serves (a name in the streets file); none for the district hall.
    street: str | None = None
    #: Short names people say (区政务中心, 营门口便民中心); the street's own aliases count too.
    aliases: list[str] = Field(default_factory=list)
    address: str = Field(min_length=1)
    phone: str = ""
    hours: Hours
    transport: Transport = Field(default_factory=Transport)
    parking: str = ""
    appointment: Appointment = Field(default_factory=Appointment)
    #: 帮办代办.
    proxy: str = ""
    #: 24-hour self-service area.
    self_service: str = ""
    #: 证照邮寄 (mail-back of certificates).
    mail: str = ""
    #: 无障碍: ramps, lifts, wheelchairs, priority windows.
    accessibility: str = ""
    #: 便民设施: copying and printing, ID photos, drinking water, phone charging, toilets.
    facilities: str = ""
    #: False until every field was compared with an official source; shown to citizens as 仅供参考.
    verified: bool = False
    #: What it was checked against, and when (required when verified).
    source_ref: str = ""
    #: Where the content came from / what is still to check.
    source_note: str = ""

    def texts(self) -> list[str]:
        """Every text value of the hall (to look for :data:`PENDING`)."""
        out: list[str] = []

        def walk(value: Any) -> None:
            if isinstance(value, str):
                out.append(value)
            elif isinstance(value, dict):
                for v in value.values():
                    walk(v)
            elif isinstance(value, list):
                for v in value:
                    walk(v)

        walk(self.model_dump(exclude={"source_note", "source_ref"}))
        return out


class _HallsFile(_Strict):
    version: int = 1
    streets_file: str = STREETS_FILE.name
    verified: bool = False
    source_note: str = ""
    street_defaults: dict[str, Any] = Field(default_factory=dict)
    halls: list[Any] = Field(min_length=1)


@dataclass(frozen=True)
class StreetName:
    """A street as the halls need it: its name, short aliases and the line it is on."""

    name: str
    aliases: tuple[str, ...]
    line: int


class HallDataError(KBError):
    """The halls file (or the streets file it names) cannot be loaded; ``issues`` lists every problem."""


def normalize(text: str) -> str:
    """NFKC, no whitespace, lower case: the form hall names and questions are compared in."""
    return "".join(unicodedata.normalize("NFKC", text or "").split()).lower()


def read_streets(path: Path = STREETS_FILE) -> tuple[list[StreetName], list[Issue]]:
    """The street names and aliases of the streets file, with problems as issues.

    Args:
        path: the streets YAML (``streets:`` list of ``name``, ``aliases``, …).
    """
    shown = display_path(path)
    doc = read_yaml_mapping(path, "a mapping with `streets:`")
    if doc.data is None:
        return [], doc.issues
    items = doc.data.get("streets")
    if not isinstance(items, list) or not items:
        return [], [*doc.issues, Issue(shown, 1, "streets", "expected `streets:` with a list of streets")]
    out: list[StreetName] = []
    issues = list(doc.issues)
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        line = locate_line(doc.node, ("streets", i), False)
        name = str(item.get("name", "")) if isinstance(item, dict) else ""
        if not name.endswith("街道"):
            issues.append(Issue(shown, line, f"streets.{i}.name", "a street name ending in 街道 is required"))
            continue
        if name in seen:
            issues.append(Issue(shown, line, f"streets.{i}.name", f"{name} is listed twice (first on line "
                                                                  f"{seen[name]})"))
            continue
        seen[name] = line
        out.append(StreetName(name, tuple(str(a) for a in item.get("aliases") or ()), line))
    return out, issues


@dataclass
class _Parsed:
    halls: list[Hall]
    streets: list[StreetName]
    issues: list[Issue]


def _fill(raw: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """A street hall's mapping with ``street_defaults`` filled in (the hall's own values win)."""
    street = str(raw.get("street") or "")

    def subst(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace("{street}", street)
        if isinstance(value, dict):
            return {k: subst(v) for k, v in value.items()}
        if isinstance(value, list):
            return [subst(v) for v in value]
        return value

    out = dict(raw)
    for key, value in defaults.items():
        if key not in out:
            out[key] = subst(value)
        elif isinstance(value, dict) and isinstance(out[key], dict):
            out[key] = {**subst(value), **out[key]}
    return out


def _parse(path: Path) -> _Parsed:
    path = Path(path)
    shown = display_path(path)
    doc = read_yaml_mapping(path, "a mapping with `halls:`")
    if doc.data is None:
        return _Parsed([], [], doc.issues)
    issues = list(doc.issues)
    node = doc.node
    try:
        top = _HallsFile.model_validate(doc.data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            issues.append(Issue(shown, locate_line(node, loc, err["type"] == "extra_forbidden"),
                                ".".join(map(str, loc)) or "-", _message(err)))
        return _Parsed([], [], issues)
    streets, street_issues = read_streets(path.parent / top.streets_file)
    issues += street_issues
    for key in top.street_defaults:
        if key not in Hall.model_fields or key in ("id", "name", "level", "street", "verified", "source_ref"):
            issues.append(Issue(shown, locate_line(node, ("street_defaults", key), True), f"street_defaults.{key}",
                                "not a field street centres can share"))
    halls: list[tuple[int, Hall]] = []
    for i, raw in enumerate(top.halls):
        if not isinstance(raw, dict):
            issues.append(Issue(shown, locate_line(node, ("halls", i), False), f"halls.{i}",
                                "expected a hall (a mapping of Hall fields)"))
            continue
        data = raw if raw.get("level") == "区政务大厅" else _fill(raw, top.street_defaults)
        try:
            halls.append((i, Hall.model_validate(data)))
        except ValidationError as exc:
            for err in exc.errors():
                loc = tuple(err["loc"])
                from_default = data is not raw and loc and loc[0] not in raw and loc[0] in top.street_defaults
                where = ("street_defaults", *loc) if from_default else ("halls", i, *loc)
                issues.append(Issue(shown, locate_line(node, where, err["type"] == "extra_forbidden"),
                                    ".".join(map(str, where)), _message(err)))
    issues += _cross_check(halls, streets, top, shown, node)
    return _Parsed([h for _, h in halls], streets, issues)


def _message(err: dict[str, Any]) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown field"
    if err["type"] == "literal_error":
        return f"{err['msg']}, got {err.get('input')!r}"
    return err["msg"]


def _cross_check(positioned: list[tuple[int, Hall]], streets: list[StreetName], top: _HallsFile, shown: str,
                 node: yaml.Node) -> list[Issue]:
    issues: list[Issue] = []
    halls = [h for _, h in positioned]
    position = {id(h): i for i, h in positioned}

    def issue(hall: Hall, field: str, message: str) -> Issue:
        i = position[id(hall)]
        return Issue(shown, locate_line(node, ("halls", i, field), False), f"halls.{i}.{field}", message)

    districts = [h for h in halls if h.level == "区政务大厅"]
    halls_line = locate_line(node, ("halls",), True)
    if len(districts) != 1:
        issues.append(Issue(shown, halls_line, "halls", f"exactly one 区政务大厅 is expected, found {len(districts)}"))
    known = {s.name: s for s in streets}
    by_street: dict[str, Hall] = {}
    names: dict[str, Hall] = {}
    ids: dict[str, Hall] = {}
    for h in halls:
        if h.id in ids:
            issues.append(issue(h, "id", f"id {h.id} is also used by {ids[h.id].name}"))
        ids.setdefault(h.id, h)
        for term in [h.name, *h.aliases]:
            other = names.setdefault(normalize(term), h)
            if other is not h:
                issues.append(issue(h, "aliases", f"{term!r} also names {other.name}"))
        if h.level == "区政务大厅" and h.street:
            issues.append(issue(h, "street", "the district hall serves no single street; leave `street` out"))
        if h.level == "街道便民服务中心":
            if not h.street:
                issues.append(issue(h, "street", "a 街道便民服务中心 must name its street"))
            elif streets and h.street not in known:
                issues.append(issue(h, "street", f"unknown street {h.street} (not in {top.streets_file})"))
            elif h.street in by_street:
                issues.append(issue(h, "street", f"{h.street} already has {by_street[h.street].name}"))
            else:
                by_street[h.street] = h
        if h.verified and not h.source_ref:
            issues.append(issue(h, "verified", "verified: true needs source_ref: what it was checked against "
                                               "(and when)"))
        if h.verified and any(PENDING in t for t in h.texts()):
            issues.append(issue(h, "verified", f"verified: true but some field still says {PENDING}"))
    for s in streets:
        if s.name not in by_street:
            issues.append(Issue(shown, halls_line, "halls", f"{s.name} (in {top.streets_file}:{s.line}) has no "
                                                            f"便民服务中心 here"))
    return issues


def check_halls(path: Path = HALLS_FILE) -> list[Issue]:
    """Every problem in the halls file and the streets file it names, sorted by file and line.

    Args:
        path: the halls YAML.
    """
    return sorted(set(_parse(Path(path)).issues), key=lambda i: (i.file, i.line, i.field, i.message))


class HallDirectory:
    """The halls of 金牛区: the district hall and one 便民服务中心 per street.

    Args:
        halls: the halls (exactly one of level 区政务大厅).
        streets: the streets (for their short aliases); default none.
    """

    def __init__(self, halls: list[Hall], streets: list[StreetName] | None = None):
        self.halls = list(halls)
        self._by_id = {h.id: h for h in self.halls}
        self._street_aliases = {s.name: s.aliases for s in streets or ()}
        terms: dict[str, Hall] = {}
        for h in self.halls:
            said = [h.name, *h.aliases]
            if h.street:
                short = h.street.removesuffix("街道")
                said += [h.street, short, *self._street_aliases.get(h.street, ())]
            for t in said:
                if len(normalize(t)) >= 2:
                    terms.setdefault(normalize(t), h)
        # longest first: 金牛区政务服务中心 before 政务服务中心, 营门口街道 before 营门口
        self._terms = sorted(terms.items(), key=lambda kv: -len(kv[0]))

    @classmethod
    def load(cls, path: Path = HALLS_FILE) -> "HallDirectory":
        """Read the halls file (and the streets file it names).

        Raises:
            HallDataError: any error in either file (``issues`` has them all).
        """
        parsed = _parse(Path(path))
        errors = [i for i in parsed.issues if i.severity == "error"]
        if errors:
            raise HallDataError(errors)
        return cls(parsed.halls, parsed.streets)

    def district(self) -> Hall:
        """The 金牛区政务服务中心."""
        return next(h for h in self.halls if h.level == "区政务大厅")

    def street_halls(self) -> list[Hall]:
        """The street centres, in file order."""
        return [h for h in self.halls if h.level == "街道便民服务中心"]

    def get(self, hall_id: str) -> Hall | None:
        """A hall by id."""
        return self._by_id.get(hall_id)

    def for_street(self, name: str) -> Hall | None:
        """The 便民服务中心 of a street, by its full name or a short one (``营门口`` → 营门口街道便民服务中心)."""
        n = normalize(name)
        if not n:
            return None
        for h in self.street_halls():
            assert h.street is not None
            if n in {normalize(x) for x in (h.street, h.street.removesuffix("街道"), h.name,
                                             *self._street_aliases.get(h.street, ()))}:
                return h
        return None

    def find(self, text: str) -> Hall | None:
        """The hall a free-text message mentions (``营门口便民中心几点开门`` → 营门口街道便民服务中心,
        ``区政务中心在哪儿`` → the district hall), or ``None`` when it names none."""
        t = normalize(text)
        for term, hall in self._terms:
            if term in t:
                return hall
        return None
