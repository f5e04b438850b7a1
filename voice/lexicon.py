"""The service vocabulary that speech recognition is steered towards and corrected to.

Built from the KB (matter names, aliases, colloquial phrasings — ``voice`` reads only these from ``knowledge``)
plus a small fixed list of everyday service words people say instead of the official names (养老金 for
养老保险待遇, 营业执照, 社保卡 …) and common Sichuanese request phrases (咋个办, 啥子). Terms are Han-only
fragments of 2–20 characters: a name like "居民身份证办理（包括临时）" gives 居民身份证办理 and 包括临时.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

#: Everyday words for services, documents and benefits (most important first: they also lead the whisper prompt).
SERVICE_TERMS: tuple[str, ...] = (
    "养老金", "营业执照", "公积金", "社保卡", "医保", "身份证", "户口", "居住证", "低保", "残疾证", "结婚证",
    "资格认证", "个体工商户", "个体户", "高龄津贴", "临时救助", "失业登记", "退休", "出生证明", "烟草专卖零售许可证",
    "卫生许可证", "食品经营许可证", "创业补贴", "护理补贴", "医保电子凭证", "户口迁移", "补领", "挂失",
    "社会保障卡", "养老保险", "医疗保险", "失业保险", "住房公积金", "不动产登记", "房产证", "户口本",
    "营业执照", "小卖部", "预包装食品", "特困人员", "最低生活保障", "残疾人证", "婚姻登记", "结婚登记",
    "离婚登记", "出生医学证明", "生育津贴", "丧葬补助金", "抚恤金", "上门办理", "帮办代办", "政务服务大厅",
    "便民服务中心", "便民服务站", "材料清单", "办理地点", "办理时间", "收费标准", "办事指南", "法定代表人",
    "统一社会信用代码", "经营范围", "理发店", "美容院", "餐饮店", "社区", "街道", "驾驶证", "城乡居民",
    "参保", "提取", "申领", "补办", "新办", "换证", "认证", "办理", "申请", "材料", "证明", "登记",
)
#: The opening of every whisper prompt (the terms follow it): it steers whisper to simplified Mandarin about public
#: services. Under noise whisper sometimes "hears" this sentence itself (:func:`echoes_prompt`).
PROMPT_HEAD = "以下是群众在政务服务大厅的普通话咨询，涉及"
_PROMPT_HEAD_PLAIN = "".join(ch for ch in PROMPT_HEAD if ch.isalnum())

#: Sichuanese / colloquial phrasings that ASR tends to mangle (all ≥ 3 characters: short ones over-correct).
COLLOQUIAL_TERMS: tuple[str, ...] = (
    "咋个办", "咋个弄", "咋个整", "啥子材料", "要带啥子", "老汉儿", "屋头", "娃娃",
)

_HAN_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")
MAX_TERM_CHARS = 20


def han_fragments(text: str) -> list[str]:
    """The runs of Han characters (2–20 long) in ``text``."""
    return [m.group(0) for m in _HAN_RUN.finditer(text or "") if len(m.group(0)) <= MAX_TERM_CHARS]


@dataclass
class Lexicon:
    """An ordered set of terms with a weight each (higher = preferred when corrections compete).

    Attributes:
        terms: term → weight.
        matter_names: the matter names (full, as in the KB) — the Vosk phrase list and whisper prompt use them.
    """

    terms: dict[str, float] = field(default_factory=dict)
    matter_names: list[str] = field(default_factory=list)
    #: matter name → its aliases and short colloquial names (for per-utterance prompts).
    matter_terms: dict[str, list[str]] = field(default_factory=dict)
    #: service term (:data:`SERVICE_TERMS`) → the positions of the matters whose name, aliases, colloquial
    #: phrasings or example questions use it (for :meth:`unrelated_terms`).
    term_matters: dict[str, frozenset[int]] = field(default_factory=dict)

    def add(self, text: str, weight: float = 1.0) -> None:
        """Add every Han fragment of ``text`` with ``weight`` (a term keeps its highest weight)."""
        for frag in han_fragments(text):
            if self.terms.get(frag, -1.0) < weight:
                self.terms[frag] = weight

    def __contains__(self, term: str) -> bool:
        return term in self.terms

    def __len__(self) -> int:
        return len(self.terms)

    @classmethod
    def base(cls) -> "Lexicon":
        """The built-in service and colloquial terms only (no KB)."""
        lex = cls()
        for t in SERVICE_TERMS:
            lex.add(t, 3.0)
        for t in COLLOQUIAL_TERMS:
            lex.add(t, 2.0)
        return lex

    @classmethod
    def from_matters(cls, matters: Iterable[Any]) -> "Lexicon":
        """The base terms plus each matter's name, aliases and colloquial phrasings.

        Args:
            matters: :class:`knowledge.schema.Matter` objects (anything with ``name``, ``aliases`` and
                ``colloquial``), e.g. ``kb.matters``.
        """
        lex = cls.base()
        for m in matters:
            name = getattr(m, "name", "") or ""
            if name:
                lex.matter_names.append(name)
            lex.add(name, 1.0)
            extra = lex.matter_terms.setdefault(name, [])
            for alias in getattr(m, "aliases", []) or []:
                lex.add(alias, 1.5)
                extra.extend(f for f in han_fragments(alias) if f not in extra)
            for phrase in getattr(m, "colloquial", []) or []:
                # only the short noun-like parts of a colloquial sentence are useful as terms
                for frag in han_fragments(phrase):
                    if len(frag) <= 6:
                        lex.add(frag, 1.2)
                        if frag not in extra:
                            extra.append(frag)
        lex.add_name_words(lex.matter_names)
        lex.term_matters = topic_matters(matters)
        return lex

    def add_name_words(self, names: Iterable[str], min_names: int = 3, weight: float = 0.5) -> None:
        """Add the 2–4 character words (jieba) that occur in at least ``min_names`` matter names.

        Frequent words of the official names (参保, 提取, 补贴 …) are what people say; rare ones would only
        make the correction over-eager.
        """
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        counts: dict[str, int] = {}
        for name in names:
            for word in set(jieba.lcut(name)):
                if 2 <= len(word) <= 4 and all("\u4e00" <= ch <= "\u9fff" for ch in word):
                    counts[word] = counts.get(word, 0) + 1
        for word, n in counts.items():
            if n >= min_names and word not in self.terms:
                self.terms[word] = weight

    @classmethod
    def from_kb(cls, kb: Any) -> "Lexicon":
        """:meth:`from_matters` over ``kb.matters`` (a :class:`knowledge.kb.KnowledgeBase`)."""
        return cls.from_matters(getattr(kb, "matters", []) or [])

    def prompt_terms(self) -> list[str]:
        """Terms for the whisper prompt: the everyday service words, then the short matter names/aliases."""
        first = [t for t in SERVICE_TERMS]
        rest = sorted((t for t, w in self.terms.items() if t not in SERVICE_TERMS and len(t) <= 8),
                      key=lambda t: (-self.terms[t], len(t)))
        return first + rest

    def unrelated_terms(self, text: str) -> tuple[str, str] | None:
        """Two service terms heard in ``text`` that no matter of the KB uses together («公积金» and «临时救助»), or
        None. Whisper, pushed towards these terms by its prompt, strings them together when it cannot make out
        the words in noise; a real question about two unrelated matters is rare and is better asked back than
        answered for one of them. A term inside a longer one found too counts once (户口 in 户口迁移)."""
        found = [t for t in SERVICE_TERMS if t in text and self.term_matters.get(t)]
        found = [t for t in found if not any(t != u and t in u for u in found)]
        for i, a in enumerate(found):
            for b in found[i + 1:]:
                if not self.term_matters[a] & self.term_matters[b]:
                    return a, b
        return None

    def matter_prompt(self, names: Iterable[str], max_chars: int = 120) -> str:
        """A whisper prompt for one utterance: the given matters' names (their Han parts) then their aliases and
        colloquial names, in that order, within ``max_chars``."""
        head = PROMPT_HEAD
        names = list(names)
        terms: list[str] = []
        for name in names:
            terms.extend(han_fragments(name)[:1])
        for name in names:
            terms.extend(self.matter_terms.get(name, [])[:3])
        seen: list[str] = []
        total = len(head)
        for t in terms:
            if t in seen or total + len(t) + 1 > max_chars:
                continue
            seen.append(t)
            total += len(t) + 1
        return head + "、".join(seen) + "。"

    def phrases(self, limit: int = 2000) -> list[str]:
        """The phrase list for engines that take one (Vosk grammar): terms by weight, then by length."""
        ordered = sorted(self.terms, key=lambda t: (-self.terms[t], len(t), t))
        return ordered[:limit]


def topic_matters(matters: Iterable[Any]) -> dict[str, frozenset[int]]:
    """For each of :data:`SERVICE_TERMS`, the positions of the matters whose texts (name, aliases, colloquial
    phrasings, example questions) contain it."""
    texts = [" ".join([getattr(m, "name", "") or "", *(getattr(m, "aliases", []) or []),
                       *(getattr(m, "colloquial", []) or []), *(getattr(m, "examples", []) or [])])
             for m in matters]
    return {t: frozenset(i for i, x in enumerate(texts) if t in x) for t in SERVICE_TERMS}


def echoes_prompt(text: str, window: int = 8) -> bool:
    """Whether a hearing is whisper repeating its prompt's opening sentence (:data:`PROMPT_HEAD`) rather than
    anything said: the whole hearing (4 characters or more) lies inside it, or it contains ``window``
    consecutive characters of it (shorter pieces such as «政务服务大厅» are things people do say)."""
    head = _PROMPT_HEAD_PLAIN
    plain = "".join(ch for ch in text if ch.isalnum())
    if len(plain) >= 4 and plain in head:
        return True
    return any(head[i:i + window] in plain for i in range(len(head) - window + 1))
