"""预审 — material pre-check: which documents of a matter's checklist a citizen says they already have.

"我带了身份证和租房合同，办个体户还差啥" → every checklist item marked ``have`` / ``partial`` / ``missing`` /
``conditional`` with the reason. Colloquial document names are understood through the guides'
``Material.aliases`` plus the synonym table below (房产证 → 不动产权证书, 租房合同 → 房屋租赁合同 …).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

#: Colloquial name → the canonical document it means.
SYNONYMS: dict[str, str] = {
    "身份证": "居民身份证", "身份证件": "居民身份证", "二代证": "居民身份证", "身份证原件": "居民身份证",
    "户口本": "居民户口簿", "户口簿": "居民户口簿", "户口薄": "居民户口簿", "户籍本": "居民户口簿",
    "房产证": "不动产权证书", "房本": "不动产权证书", "产权证": "不动产权证书", "不动产证": "不动产权证书",
    "房屋产权证": "不动产权证书", "红本": "不动产权证书", "土地证": "不动产权证书",
    "租房合同": "房屋租赁合同", "租赁合同": "房屋租赁合同", "门面合同": "房屋租赁合同", "租房协议": "房屋租赁合同",
    "租赁协议": "房屋租赁合同", "门面租赁合同": "房屋租赁合同", "租约": "房屋租赁合同", "房屋租赁合同": "房屋租赁合同",
    "执照": "营业执照", "营业证": "营业执照", "营业执照副本": "营业执照", "营业执照正本": "营业执照",
    "社保卡": "社会保障卡", "医保卡": "社会保障卡",
    "银行卡": "银行卡或存折", "存折": "银行卡或存折", "卡折": "银行卡或存折",
    "照片": "证件照", "相片": "证件照", "寸照": "证件照", "一寸照": "证件照", "二寸照": "证件照", "证件照片": "证件照",
    "免冠照": "证件照",
    "健康证": "健康证明", "体检证明": "健康证明", "体检报告": "健康证明",
    "委托书": "授权委托书", "授权书": "授权委托书", "委托信": "授权委托书",
    "残疾证": "残疾人证", "残疾人证": "残疾人证",
    "出生证": "出生医学证明", "出生证明": "出生医学证明",
    "退伍证": "退出现役证", "转业证": "退出现役证",
    "毕业证": "毕业证书", "学位证": "学位证书",
    "驾照": "驾驶证", "行驶本": "行驶证", "行车本": "行驶证",
    "申请表": "申请书", "登记表": "申请书",
    "结婚证": "结婚证", "离婚证": "离婚证",
    "居住证": "居住证",
}
#: Canonical documents that stand for a checklist item named differently (an item's name containing the key
#: is satisfied by the listed documents).
SATISFIES: dict[str, tuple[str, ...]] = {
    "身份证明": ("居民身份证",),
    "场所使用证明": ("房屋租赁合同", "不动产权证书"),
    "场所证明": ("房屋租赁合同", "不动产权证书"),
    "产权证明": ("不动产权证书",),
    "健康证明": ("健康证明",),
    "照片": ("证件照",), "相片": ("证件照",), "证件照": ("证件照",),
    "银行卡": ("银行卡或存折",), "存折": ("银行卡或存折",),
}
_SOMEONE_ELSE = re.compile(r"代理|代办|委托|受托|监护|法定代表|配偶|父母|子女|夫妻|双方|亲属|家庭成员")
_NEG_WORDS = re.compile(r"没带|没有|没得|忘了|忘记|莫得|没拿|缺|不带|差")
_SPLIT = re.compile(r"(?:还有|另外|以及|[，,。；;、和跟及与\s])+")


@dataclass
class CheckedItem:
    """One checklist item after the pre-check.

    Attributes:
        name: the item's name.
        status: ``have`` (said to have it), ``partial`` (have part of it; ``hint`` says what else), ``missing``
            (required and not mentioned), ``conditional`` (needed only in the case the note describes).
        requirement: ``required`` / ``conditional``.
        form: 原件 / 复印件 …
        copies: number of copies.
        note: the guide's note.
        hint: what the pre-check says about it.
        matched: the citizen's word that matched.
    """

    name: str
    status: str
    requirement: str
    form: str
    copies: int
    note: str
    hint: str = ""
    matched: str = ""


def _canon(term: str) -> str:
    return SYNONYMS.get(term, term)


def mentioned_documents(text: str, extra_terms: list[str] | None = None) -> tuple[list[tuple[str, str]], list[str]]:
    """Documents a message says the citizen has, and those it says they lack.

    Args:
        text: the message.
        extra_terms: more document names to look for (the matter's material names and aliases).

    Returns:
        ``(have, lacking)``: ``have`` as ``(word as said, canonical)``, ``lacking`` as canonical names.
    """
    terms = sorted({*SYNONYMS, *SYNONYMS.values(), *(extra_terms or [])}, key=len, reverse=True)
    have: list[tuple[str, str]] = []
    lacking: list[str] = []
    for chunk in _SPLIT.split(text or ""):
        if not chunk:
            continue
        pos = 0
        negated_chunk = bool(_NEG_WORDS.search(chunk))
        while pos < len(chunk):
            for term in terms:
                if term and chunk.startswith(term, pos):
                    canon = _canon(term)
                    neg = negated_chunk and bool(_NEG_WORDS.search(chunk[:pos]))
                    (lacking.append(canon) if neg else have.append((term, canon)))
                    pos += len(term)
                    break
            else:
                pos += 1
    # a document said both ways: the negation wins
    have = [(w, c) for w, c in have if c not in lacking]
    return have, lacking


def _item_terms(m: Any) -> list[str]:
    return [m.name, *getattr(m, "aliases", [])]


def precheck(matter: Any, text: str) -> list[CheckedItem]:
    """Check a matter's materials against what the citizen says they have.

    Args:
        matter: a ``knowledge.schema.Matter``.
        text: the citizen's message (``我带了身份证和租房合同``).

    Returns:
        One :class:`CheckedItem` per material, in checklist order.
    """
    extra = [t for x in matter.materials for t in _item_terms(x)]
    have, _lacking = mentioned_documents(text, extra)
    have_canon = {c for _, c in have}
    word_for = {c: w for w, c in have}
    out: list[CheckedItem] = []
    for x in matter.materials:
        canon_terms = {_canon(t) for t in _item_terms(x)}
        hit = next((c for c in have_canon if c in canon_terms), None)
        # looser matches ("经营者居民身份证" is satisfied by 居民身份证) only for the applicant's own required
        # documents: an agent's or a relative's ID is not the citizen's own ID card
        loose = x.requirement == "required" and not _SOMEONE_ELSE.search(x.name)
        if hit is None and loose:
            hit = next((c for c in have_canon if len(c) >= 3 and x.name.endswith(c)), None)
        if hit is None and loose:
            for key, docs in SATISFIES.items():
                if key in x.name:
                    hit = next((c for c in have_canon if c in docs), None)
                    if hit:
                        break
        item = CheckedItem(name=x.name, status="", requirement=x.requirement, form=x.form, copies=x.copies,
                           note=x.note)
        if hit is not None:
            item.matched = word_for.get(hit, hit)
            item.status = "have"
            # a lease is only half of a rented place's proof: the owner's title deed goes with it
            if hit == "房屋租赁合同" and "产权" in (x.note + x.name) and "不动产权证书" not in have_canon:
                item.status = "partial"
                item.hint = "租的房子除了租房合同，还要房东的房产证（不动产权证书）复印件。"
            elif x.form in {"原件及复印件", "复印件"}:
                item.hint = f"记得带{x.form}" + (f"{x.copies}份" if x.copies > 1 else "") + "。"
        elif x.requirement == "conditional":
            item.status = "conditional"
            item.hint = f"只有这种情况才要：{x.note}" if x.note else "视情况提供。"
        else:
            item.status = "missing"
            item.hint = x.note or ""
        out.append(item)
    return out


def precheck_parts(matter: Any, items: list[CheckedItem]) -> list[dict[str, Any]]:
    """Reply parts for a pre-check: a summary text and the checklist with a ``status`` on each item."""
    have = [i for i in items if i.status == "have"]
    partial = [i for i in items if i.status == "partial"]
    missing = [i for i in items if i.status == "missing"]
    cond = [i for i in items if i.status == "conditional"]
    lines = [f"帮您对了一下「{matter.name}」的材料："]
    for i in have:
        lines.append(f"✅ 已有：{i.name}" + (f"（您说的「{i.matched}」）" if i.matched and i.matched != i.name else "")
                     + (f" {i.hint}" if i.hint else ""))
    for i in partial:
        lines.append(f"🔶 还差一点：{i.name} — {i.hint}")
    for i in missing:
        lines.append(f"❌ 还差：{i.name}" + (f"（{i.note}）" if i.note else ""))
    for i in cond:
        lines.append(f"⚪ 视情况：{i.name} — {i.hint}")
    if not missing and not partial:
        lines.append("必交的材料都齐了👍 有特定情形的再对照一下「视情况」那几项。")
    else:
        lines.append(f"还差 {len(missing) + len(partial)} 项必交材料，备齐再去可以少跑一趟。")
    checklist = {"type": "checklist", "matter": {"code": matter.code, "name": matter.name},
                 "items": [{"name": i.name, "form": i.form, "copies": i.copies, "requirement": i.requirement,
                            "note": i.note, "status": i.status, "hint": i.hint} for i in items]}
    return [{"type": "text", "text": "\n".join(lines)}, checklist]
