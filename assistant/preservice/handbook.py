"""企业服务一本通: policies, service mechanisms and service lists with the conditions they apply under.

Entries live in ``knowledge/handbook/*.yml`` (authored, unverified sample content). :func:`extract_facts`
reads what a firm said about itself (``我们是做餐饮的小微企业``), :meth:`Handbook.match` returns what fits and
which facts are still needed to be sure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from assistant.settings import REPO_ROOT

HANDBOOK_DIR = REPO_ROOT / "knowledge" / "handbook"

INDUSTRIES: dict[str, tuple[str, ...]] = {
    "餐饮": ("餐饮", "饭店", "餐馆", "餐厅", "火锅", "串串", "小吃", "奶茶", "茶饮", "面馆", "烧烤", "快餐", "食堂",
           "外卖", "冒菜", "中餐", "咖啡"),
    "零售": ("零售", "小卖部", "超市", "便利店", "商店", "卖东西", "批发", "门市", "副食店", "百货"),
    "科技": ("科技", "软件", "互联网", "信息技术", "人工智能", "研发", "高新技术"),
    "制造": ("制造", "工厂", "加工", "生产"),
    "文创": ("文创", "文化创意", "设计", "传媒", "影视", "动漫", "广告"),
    "物流": ("物流", "运输", "快递", "货运"),
    "医药": ("医药", "药店", "诊所", "医疗"),
    "教育": ("培训", "教育", "学校"),
    "建筑": ("建筑", "装修", "工程"),
    "服务业": ("美容", "美发", "理发", "家政", "洗衣", "维修", "养老服务"),
}
SIZES: dict[str, tuple[str, ...]] = {
    "个体工商户": ("个体户", "个体工商户", "个体经营", "夫妻店"),
    "小微": ("小微", "小型", "微型", "小企业", "小公司", "几个人"),
    "中型": ("中型", "中等规模"),
    "大型": ("大型", "大企业", "规上", "规模以上", "集团"),
}
OTHER_DISTRICTS = ("锦江", "青羊", "武侯", "成华", "龙泉驿", "青白江", "新都", "温江", "双流", "郫都", "新津", "高新区",
                   "天府新区")
_NUM = {"一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10, "半": 0.5}
FACT_QUESTIONS = {"industry": "做哪个行业（餐饮、零售、科技……）", "size": "企业规模（个体户、小微企业还是中型以上）",
                  "age_years": "成立（注册）几年了", "district": "是不是在金牛区注册"}
FACT_NAMES = {"industry": "行业", "size": "规模", "age_years": "成立年限", "district": "注册地"}


@dataclass
class Policy:
    """One handbook entry (see ``knowledge/handbook/policies.yml`` for the fields)."""

    id: str
    title: str
    kind: str
    summary: str
    how_to_apply: str
    department: str = ""
    matter_code: str | None = None
    industries: list[str] = field(default_factory=list)
    sizes: list[str] = field(default_factory=list)
    min_age_years: float | None = None
    max_age_years: float | None = None
    districts: list[str] = field(default_factory=list)


@dataclass
class FirmFacts:
    """What is known about the asking firm (``None`` = not said yet)."""

    industry: str | None = None
    size: str | None = None
    age_years: float | None = None
    district: str | None = None

    def merged(self, other: "FirmFacts") -> "FirmFacts":
        """These facts with ``other``'s known ones on top."""
        return FirmFacts(*(b if b is not None else a for a, b in
                           zip(self.as_tuple(), other.as_tuple())))

    def as_tuple(self) -> tuple:
        return (self.industry, self.size, self.age_years, self.district)

    def as_dict(self) -> dict[str, Any]:
        return {"industry": self.industry, "size": self.size, "age_years": self.age_years, "district": self.district}

    @classmethod
    def from_dict(cls, d: Any) -> "FirmFacts":
        d = d if isinstance(d, dict) else {}
        return cls(d.get("industry"), d.get("size"), d.get("age_years"), d.get("district"))


def _num(s: str) -> float | None:
    if s.isdigit():
        return float(s)
    if s in _NUM:
        return float(_NUM[s])
    if s.startswith("十") and len(s) == 2 and s[1] in _NUM:
        return 10 + float(_NUM[s[1]])
    return None


def extract_facts(text: str) -> FirmFacts:
    """Facts a firm states about itself.

    Args:
        text: e.g. ``"我们是做餐饮的小微企业，成立两年了，在金牛区"``.
    """
    t = text or ""
    facts = FirmFacts()
    for name, words in INDUSTRIES.items():
        if any(w in t for w in words):
            facts.industry = name
            break
    for name, words in SIZES.items():
        if any(w in t for w in words):
            facts.size = name
            break
    m = re.search(r"(?:成立|注册|开了|开业|办了|做了|经营了?)\s*(?:了)?\s*(不到|快|将近|差不多)?\s*"
                  r"(\d+|[一两二三四五六七八九十半]{1,2})\s*(?:个)?\s*(年|个月|月)", t)
    if m:
        n = _num(m.group(2))
        if n is not None:
            years = n if m.group(3) == "年" else n / 12
            facts.age_years = max(0.0, years - (0.01 if m.group(1) == "不到" else 0.0))
    elif re.search(r"刚成立|刚注册|新开|刚开|新注册|才开|今年成立|准备开|还没注册", t):
        facts.age_years = 0.0
    if "金牛" in t:
        facts.district = "金牛区"
    elif any(d in t for d in OTHER_DISTRICTS):
        facts.district = "其他区"
    return facts


def _as_list(v: Any) -> list[str]:
    return [str(x) for x in v] if isinstance(v, list) else ([str(v)] if v else [])


def load_handbook(folder: Path = HANDBOOK_DIR) -> list[Policy]:
    """Read every ``*.yml`` in ``folder``.

    Raises:
        ValueError: a malformed entry (file and id named), or a duplicate id.
    """
    out: list[Policy] = []
    seen: set[str] = set()
    for path in sorted(Path(folder).glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for i, p in enumerate(data.get("policies") or [], 1):
            if not isinstance(p, dict) or not all(p.get(k) for k in ("id", "title", "kind", "summary",
                                                                      "how_to_apply")):
                raise ValueError(f"{path}: entry {i}: id, title, kind, summary and how_to_apply are required")
            if p["id"] in seen:
                raise ValueError(f"{path}: duplicate policy id {p['id']!r}")
            seen.add(p["id"])
            c = p.get("conditions") or {}
            out.append(Policy(id=str(p["id"]), title=str(p["title"]), kind=str(p["kind"]), summary=str(p["summary"]),
                              how_to_apply=str(p["how_to_apply"]), department=str(p.get("department") or ""),
                              matter_code=p.get("matter_code"), industries=_as_list(c.get("industries")),
                              sizes=_as_list(c.get("sizes")), min_age_years=c.get("min_age_years"),
                              max_age_years=c.get("max_age_years"), districts=_as_list(c.get("districts"))))
    return out


@dataclass
class PolicyMatch:
    """A policy and the facts still needed to be sure it applies (empty = it fits)."""

    policy: Policy
    unknown: list[str]


class Handbook:
    """The handbook entries.

    Args:
        policies: the entries (:func:`load_handbook`).
    """

    def __init__(self, policies: list[Policy]):
        self.policies = policies

    @classmethod
    def load(cls, folder: Path = HANDBOOK_DIR) -> "Handbook":
        return cls(load_handbook(folder))

    def match(self, facts: FirmFacts, kinds: tuple[str, ...] = ("惠企政策", "服务机制", "服务清单")
              ) -> list[PolicyMatch]:
        """Entries not excluded by a known fact; each with the facts its conditions need that are unknown.

        Entries that fit outright come first, then those needing fewer facts.
        """
        out: list[PolicyMatch] = []
        for p in self.policies:
            if p.kind not in kinds:
                continue
            unknown: list[str] = []
            ok = True
            for attr, allowed in (("industry", p.industries), ("size", p.sizes), ("district", p.districts)):
                if not allowed:
                    continue
                v = getattr(facts, attr)
                if v is None:
                    unknown.append(attr)
                elif v not in allowed:
                    ok = False
            if p.min_age_years is not None or p.max_age_years is not None:
                if facts.age_years is None:
                    unknown.append("age_years")
                elif (p.min_age_years is not None and facts.age_years < p.min_age_years) or \
                        (p.max_age_years is not None and facts.age_years > p.max_age_years):
                    ok = False
            if ok:
                out.append(PolicyMatch(p, unknown))
        # specific entries (with conditions that hold) before generic ones
        def conds(p: Policy) -> int:
            return sum(bool(x) for x in (p.industries, p.sizes, p.districts)) + \
                (p.min_age_years is not None or p.max_age_years is not None)
        out.sort(key=lambda m: (len(m.unknown), -conds(m.policy)))
        return out
