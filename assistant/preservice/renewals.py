"""The renewal catalogue (许可延续事项).

Two layers:

- :func:`derive_renewal_matters` finds the renewal-type matters in the KB (the Sichuan catalogue has about 47:
  延续 / 校验 / 期满换证 / 到期换发 / 续期 / 再注册 / 延期), each a matter whose checklist and online link a
  reminder can carry;
- the district's own list of 26 licences it watches (``data/district_renewals.yml``, editable): the licence
  *types* citizens register, each linked to its renewal matter, with a number format where one is known.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from assistant.preservice.validation import InvalidValue, normalize_licence_number

DATA_DIR = Path(__file__).resolve().parent / "data"
DISTRICT_LIST = DATA_DIR / "district_renewals.yml"

#: A matter name that says "renew / re-validate a licence that expires".
_RENEWAL = re.compile(r"延续|校验|到期|期满|续期|再注册|延期|换证|换发")
#: …but not replacement of a lost document, and not things that merely contain the words.
_NOT_RENEWAL = re.compile(r"补发|补领|补换|遗失|档案|伤残|社会保障卡|教师资格|不动产|延期移交|延期缴纳|延期申报|缓缴")


def is_renewal_name(name: str) -> bool:
    """Whether a matter name is a licence renewal (许可延续) by its wording."""
    return bool(_RENEWAL.search(name)) and not _NOT_RENEWAL.search(name)


def derive_renewal_matters(kb: Any) -> list[Any]:
    """The KB's renewal-type matters: authored guides with ``renews:`` plus every matter whose name says so.

    Args:
        kb: a ``knowledge.kb.KnowledgeBase``.

    Returns:
        The matters, sorted by code.
    """
    out = {m.code: m for m in kb.matters if getattr(m, "renews", None) or is_renewal_name(m.name)}
    return [out[c] for c in sorted(out)]


@dataclass(frozen=True)
class LicenceType:
    """One licence of the district's list.

    Attributes:
        key: stable id (database, uploads).
        name: the licence as citizens call it.
        aliases: other names people type.
        renewal_code: catalogue code of the renewal matter.
        number_pattern: compiled regular expression for the number, or ``None`` when no format is known.
        number_example: an example number shown with a format error.
        apply_before_days: days before expiry the renewal must be applied for (informative).
    """

    key: str
    name: str
    aliases: tuple[str, ...]
    renewal_code: str
    number_pattern: re.Pattern[str] | None = None
    number_example: str = ""
    apply_before_days: int | None = None

    def check_number(self, raw: str) -> str:
        """The normalised licence number, checked against the type's format.

        Raises:
            InvalidValue: empty, implausible, or not in the known format.
        """
        num = normalize_licence_number(raw)
        if len(num) < 4 or len(num) > 64 or not re.search(r"\d", num):
            raise InvalidValue(f"「{raw.strip()[:30]}」不像{self.name}的编号，请照证件上的「编号」或「许可证号」输入。")
        if self.number_pattern is not None and not self.number_pattern.match(num):
            ex = f"，例如 {self.number_example}" if self.number_example else ""
            raise InvalidValue(f"{self.name}的编号格式不对{ex}。请核对证件后重新输入。")
        return num


def load_district_list(path: Path = DISTRICT_LIST) -> list[LicenceType]:
    """Read the district's licence list.

    Args:
        path: the YAML file.

    Raises:
        ValueError: a malformed entry (the message names the file and the entry).
    """
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    items = data.get("licences")
    if not isinstance(items, list):
        raise ValueError(f"{path}: expected `licences:` with a list of entries")
    out: list[LicenceType] = []
    seen: set[str] = set()
    for i, it in enumerate(items, 1):
        where = f"{path}: entry {i}"
        if not isinstance(it, dict) or not it.get("key") or not it.get("name") or not it.get("renewal_code"):
            raise ValueError(f"{where}: key, name and renewal_code are required")
        key = str(it["key"])
        if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
            raise ValueError(f"{where}: key {key!r} must be lower_snake_case")
        if key in seen:
            raise ValueError(f"{where}: duplicate key {key!r}")
        seen.add(key)
        pattern = None
        if it.get("number_pattern"):
            try:
                pattern = re.compile(str(it["number_pattern"]))
            except re.error as exc:
                raise ValueError(f"{where} ({key}): bad number_pattern: {exc}") from None
        out.append(LicenceType(key=key, name=str(it["name"]), aliases=tuple(str(a) for a in it.get("aliases") or []),
                               renewal_code=str(it["renewal_code"]), number_pattern=pattern,
                               number_example=str(it.get("number_example") or ""),
                               apply_before_days=it.get("apply_before_days")))
    return out


def _norm(s: str) -> str:
    return re.sub(r"[\s《》<>()（）「」“”\"']", "", s).lower()


@dataclass
class RenewalCatalogue:
    """The licence types the district watches, linked to the KB.

    Args:
        types: the district's licence types (:func:`load_district_list`).
        kb: the KnowledgeBase (``None`` while it loads: names still resolve, matters do not).
    """

    types: list[LicenceType]
    kb: Any = None
    _by_key: dict[str, LicenceType] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_key = {t.key: t for t in self.types}

    @classmethod
    def load(cls, kb: Any = None, path: Path = DISTRICT_LIST) -> "RenewalCatalogue":
        """The district list at ``path`` over ``kb``."""
        return cls(load_district_list(path), kb)

    def get(self, key: str) -> LicenceType | None:
        """The type with that key, or ``None``."""
        return self._by_key.get(key)

    def find(self, text: str) -> LicenceType | None:
        """The licence type a text names (its key, name or an alias; the longest match wins).

        Args:
            text: e.g. ``"食品经营许可证"``, ``"烟草证"``, ``"food_business"``.
        """
        t = _norm(text or "")
        if not t:
            return None
        if t in self._by_key:
            return self._by_key[t]
        best: tuple[int, LicenceType] | None = None
        for lt in self.types:
            for term in (lt.name, *lt.aliases):
                n = _norm(term)
                if n and (n in t or (len(t) >= 3 and t in n)):
                    score = len(n) if n in t else len(t)
                    if best is None or score > best[0]:
                        best = (score, lt)
        return best[1] if best else None

    def of_matter(self, code: str | None) -> LicenceType | None:
        """The type whose renewal matter is the matter ``code`` (a conversation about 食品经营许可延续: the 食品经营
        许可证), or ``None``."""
        return next((t for t in self.types if code and t.renewal_code == code), None)

    def matter(self, lt: LicenceType) -> Any:
        """The renewal matter of a type in the KB, or ``None``."""
        return self.kb.get(lt.renewal_code) if self.kb is not None else None

    def missing_matters(self) -> list[str]:
        """Keys of types whose renewal code the KB does not know (a configuration error to fix)."""
        if self.kb is None:
            return []
        return [t.key for t in self.types if self.kb.get(t.renewal_code) is None]
