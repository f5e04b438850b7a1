"""The spine's steps: matter card, clarification, checklist / place / time / fee, small talk, out of scope,
not understood and the human helper.

Every answer is built from the knowledge base (``services.kb``) and sent as reply parts; every text comes from
``replies.yml``. Which matter a turn is about:

1. the ``matter`` entity of the message (a catalogue code the app's NLU resolved, or a clicked button payload);
2. otherwise the conversation's matter (so "那要带啥子材料" answers for the last matter);
3. otherwise the citizen is asked which matter (with the NLU's top 3 as buttons when it has any).

An ``ambiguous`` parse (several matters fit about equally) gets the top 3 to choose from instead of a guess.
Two failed turns in a row open a human-helper ticket, as does ``request_human``; the ticket carries the masked
transcript, the matter and the level that serves it.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from typing import Any

from starlette.concurrency import run_in_threadpool

from assistant.dialogue.context import StepContext, step
from assistant.dialogue.interpret import (AHEAD_HOW_LONG, BY_ANOTHER, CHOSEN_OPTIONS, DETAIL_INTENTS, LOOK_ALIKE_SCORE,
                                          MATTER_SCORE, MEANING_APART, QUESTION, SIBLING_GAP, STRONG_SCORE,
                                          after_getting, called_by_name, case_unsaid, family, family_named, kin,
                                          kind_unsaid, look_alikes, name_stem, no_choice_for, of_kind_asked, offered,
                                          offered_apart, only_shared_words, other_kinds, pays_unasked, said_apart,
                                          says_subject_of, says_term, says_words_of, short_question, tells_apart,
                                          the_thing_got, to_get_one, told_by_subject, unsaid_kinds_last,
                                          within_unasked)
from assistant.dialogue.replies import human_button, say
from assistant.dialogue.understand import halls
from assistant.parts import buttons, checklist_part, matter_card_part, notice, payload
from assistant.logging import get_logger, log_event
from assistant.privacy import mask_pii
from assistant.teach.collect import note_handoff
from assistant.staff import routing
from nlu.intents import PLAN
from nlu.phonetic import folded_pinyin
from nlu.text import what_about

log = get_logger(__name__)

DETAIL_BUTTONS = {"ask_materials": "button.materials", "ask_location": "button.location", "ask_time": "button.time",
                  "ask_fee": "button.fee"}
SMALLTALK_INTENTS = ("greet", "goodbye", "thanks", "affirm", "deny", "chitchat")
#: A fused search score at which a matter counts as named by the message even when no name or alias appears in it
#: (:data:`assistant.dialogue.interpret.STRONG_SCORE`).
STRONG_MATCH_SCORE = STRONG_SCORE
#: What a guide's condition says of when to apply («届满前90个工作日至15个工作日期间提出», «到期前30日»).
_WHEN_TO_APPLY = re.compile(r"届满前|到期前|期满前|提前|前\d+[个天日]|之日起\d+")
#: What a guide says of someone acting for the person (a material, a condition): the agent, the power to act.
_AGENT = re.compile(r"代办|代领|代理|委托|监护人|亲自|本人(到场|亲自|前往|办理)")
#: A best match this far ahead of the next one is answered even when the NLU attached no matter entity.
CLEAR_LEAD = 0.15
#: Failed turns in a row that open a human-helper ticket.
FALLBACKS_BEFORE_HANDOFF = 2
DEFAULT_LEVEL = "区政务大厅"


# --- helpers -------------------------------------------------------------------------------------------------------

def _kb(ctx: StepContext) -> Any:
    return getattr(ctx.services, "kb", None) if ctx.services is not None else None


def _is_payload(ctx: StepContext) -> bool:
    return ctx.tracker.text.startswith("/")


def _entity_matters(ctx: StepContext, kb: Any) -> list[Any]:
    """The matters named by the message's ``matter`` entities that the KB knows, in order (not one arising in a case
    the message says nothing of: :func:`_of_cases_said`, which leaves the next ranked to answer)."""
    named = [m for m in (kb.get(c) for c in ctx.tracker.entity_values("matter")) if m is not None]
    if not named:
        return named
    others = [m for m in _ranked(ctx, kb, 5) if m not in named]
    # (weighed with the others ranked: one named alone is dropped too when another is there to answer)
    kept = [m for m in _of_cases_said(ctx, named + others) if m in named]
    return kept if others else named


def _score(ctx: StepContext, code: str) -> float:
    for hit in ctx.tracker.latest_message.get("matters") or []:
        if isinstance(hit, dict) and hit.get("code") == code:
            try:
                return float(hit.get("score") or 0.0)
            except (TypeError, ValueError):
                return 0.0
    return 0.0


def mentions(text: str, m: Any) -> bool:
    """Whether ``text`` names matter ``m`` (its name, an alias or a colloquial phrase of 2+ characters; a long one also
    with a «的» put in: «亲属关系的证明», :func:`says_term`)."""
    return any(term and len(term) >= 2 and says_term(text, term)
               for term in [m.name, *getattr(m, "aliases", []), *getattr(m, "colloquial", [])])


@lru_cache(maxsize=8192)
def _sound_of_name(term: str) -> str:
    """The folded pinyin of a matter's name or alias, padded (the guidebook's terms only: no citizen's text is kept)."""
    return f" {folded_pinyin(term)} "


def said_by_sound(text: str, m: Any) -> bool:
    """Whether ``text`` says one of ``m``'s names or aliases (of 3+ characters) in other characters of the same
    sound, as typed by ear («身分证»: 身份证; «营叶执照»: 营业执照)."""
    heard = f" {folded_pinyin(text)} "
    return any(len(t) >= 3 and t not in text and _sound_of_name(t) in heard for t in [m.name, *m.aliases])


def _said_whole(ctx: StepContext, options: list[Any]) -> Any:
    """The one of close ``options`` whose name or an alias the message says whole (or by its sound:
    :func:`said_by_sound`), when it says none of the others' («临时身份证能办不»: 居民身份证办理（包括临时）, called
    临时身份证, beside 临时身份证明), or — when it says none whole — whose own words it says more of than of the
    others' (:func:`said_apart`), or the one that gets the thing it names (:func:`the_thing_got`: «那身份证呢»),
    else ``None``."""
    text = ctx.tracker.text or ""
    if _is_payload(ctx) or not options or ctx.tracker.latest_message.get("interpreted") in CHOSEN_OPTIONS:
        return None  # (options the conversation's state chose, «个体户» or «有啥补贴», are offered as they are)
    # (an option found far behind the first is not picked by a short name of it, nor by the words of a kind of
    # request its names say, but only by what it is about: «我妈想把房子过户给我» says 过户, of 机动车转移登记（过户、
    # 转入）, found well behind the 不动产 ones; «领失业金期间生孩子了» says 生育 of 领取失业保险待遇期间生育补助金申请和发放)
    best = max(_score(ctx, m.code) for m in options)
    near = [m for m in options if _score(ctx, m.code) >= best - MEANING_APART]
    called = [m for m in near if called_by_name(text, m)
              and not any(o is not m and _called_only_inside(text, m, o) for o in near)] \
        or [m for m in near if said_by_sound(text, m)]
    whole = [m for m in called if m.name in text]
    longest = max(whole, key=lambda m: len(m.name)) if whole else None
    if longest is not None and len(called) > 1 and all(m.name in longest.name for m in whole):
        return longest  # (called by its whole name, the longest said: «职工参保登记», beside 企业职工参保登记's alias)
    if called:
        return called[0] if len(called) == 1 else None
    pick = said_apart(text, options)
    if pick is not None and pick not in near and not says_subject_of(text, pick, options[0]):
        pick = said_apart(text, near)
    return pick or the_thing_got(text, options)


def _explicit_matters(ctx: StepContext, kb: Any) -> list[Any]:
    """The entity matters the message really names: a clicked button, a name/alias/colloquial phrase in the text,
    or a strong search match. A follow-up like "要收费吗" gets a best-effort search guess from the NLU as its
    entity; that guess must not replace the matter the conversation is about."""
    named = _entity_matters(ctx, kb)
    if _is_payload(ctx):
        return named
    t = ctx.tracker.text
    return [m for m in named if mentions(t, m) or _score(ctx, m.code) >= STRONG_MATCH_SCORE]


def _ranked(ctx: StepContext, kb: Any, k: int = 3) -> list[Any]:
    """The NLU's ranked matters (``latest_message.matters``) that the KB knows, best first, at most ``k``
    (:func:`_distinct`)."""
    hits = ctx.tracker.latest_message.get("matters") or []
    codes = [str(h.get("code")) for h in hits if isinstance(h, dict) and h.get("code")]
    return _distinct(_of_cases_said(ctx, [m for m in map(kb.get, codes) if m is not None]))[:k]


def _of_cases_said(ctx: StepContext, matters: list[Any]) -> list[Any]:
    """``matters`` without those arising in a case the message says nothing of (:func:`case_unsaid`), when any
    other is left; a clicked button keeps them all."""
    if _is_payload(ctx):
        return matters
    # (said in the conversation before counts: «我老公在领失业金» → «上个月人走了» → «丧葬补助咋个领»)
    st = ctx.state
    told = " ".join([ctx.tracker.text or "", st.topic_text or "", st.said_before or "", st.matter_name or ""])
    kept = [m for m in matters if not case_unsaid(told, m)]
    return kept if kept else matters


def _distinct(matters: list[Any]) -> list[Any]:
    """``matters`` without repeats; of two the catalogue lists under one name (求职创业补贴申领 twice), the first: a
    choice between equal names asks nothing."""
    out: list[Any] = []
    for m in matters:
        if all(m.code != x.code and m.name != x.name for x in out):
            out.append(m)
    return out


def _current(ctx: StepContext, kb: Any) -> Any:
    code = ctx.state.matter_code
    return kb.get(str(code)) if code else None


def _remember(ctx: StepContext, m: Any) -> None:
    # (the options it was picked from, for a correction of the pick: «不对，是第一个»)
    options = ctx.state.candidates or ctx.state.offered_before
    ctx.set_slot("offered_before", options if m.code in options else None)
    ctx.set_slot("matter_code", m.code)
    ctx.set_slot("matter_name", m.name)
    ctx.set_slot("candidates", None)


def short_labels(options: list[Any]) -> list[str] | None:
    """What tells sibling matters apart when their names differ only inside one pair of brackets
    («住房公积金提取（购房）», «…（离职）»; «医疗机构执业许可（新办）（县级）», «…（校验）（县级）»): that bracketed
    part; ``None`` otherwise (the full names are shown: «农民专业合作社（联合社）设立登记» and «…分支机构设立登记»
    differ after the brackets)."""
    names = [m.name.replace("(", "（").replace(")", "）") for m in options]
    if len(names) < 2:
        return None
    start = os.path.commonprefix(names)
    start = start[:start.rfind("（") + 1]  # up to the last bracket every name opens at the same place
    tails = [n[len(start):] for n in names]
    end = os.path.commonprefix([t[::-1] for t in tails])[::-1]
    end = end[end.find("）"):] if "）" in end else ""  # from the bracket that closes the differing part
    if not start or not end:
        return None
    labels = [t[:len(t) - len(end)] for t in tails]
    if any(not x or "（" in x or "）" in x for x in labels) or len(set(labels)) != len(labels):
        return None
    return labels


def _clarify(ctx: StepContext, options: list[Any], intent: str) -> None:
    """Offer ``options`` (top 3) as buttons that re-ask ``intent`` for the chosen matter: a question that tells
    siblings apart («是首次登记、转移登记，还是抵押登记？») when they are of one family, else a list. An option for what
    the message does not ask (:func:`~assistant.dialogue.interpret.no_choice_for`) is no choice: «我要给娃娃转学到金牛区» is
    学籍异动办理, not 学籍异动政策咨询 too; when one option is left, it is answered."""
    text = ctx.tracker.text or ""
    if any(no_choice_for(text, m.name) for m in options[:3]):
        doing = [m for m in options[:3] if not no_choice_for(text, m.name)]
        if len(doing) == 1:
            if intent in DETAIL_INTENTS:
                _answer_detail(ctx, doing[0], intent)
            else:
                _answer_card(ctx, doing[0], [])
            return
        options = doing or options
    top = unsaid_kinds_last(ctx.tracker.text or "", options[:3])
    place = _shared_place(top) if intent == "ask_location" else None
    if place is not None:  # (where, when every one of them is done at the same place: told before asking which)
        ctx.text(say("detail.shared_place", place=_place_text(None, place)))
    siblings = len({x.code for x in family(_kb(ctx), top[0])} & {m.code for m in top}) == len(top) > 1
    if siblings:
        labels = short_labels(top) or [m.name for m in top]
        ctx.text(say("matter.clarify_family", choices="、".join(labels[:-1]), last=labels[-1]))
        items = [(label, payload(intent, m.code)) for label, m in zip(labels, top)]
    else:
        ctx.text(say("matter.clarify"))
        items = [(m.name, payload(intent, m.code)) for m in top]
    ctx.reply(buttons(items + [(say("button.none_human"), payload("request_human"))]))
    ctx.set_slot("candidates", [m.code for m in top])
    _remember_topic(ctx)
    offer_help(ctx, choosing=True)
    log_event(log, "dialogue.clarify", session=ctx.tracker.sender_id, intent=intent,
              candidates=",".join(m.code for m in top))


def _unverified_notice(ctx: StepContext, m: Any) -> None:
    if not getattr(m, "verified", False):
        ctx.reply(notice(say("notice.unverified")))


def _detail_buttons(m: Any, skip: str | None) -> dict[str, Any]:
    items = [(say(DETAIL_BUTTONS[i]), payload(i, m.code)) for i in DETAIL_INTENTS if i != skip]
    return buttons(items + [human_button(m.code)])


def _kb_loading(ctx: StepContext) -> None:
    ctx.reply(notice(say("notice.loading")))
    ctx.reply(buttons([human_button()]))


# --- the matter card -----------------------------------------------------------------------------------------------

def _related_label(m: Any, r: Any) -> str:
    """A related matter's name for the "还需要办理" line, with when it applies where that is clear."""
    if "食品" in r.name and "食品" not in m.name:
        return say("matter.related_food", name=r.name)
    return say("matter.related_item", name=r.name)


def card_buttons(m: Any, related: list[Any] = ()) -> dict[str, Any]:
    """The buttons under a matter card: 材料清单, 办理地点, the related matters, 转人工."""
    items = [(say("button.materials"), payload("ask_materials", m.code)),
             (say("button.location"), payload("ask_location", m.code))]
    items += [(r.name[:24], payload("ask_matter", r.code)) for r in related]
    return buttons(items + [human_button(m.code)])


def _remember_topic(ctx: StepContext, m: Any = None) -> None:
    """Keep the question that brought up the matter, to re-read a later detail of the situation with it, and the
    matters it named as much as ``m`` (:func:`look_alikes`) — with, after a detail that moved the conversation on,
    the matter it moved from — for the detail to choose from too."""
    why = ctx.tracker.latest_message.get("interpreted")
    if _is_payload(ctx) or why in {"selection", "procedure"}:
        return  # (a pick, or a kind of procedure said alone — «要审批不» — brings up no question of its own)
    again = why in {"refinement", "chongqing"}
    earlier = ctx.state.topic_text if again else str(ctx.tracker.latest_message.get("read_with") or "")
    ctx.set_slot("topic_text", mask_pii(f"{earlier} {ctx.tracker.text}".strip())[-200:])
    if m is not None and not again:
        # (not the matters the reading ruled out: «娃娃上幼儿园» is about 入学办理, not founding a kindergarten)
        out = set(ctx.tracker.latest_message.get("ruled_out") or [])
        hits = [h for h in ctx.tracker.latest_message.get("matters") or [] if h.get("code") not in out]
        ctx.set_slot("topic_matters", look_alikes(ctx.tracker.text or "", m, hits, _kb(ctx)))
    elif m is not None and ctx.state.matter_code and ctx.state.matter_code != m.code:
        # (a detail moved the conversation on: the matter it moved from is one the question found too — «在外地看病»
        # → 其他临时外出就医人员备案, «医保能报不» → 住院费用报销, «要备案吗» → back to the 备案)
        earlier_matters = [c for c in [*ctx.state.topic_matters, ctx.state.matter_code] if c != m.code]
        ctx.set_slot("topic_matters", list(dict.fromkeys(earlier_matters)))


def offer_help(ctx: StepContext, m: Any = None, choosing: bool = False, by_another: bool = False) -> None:
    """The person (or a relative) cannot come to the hall: offer 上门办 and 帮办代办 along with the answer — when
    the message says so (or may: «残疾», «92了»), and again with each new matter ``m`` of a conversation in which it
    was said («我妈瘫在床上», then «她的养老金认证咋办»), or with the matters offered to choose from (``choosing``)."""
    # (that the person cannot come is remembered for the turns after: dialogue.context)
    if ctx.tracker.latest_message.get("cannot_come") or choosing and ctx.state.cannot_come:
        ctx.text(say("help.cannot_come"))
    elif ctx.tracker.latest_message.get("needs_a_hand"):
        ctx.text(say("help.needs_a_hand"))  # («不识字», «不会用手机»: someone to fill the forms in, first)
    elif m is not None and ctx.state.cannot_come:  # (what was said is said back: «瘫痪在床», not «残疾», «92了»)
        ctx.text(say("help.cannot_come_again" if ctx.state.said_cannot_come else "help.may_not_come_again",
                     name=m.name))
    elif by_another:  # («可以让别人代办吗»: the hall's own help, when no one else can go)
        ctx.text(say("help.by_another"))
    else:
        return
    ctx.reply(buttons([(say("button.home_visit"), payload("book_home_visit")),
                       (say("button.proxy"), payload("request_human", ctx.state.matter_code))]))


def _family_only(ctx: StepContext, kb: Any, named: list[Any]) -> list[Any]:
    """The members of the family a question names by its main item alone (:func:`family_named`) to ask which of,
    when no matter is named in its own words and the conversation is about none of them; else ``[]``."""
    text = ctx.tracker.text or ""
    if _is_payload(ctx) or ctx.tracker.latest_message.get("interpreted") \
            or any(mentions(text, m) or said_by_sound(text, m) for m in named):
        return []
    members = family_named(text, ctx.tracker.latest_message.get("matters") or [], kb)
    # (nor when one of them is called by its whole name: «把职工参保登记弄了» is 职工参保登记's)
    return [] if any(m.code == ctx.state.matter_code or m.name in text for m in members) else members


def _close_calls(ctx: StepContext, kb: Any, m: Any) -> list[Any]:
    """Matters that fit a question about as well as ``m`` when the question names none of them («不动产登记»:
    首次登记 / 转移登记 …): the ones to choose from (at most three), else ``[]``."""
    if _is_payload(ctx) or ctx.tracker.latest_message.get("interpreted") or mentions(ctx.tracker.text, m) \
            or said_by_sound(ctx.tracker.text or "", m):
        return []  # (named, in its own characters or others of their sound: «我要办身分证»)
    if ctx.state.matter_code == m.code:
        return []  # the conversation is about it already: «要办营业执照不» after «我想开个网店» (设立登记) asks about it
    hits = [h for h in ctx.tracker.latest_message.get("matters") or [] if kb.get(str(h.get("code"))) is not None]
    if len(hits) < 2 or hits[0].get("code") != m.code:
        return []
    top = float(hits[0].get("score") or 0)
    if top - float(hits[1].get("score") or 0) > SIBLING_GAP:
        # well ahead, yet only of its family's words: «公积金提取» does not say which 提取
        # (a related matter is no sibling: 低保 and 医疗救助; nor is the 川渝通办 variant for a question that says no
        # Chongqing — one that does is moved to it before this step)
        text = ctx.tracker.text or ""
        # (nor, after one got new, what is done to one already had that the question does not say: «还要单独办食品许
        # 可吗» is no 延续 or 变更)
        near = {x.code: x for x in family(kb, m)
                if x.code == m.code or "川渝" not in x.name and not pays_unasked(text, m, x)
                and not within_unasked(text, m, x) and not (kind_unsaid(text, x) and not after_getting(m))
                and not to_get_one(text, m, x)}
        siblings = _distinct([near[h["code"]] for h in hits[:4] if h.get("code") in near])
        apart = next((top - float(h.get("score") or 0) for h in hits[1:] if h.get("code") in near), 0.0)
        if len(siblings) >= 2 and apart < MEANING_APART and not tells_apart(text, m, siblings):
            return siblings[:3]
        # «办营业执照»: 补领 or 设立? «公积金»: 贷款, 缴存 or 提取?
        return other_kinds(text, m, hits, kb) or only_shared_words(text, m, hits, kb)
    close = [kb.get(h["code"]) for h in hits[:3] if top - float(h.get("score") or 0) <= 2 * SIBLING_GAP]
    return [] if the_thing_got(ctx.tracker.text or "", close) is m else close


def _called_whole(ctx: StepContext, kb: Any, m: Any) -> Any:
    """The one matter found close behind ``m`` (:data:`MEANING_APART`) whose whole name the message says, when it
    does not say ``m``'s: «把职工参保登记弄了» is 职工参保登记, not 企业职工参保登记 found first; else ``None``."""
    text = ctx.tracker.text or ""
    if _is_payload(ctx) or ctx.tracker.latest_message.get("interpreted") or m.name in text:
        return None
    top = _score(ctx, m.code)
    whole = [x for x in _ranked(ctx, kb, 4) if x.code != m.code and len(x.name) >= 4 and x.name in text
             and _score(ctx, x.code) >= top - MEANING_APART]
    return whole[0] if len(whole) == 1 else None


def _sibling_said(ctx: StepContext, kb: Any, m: Any) -> Any:
    """A narrower member of ``m``'s family (its name is ``m``'s with words added) found close behind it
    (:data:`MEANING_APART`) whose own words the message says more of than ``m``'s (:func:`said_apart`), three
    characters of its name at least that ``m``'s does not have:
    «分公司不开了，分公司咋个注销» is 分公司注销登记, found after 公司注销登记 (not «法人», of 非公司企业法人变更登记, for
    «我们公司换了法人»: 公司变更登记); else ``None``. A message that calls ``m`` by a name of its own (not only inside
    the other's: «分公司注销» says 公司注销), or a conversation already about ``m``, keeps it."""
    text = ctx.tracker.text or ""
    if _is_payload(ctx) or ctx.tracker.latest_message.get("interpreted") or ctx.state.matter_code == m.code \
            or said_by_sound(text, m):
        return None
    own = {x.code for x in family(kb, m)}
    top = _score(ctx, m.code)
    near = [x for x in _ranked(ctx, kb, 4)
            if x.code != m.code and x.code in own and _score(ctx, x.code) >= top - MEANING_APART]
    pick = said_apart(text, [m, *near]) if near else None
    if pick is None or pick is m or name_stem(m.name) not in pick.name:
        return None  # (only a narrower one: its name is ``m``'s with words added)
    own_said = [p for p in _name_parts(pick) if p in text and p not in m.name]
    return pick if own_said and not mentions(_without(text, own_said), m) else None


def _name_parts(m: Any) -> list[str]:
    """The runs of three characters or more of ``m``'s name, longest first."""
    return sorted({m.name[i:j] for i in range(len(m.name)) for j in range(i + 3, len(m.name) + 1)}, key=len,
                  reverse=True)


def _without(text: str, parts: list[str]) -> str:
    """``text`` with each of ``parts`` (longest first) taken out."""
    for p in sorted(parts, key=len, reverse=True):
        text = text.replace(p, " ")
    return text


def _called_only_inside(text: str, m: Any, other: Any) -> bool:
    """Whether ``text`` calls ``m`` only inside longer words of ``other``'s name that ``m``'s does not have: «分公司注销»
    says 公司注销 (an alias of 公司注销登记) inside 分公司注销登记's name (but «临时身份证», an alias of 居民身份证办理
    （包括临时）, is no more than the start of 临时身份证明)."""
    terms = [t for t in [m.name, *m.aliases, *m.colloquial] if t and len(t) >= 2 and t in text]
    said = [p for p in _name_parts(other) if p in text and p not in m.name]
    return bool(terms) and all(any(t in p and len(p) > len(t) for p in said) for t in terms) \
        and not mentions(_without(text, said), m)


def _answer_card(ctx: StepContext, m: Any, also: list[Any]) -> None:
    if ctx.tracker.latest_message.get("interpreted") == "cannot_come":
        offer_help(ctx)  # the matter was answered already: what is new is that the person cannot come
        return
    kb = _kb(ctx)
    linked = [r for r in map(kb.get, getattr(m, "related", []) or []) if r is not None]
    related = _distinct([m, *also, *linked])[1:]
    after = [r for r in related if not after_getting(r)][:3]  # (a change or a reissue is no next step)
    if ctx.tracker.latest_message.get("interpreted") == "next_steps" and after:
        # («营业执照办好了 → 还要办啥»: what usually follows it, not its card again)
        ctx.text(say("matter.next_steps", name=m.name, names="、".join(_related_label(m, r) for r in after)))
        ctx.reply(buttons([(r.name[:24], payload("ask_matter", r.code)) for r in after] + [human_button(m.code)]))
        _remember(ctx, m)
        log_event(log, "dialogue.matter.next_steps", session=ctx.tracker.sender_id, matter=m.code,
                  related=",".join(r.code for r in after))
        return
    ctx.text(say("matter.card", name=m.name))
    if ctx.tracker.latest_message.get("interpreted") == "chongqing":
        ctx.text(say("matter.chongqing", name=m.name))
    ctx.reply(matter_card_part(m))
    related = related[:2]
    if related:
        ctx.text(say("matter.related", names="、".join(_related_label(m, r) for r in related)))
    _unverified_notice(ctx, m)
    ctx.reply(card_buttons(m, related))
    _remember_topic(ctx, m)  # (before the matter is remembered: a detail's topic keeps the one it moved from)
    _remember(ctx, m)
    offer_help(ctx, m)
    log_event(log, "dialogue.matter.answered", session=ctx.tracker.sender_id, matter=m.code,
              related=",".join(r.code for r in related))


def _current_as_well(ctx: StepContext, kb: Any, options: list[Any]) -> Any:
    """The conversation's matter, when it is one of the first two of ``options`` the message fits about as well
    and the message is a statement — more of the situation: «我们公司想去摆个摊位» after 招聘会服务, not 临时便民服务
    摊点设置 to choose — or a short question that says nothing of the others' own and asks about nothing else (no
    «那医保呢»): «能补不» after 企业职工社会保险费补缴申报, not 城乡居民基本养老保险费补缴申报 to choose; else ``None``."""
    current = _current(ctx, kb)
    text = ctx.tracker.text or ""
    if current is None or all(o.code != current.code for o in options[:2]):
        return None
    if not QUESTION.search(text) or short_question(text) and not what_about(text) and not any(
            says_words_of(text, o, current) for o in options if o.code != current.code):
        return current
    return None


def _ours_or_which(ctx: StepContext, kb: Any, options: list[Any]) -> None:
    """The conversation's matter when the message fits it as well as the others (:func:`_current_as_well`), else
    which of ``options``."""
    current = _current_as_well(ctx, kb, options)
    if current is not None:
        _answer_card(ctx, current, [o for o in options if o.code != current.code])
    else:
        _clarify(ctx, options, "ask_matter")


@step("action_matter_answer")
async def matter_answer(ctx: StepContext) -> None:
    """``ask_matter``: the matter card (+ related matters and the 材料清单 / 办理地点 / 转人工 buttons), or the top 3
    to choose from when the question is ambiguous, or a rephrase request when nothing fits."""
    kb = _kb(ctx)
    if kb is None:
        _kb_loading(ctx)
        return
    named = _entity_matters(ctx, kb)
    ranked = _ranked(ctx, kb)
    members = _family_only(ctx, kb, named)
    if members:
        _clarify(ctx, members, "ask_matter")  # «不动产登记咋个办»: 首次、转移，还是抵押？
        return
    ambiguous = bool(ctx.tracker.latest_message.get("ambiguous")) and not _is_payload(ctx)
    if ambiguous:
        options = ranked or named
        said = _said_whole(ctx, options) or _current_as_well(ctx, kb, options) or of_kind_asked(
            ctx.tracker.text or "", options, {m.code: _score(ctx, m.code) for m in options}, CLEAR_LEAD) \
            or told_by_subject(ctx.tracker.text or "", options, kb)
        if said is not None:
            _answer_card(ctx, said, [o for o in options if o.code != said.code])
            return
        if len(options) >= 2:
            _clarify(ctx, options, "ask_matter")
            return
    if named:
        said = _called_whole(ctx, kb, named[0]) or _sibling_said(ctx, kb, named[0])
        if said is not None:
            _answer_card(ctx, said, [named[0]])
            return
        siblings = _close_calls(ctx, kb, named[0])
        if siblings:
            _ours_or_which(ctx, kb, siblings)
            return
        _answer_card(ctx, named[0], named[1:])
        return
    if len(ranked) >= 2 and _score(ctx, ranked[0].code) - _score(ctx, ranked[1].code) < CLEAR_LEAD:
        _ours_or_which(ctx, kb, ranked)
        return
    if ranked:
        _answer_card(ctx, ranked[0], [])
        return
    await _fallback(ctx)


# --- checklist / place / time / fee --------------------------------------------------------------------------------

def _place_text(i: int | None, p: Any) -> str:
    """One place of a matter, numbered ``i`` (``None``: not numbered): its name and level, address, window, hours
    and phone."""
    bits = [say("detail.place_line", i=i, name=p.name, level=p.level) if i is not None
            else say("detail.place_name", name=p.name, level=p.level)]
    if p.address:
        bits.append(say("detail.place_address", address=p.address))
    if p.window:
        bits.append(say("detail.place_window", window=p.window))
    if p.hours:
        bits.append(say("detail.place_hours", hours=p.hours))
    if p.phone:
        bits.append(say("detail.place_phone", phone=p.phone))
    return "；".join(bits)


def _places_text(m: Any) -> str:
    return "\n".join(_place_text(i, p) for i, p in enumerate(m.places[:4], 1))


def _shared_place(options: list[Any]) -> Any:
    """The first place (of the first option) where every one of ``options`` is done, else ``None``: «不动产登记中心在哪»
    is answered before asking which 不动产 matter."""
    common = set.intersection(*({p.name for p in m.places} for m in options)) if options else set()
    return next((p for p in options[0].places if p.name in common), None) if common else None


def _at_named_hall(ctx: StepContext, m: Any) -> str:
    """Whether ``m`` is done at the hall the message named («荷花池街道能办不»), by the levels of its places; ``""``
    when the message named none."""
    hall_id = next(iter(ctx.tracker.entity_values("hall")), "")
    directory = halls() if hall_id else None
    hall = directory.get(hall_id) if directory is not None else None
    if hall is None:
        return ""
    if not m.places:
        return say("detail.hall_unknown", name=m.name, hall=hall.name)
    if any(p.level == hall.level for p in m.places):
        return say("detail.hall_yes", name=m.name, hall=hall.name, address=hall.address)
    return say("detail.hall_no", name=m.name, hall=hall.name)


def _by_another(ctx: StepContext, m: Any) -> None:
    """Whether someone else may do ``m`` for the person, as its guide says: its answer to that question, else what
    an agent brings (a material for when another acts) and the conditions on who acts; else that the guide does not
    say. 帮办代办 and 上门办 are offered with it."""
    answers = [f.answer for f in m.faqs if BY_ANOTHER.search(f.question)]
    brought = [f"{x.name}（{x.note}）" if x.note else x.name for x in m.materials
               if _AGENT.search(f"{x.name} {x.note or ''}")]
    who = [c for c in m.conditions if _AGENT.search(c)]
    phone = say("detail.no_materials_phone", phone=m.consult_phone) if m.consult_phone else ""
    if answers:
        ctx.text(say("detail.by_another_faq", name=m.name, answer=answers[0]))
    elif brought and all("监护人" in b for b in brought):
        # (a guardian applying for a child is all it says: whether anyone else may is not)
        ctx.text(say("detail.by_guardian", name=m.name, said="；".join(brought[:3]), phone=phone))
    elif brought or who:
        ctx.text(say("detail.by_another", name=m.name, said="；".join(brought[:3] or who[:2])))
    else:
        ctx.text(say("detail.by_another_unknown", name=m.name, phone=phone))


def _answer_detail(ctx: StepContext, m: Any, intent: str) -> None:
    by_another = ctx.tracker.latest_message.get("interpreted") == "by_another"
    if by_another:
        _by_another(ctx, m)
    if intent == "ask_materials":
        if m.materials:
            ctx.text(say("detail.materials", name=m.name))
            ctx.reply(checklist_part(m))
            if m.conditions:
                ctx.text(say("detail.conditions", conditions="；".join(m.conditions[:5])))
        else:
            where = say("detail.no_materials_link", link=m.online_link) if m.online_link \
                else say("detail.no_materials_window")
            phone = say("detail.no_materials_phone", phone=m.consult_phone) if m.consult_phone else ""
            ctx.text(say("detail.no_materials", name=m.name, where=where, phone=phone))
    elif intent == "ask_location":
        hall_line = _at_named_hall(ctx, m)
        if hall_line:
            ctx.text(hall_line)
        if m.places:
            ctx.text(say("detail.places", name=m.name, places=_places_text(m)))
        else:
            ctx.text(say("detail.no_places", name=m.name))
        if m.online_link:
            ctx.text(say("detail.online", link=m.online_link))
    elif intent == "ask_time":
        when = [c for c in m.conditions if _WHEN_TO_APPLY.search(c)] if AHEAD_HOW_LONG.search(ctx.tracker.text) else []
        if when:  # «要提前多久续» after a renewal: when to apply, as its guide says, before how long it takes
            ctx.text(say("detail.time_ahead", when="；".join(when[:2])))
        bits = []
        if m.promised_time_limit:
            bits.append(say("detail.time_promised", value=m.promised_time_limit))
        if m.legal_time_limit:
            bits.append(say("detail.time_legal", value=m.legal_time_limit))
        hours = next((p.hours for p in m.places if p.hours), "")
        if hours:
            bits.append(say("detail.time_hours", value=hours))
        ctx.text(say("detail.time", name=m.name, limits="；".join(bits) if bits else say("detail.time_unknown")))
    else:  # ask_fee
        fee = m.fee.strip() if m.fee else ""
        if ctx.tracker.latest_message.get("interpreted") == "contribution":
            # (what is paid into the insurance or fund: not in the guide; the registering's own fee after it)
            ctx.text(say("detail.contribution", name=m.name, phone=m.consult_phone or say("detail.contribution_phone"),
                         fee=say("detail.contribution_fee", fee=fee) if fee else ""))
        else:
            ctx.text(say("detail.fee", name=m.name, fee=fee) if fee else say("detail.fee_unknown", name=m.name))
    _unverified_notice(ctx, m)
    ctx.reply(_detail_buttons(m, intent))
    if ctx.state.matter_code != m.code:  # «看门诊的钱能报不» brought up 门诊费用报销: a later detail («我是职工医保»)
        _remember_topic(ctx, m)  # is read with it, and may be about a matter it named as much («优待证在哪办»: the 老年人 one)
    _remember(ctx, m)
    offer_help(ctx, by_another=by_another and not ctx.state.form)  # (not while a visit is being booked)
    log_event(log, "dialogue.detail.answered", session=ctx.tracker.sender_id, matter=m.code, intent=intent)


#: How many of a message's best matches a detail question's matter of the conversation's kin is looked for among.
KIN_AMONG = 5


def _kin_asked(ctx: StepContext, kb: Any, current: Any) -> Any:
    """The matter of ``current``'s kin (its family, or a matter its card offers) that a detail question is about
    when it names none: the first of the message's best matches (:data:`KIN_AMONG`) that is of the kin and found at
    least as a look-alike, by words of its names ``current``'s do not have, when ``current`` is not among them — else
    ``None``. «补办要好多钱» after 居民身份证挂失申报 asks 居民身份证办理's fee, not which of the 补办 elsewhere
    (补领结婚证, 驾驶证补证) the search finds as well."""
    if current is None or _is_payload(ctx) or ctx.tracker.latest_message.get("interpreted"):
        return None
    # (of the five best: the 补办 elsewhere may be three — 补领结婚证, 驾驶证补证, 社会保障卡补领)
    best = _ranked(ctx, kb, KIN_AMONG)
    if any(r.code == current.code for r in best[:3]):
        return None
    ours = kin(kb, current)
    text = ctx.tracker.text or ""
    # (or one the card offers, of another family, found as a message names a matter: «医药费找哪个报» after 工伤认定
    # 申请 is 工伤医疗（康复）费用申报's, whose words it does not say)
    return next((r for r in best if r.code in ours and _score(ctx, r.code) >= LOOK_ALIKE_SCORE
                 and (says_words_of(text, r, current)
                      or offered_apart(r, current, kb) and _score(ctx, r.code) >= MATTER_SCORE)), None)


def _elsewhere(ctx: StepContext, ranked: list[Any], options: list[Any]) -> Any:
    """The message's best match when it is none of ``options``, found well (:data:`MATTER_SCORE`) and far ahead of
    the next (:data:`MEANING_APART`), by words of what it is about that no option's names have; else ``None``."""
    text = ctx.tracker.text or ""
    if not ranked or ranked[0].code in {o.code for o in options} or _score(ctx, ranked[0].code) < MATTER_SCORE \
            or len(ranked) > 1 and _score(ctx, ranked[0].code) - _score(ctx, ranked[1].code) < MEANING_APART:
        return None
    return ranked[0] if all(says_subject_of(text, ranked[0], o) for o in options) else None


@step("action_matter_detail")
async def matter_detail(ctx: StepContext) -> None:
    """``ask_materials`` / ``ask_location`` / ``ask_time`` / ``ask_fee`` for the message's matter or the one the
    conversation is about; asks which matter when there is none."""
    kb = _kb(ctx)
    intent = ctx.tracker.intent if ctx.tracker.intent in DETAIL_INTENTS else "ask_materials"
    if kb is None:
        _kb_loading(ctx)
        return
    named = _explicit_matters(ctx, kb)
    ranked = _ranked(ctx, kb)
    strong = [r for r in ranked if _score(ctx, r.code) >= STRONG_MATCH_SCORE]
    current = _current(ctx, kb)
    asked_of_kin = _kin_asked(ctx, kb, current) if not named else None
    current = asked_of_kin or current
    ambiguous = bool(ctx.tracker.latest_message.get("ambiguous")) and not _is_payload(ctx)
    if not named and ambiguous and len(strong) >= 2 and asked_of_kin is None and \
            not (current is not None and any(current.code == r.code for r in strong)):
        said = _said_whole(ctx, strong) or told_by_subject(ctx.tracker.text or "", strong, kb)
        if said is None:
            _clarify(ctx, strong, intent)
            return
        named = [said]
    if not named and current is not None and ranked and _score(ctx, ranked[0].code) >= MATTER_SCORE \
            and all(r.code != current.code for r in ranked[:3]) and not ctx.tracker.latest_message.get("interpreted") \
            and says_words_of(ctx.tracker.text or "", ranked[0], current):
        current = None  # «不动产登记要带啥» after 上门办服务预约: a question about other matters (which of them?)
    m = named[0] if named else current
    if named and not _is_payload(ctx) and not ctx.tracker.latest_message.get("interpreted"):
        kinds = other_kinds(ctx.tracker.text or "", m, ctx.tracker.latest_message.get("matters") or [], kb)
        if kinds:
            _clarify(ctx, kinds, intent)  # «营业执照在哪办»: 补领's places or 设立's? (as a card would ask)
            return
    options = offered(ctx.state, kb)
    if m is None and len(options) >= 2:
        # «换领要带照片不» after the 残疾人证 options: 残疾人证换领's — unless the question is about a matter elsewhere,
        # found well and far ahead, by what it is about: «收二手手机要去哪里备案» after the 个体工商户 options
        m = _elsewhere(ctx, ranked, options) or _said_whole(ctx, options)
        if m is None:
            _clarify(ctx, options, intent)  # «要去哪里办» after options, none picked: the same options, for this question
            return
    if m is None and len(ranked) >= 2 and _score(ctx, ranked[0].code) >= MATTER_SCORE:
        # «上门要收费不»: 上门办服务预约, the one of them it says the words of — of those near the first only: «大学生
        # 医保在哪交» finds 城乡居民参保登记 far ahead of 在校大学生创业担保贷款贴息申请, whose name says 大学生
        # (nor of the cases arising within the first that it does not say: «失业金能领几个月» is no 丧葬补助金)
        text = ctx.tracker.text or ""
        ranked = ranked[:1] + [r for r in ranked[1:] if not within_unasked(text, ranked[0], r)]
        near = [r for r in ranked if _score(ctx, ranked[0].code) - _score(ctx, r.code) < MEANING_APART]
        m = _said_whole(ctx, near) if len(near) >= 2 else None
        if m is None and not ambiguous and len(near) >= 2 and QUESTION.search(text) and all(
                to_get_one(text, near[0], r) or kind_unsaid(text, r) and not after_getting(near[0]) for r in near[1:]):
            # «想给她办个残疾证，第一次办要啥子材料»: the getting of one, not what is done to one already had (as the
            # card's own question would read it)
            m = near[0]
        if m is None and not ambiguous and (QUESTION.search(text) or PLAN.match(text)) \
                and (len(ranked) == 1 or _score(ctx, ranked[0].code) - _score(ctx, ranked[1].code) >= MEANING_APART):
            # «公司地址变了在哪办»: 公司变更登记, far ahead of the rest (a statement, «住院的费用好多哦», asks nothing;
            # a plan told, «想在路边搭个临时棚子放材料», is about doing it)
            m = ranked[0]
        m = m or told_by_subject(text, ranked, kb)  # («宝宝打疫苗的那个本子弄丢了»: found by 弄丢 alone, the others)
        if m is None:
            _clarify(ctx, ranked, intent)  # «不动产登记要带啥»: which of them (not for a bare «要带啥»)
            return
    if m is None:
        ctx.text(say("matter.which", what=say(f"detail.what.{intent}")))
        ctx.unplaced = True
        return
    _answer_detail(ctx, m, intent)


# --- small talk and out of scope -----------------------------------------------------------------------------------

@step("action_smalltalk")
def smalltalk(ctx: StepContext) -> None:
    """Greetings, thanks, yes/no and chit-chat: one friendly line that brings the person back to their matter."""
    intent = ctx.tracker.intent if ctx.tracker.intent in SMALLTALK_INTENTS else "chitchat"
    # («我爸住在重庆», «我是台湾的»: who or where, told before anything is asked)
    told = {"chongqing_told": "chongqing", "who_told": "who"}.get(ctx.tracker.latest_message.get("interpreted"))
    ctx.text(say(f"smalltalk.{told or intent}"))
    if ctx.tracker.latest_message.get("interpreted") == "backs_out":
        ctx.set_slot("candidates", None)  # («算了不办了» after options: none of them is being chosen any more)
    offer_help(ctx)  # «我奶奶中风了躺在床上», whatever the classifier made of it


@step("action_out_of_scope")
def out_of_scope(ctx: StepContext) -> None:
    """Not a government matter: a polite redirect (12345, 好差评), never a wrong matter — unless the message says
    that someone cannot come to the hall («我妈走不动了»): that is what 上门办 and 帮办代办 are for."""
    if ctx.tracker.latest_message.get("cannot_come"):
        offer_help(ctx)
        return
    ctx.text(say("out_of_scope"))


# --- fallback and handoff ------------------------------------------------------------------------------------------

async def open_ticket(ctx: StepContext, reason: str, lead: str | None = None) -> None:
    """Open (or refresh) the conversation's human-helper ticket, routed by the conversation's matter.

    Args:
        ctx: the step.
        reason: why (``request_human``, ``two_fallbacks``, ``complaint`` …), shown to helpers.
        lead: a text said before the ticket line.
    """
    kb = _kb(ctx)
    m = None
    if kb is not None:
        named = _explicit_matters(ctx, kb)
        m = named[0] if named else _current(ctx, kb)
    level = getattr(m, "level", None) or DEFAULT_LEVEL
    s = ctx.services
    handoffs = getattr(s, "handoffs", None) if s is not None else None
    if handoffs is None:
        ctx.text(say("handoff.failed"))
        return
    already = await run_in_threadpool(handoffs.open_for_session, ctx.tracker.sender_id)
    if already is None and not await ctx.take_daily("tickets"):  # refreshing an open ticket is never capped
        ctx.text(say("handoff.capped"))
        log_event(log, "dialogue.handoff.capped", session=ctx.tracker.sender_id, reason=reason)
        return
    transcript = await run_in_threadpool(s.conversations.transcript, ctx.tracker.sender_id)
    transcript.append({"role": "user", "text": ctx.tracker.text, "at": ""})
    # the citizen's street (named in what they wrote, newest first) picks the street/community that sees it first
    said = [ln["text"] for ln in reversed(transcript) if ln.get("role") == "user"]
    place = routing.route_place(level, said)
    ticket = await run_in_threadpool(handoffs.create, ctx.tracker.sender_id, ctx.tracker.channel,
                                     m.code if m else None, m.name if m else None, level, transcript, reason, place)
    part = ticket.part()
    if lead:
        ctx.text(lead)
    ctx.text(say("handoff.opened", level=part["level"], id=part["id"]))
    workbench = getattr(s, "workbench", None)
    if workbench is not None:
        # honest about when someone will answer: outside office hours, or nobody of that level online
        avail = await run_in_threadpool(workbench.availability, part["level"])
        hours = routing.office_hours_text(s.settings)
        if not avail.in_hours:
            ctx.text(say("handoff.closed_hours", hours=hours, when=avail.when))
        elif not avail.online:
            ctx.text(say("handoff.nobody_online", level=part["level"], hours=hours))
        if not avail.in_hours or not avail.online:
            ctx.text(say("handoff.callback_offer"))
            part = {**part, "callback": True}
    ctx.reply({"type": "handoff", "ticket": part})
    ctx.set_slot("handoff_ticket", str(part["id"]))
    ctx.set_slot("fallback_streak", 0)
    log_event(log, "dialogue.handoff", session=ctx.tracker.sender_id, ticket=part["id"], level=part["level"],
              matter=m.code if m else None, reason=reason)


@step("action_handoff")
async def handoff(ctx: StepContext) -> None:
    """``request_human``: open (or refresh) the conversation's human-helper ticket; right after a matter answer the
    triage inbox notes the question (the answer did not help)."""
    if ctx.services is not None and getattr(ctx.services, "db", None) is not None:
        await run_in_threadpool(note_handoff, ctx.services, ctx.tracker.sender_id, ctx.tracker.channel)
    await open_ticket(ctx, "request_human")


async def _fallback(ctx: StepContext) -> None:
    if ctx.tracker.latest_message.get("cannot_come") or ctx.tracker.latest_message.get("needs_a_hand"):
        offer_help(ctx)  # «老人家出不得门了», «我不识字», understood as nothing else, are understood as this
        return
    ctx.unplaced = True
    if ctx.tracker.latest_message.get("interpreted") == "which_card":
        ctx.text(say("fallback.which_card"))  # («我要办证»: understood — which one is asked, no failure counted)
        ctx.reply(buttons([human_button()]))
        return
    streak = ctx.state.fallback_streak + 1
    if streak >= FALLBACKS_BEFORE_HANDOFF:
        await open_ticket(ctx, "two_fallbacks", say("handoff.after_fallbacks"))
        return
    kb = _kb(ctx)
    suggestions = _ranked(ctx, kb) if kb is not None else []
    if suggestions:
        ctx.text(say("fallback.suggest"))
        items = [(m.name, payload("ask_matter", m.code)) for m in suggestions]
    else:
        ctx.text(say("fallback.rephrase"))
        items = []
    ctx.reply(buttons(items + [human_button()]))
    ctx.set_slot("fallback_streak", streak)
    log_event(log, "dialogue.fallback", session=ctx.tracker.sender_id, streak=streak, intent=ctx.tracker.intent)


@step("action_fallback")
async def fallback(ctx: StepContext) -> None:
    """``nlu_fallback`` (and Rasa's core fallback): ask to rephrase once; the second failure in a row hands over."""
    await _fallback(ctx)
