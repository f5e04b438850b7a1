"""Reply parts → WeChat text messages.

WeChat text messages (passive replies and customer-service messages) are plain text limited to 2048 bytes;
this module renders the spine's reply parts as readable text — the matter card as its key lines, the checklist
as a numbered list, buttons as numbered options ("回复数字"), links as bare URLs (WeChat makes them clickable) —
and splits a long answer into at most :data:`MAX_MESSAGES` messages of at most :data:`MAX_BYTES` UTF-8 bytes,
never in the middle of a character.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Rendered", "render_parts", "split_text", "MAX_BYTES", "MAX_MESSAGES", "PORTAL_URL"]

#: WeChat's limit is 2048 bytes per text message; keep a margin.
MAX_BYTES = 2000
#: One passive reply + three customer-service messages at most per answer.
MAX_MESSAGES = 4
#: 四川政务服务网 (天府通办), linked when a matter has no online link of its own.
PORTAL_URL = "https://www.sczwfw.gov.cn"
TRUNCATED = "……（内容较长，完整信息请到四川政务服务网查看：" + PORTAL_URL + "）"


@dataclass
class Rendered:
    """A rendered answer.

    Attributes:
        messages: the WeChat text messages to send, in order (at least one).
        buttons: the numbered options shown (``[{"title", "payload"}]``), so a reply "2" can be mapped back.
    """

    messages: list[str]
    buttons: list[dict[str, str]] = field(default_factory=list)


def _line(label: str, value: Any) -> str | None:
    value = str(value or "").strip()
    return f"{label}：{value}" if value else None


def render_matter_card(m: dict[str, Any]) -> str:
    """The matter card as text lines (name, department, place, hours, time limit, fee, phone, link)."""
    place = str(m.get("place") or "")
    if m.get("address"):
        place = f"{place}（{m['address']}）" if place else str(m["address"])
    time_limit = m.get("promised_time_limit") or m.get("legal_time_limit")
    lines = [f"【{m.get('name') or '办事事项'}】",
             _line("办理部门", m.get("department")), _line("事项类型", m.get("matter_type")),
             _line("办理地点", place), _line("办公时间", m.get("hours")),
             _line("办理时限", time_limit), _line("收费", m.get("fee")),
             _line("咨询电话", m.get("consult_phone")),
             _line("在线办理", m.get("online_link") or PORTAL_URL)]
    if not m.get("verified", False):
        lines.append("（信息仅供参考，请以窗口最新要求为准）")
    return "\n".join(x for x in lines if x)


def render_checklist(part: dict[str, Any]) -> str:
    """The checklist as a numbered list: ``1. 身份证（原件，1份）``, conditional items marked."""
    name = (part.get("matter") or {}).get("name") or ""
    items = part.get("items") or []
    if not items:
        return f"【{name}·材料清单】\n暂无详细材料清单，请咨询窗口或转人工。"
    lines = [f"【{name}·材料清单】" if name else "【材料清单】"]
    for i, it in enumerate(items, 1):
        if not isinstance(it, dict):
            continue
        detail = "，".join(x for x in [str(it.get("form") or ""),
                                       f"{it['copies']}份" if it.get("copies") else ""] if x)
        line = f"{i}. {it.get('name', '')}" + (f"（{detail}）" if detail else "")
        if it.get("requirement") == "conditional":
            line += f"〔如适用：{it.get('note') or '视情况提供'}〕"
        elif it.get("note"):
            line += f"——{it['note']}"
        lines.append(line)
    return "\n".join(lines)


def render_parts(parts: list[dict[str, Any]], max_bytes: int = MAX_BYTES,
                 max_messages: int = MAX_MESSAGES) -> Rendered:
    """Render reply parts into WeChat text messages.

    Args:
        parts: the ``replies`` of a ``ChatResponse`` (or staff messages).
        max_bytes: the byte limit of one message.
        max_messages: the most messages one answer may take; the rest is cut with a pointer to the portal.

    Returns:
        The messages and the numbered buttons shown.
    """
    blocks: list[str] = []
    buttons: list[dict[str, str]] = []
    for part in parts or []:
        if not isinstance(part, dict):
            continue
        t = part.get("type")
        if t == "text" and part.get("text"):
            blocks.append(str(part["text"]))
        elif t == "notice" and part.get("text"):
            blocks.append(f"【提示】{part['text']}")
        elif t == "matter_card" and isinstance(part.get("matter"), dict):
            blocks.append(render_matter_card(part["matter"]))
        elif t == "checklist":
            blocks.append(render_checklist(part))
        elif t == "buttons":
            opts = [b for b in part.get("buttons") or [] if isinstance(b, dict) and b.get("title")]
            if opts:
                start = len(buttons)
                buttons.extend({"title": str(b["title"]), "payload": str(b.get("payload") or b["title"])}
                               for b in opts)
                blocks.append("回复数字选择：\n" + "\n".join(
                    f"{start + i}. {b['title']}" for i, b in enumerate(opts, 1)))
        elif t == "handoff" and isinstance(part.get("ticket"), dict):
            tk = part["ticket"]
            blocks.append(f"【人工服务】工单号 {tk.get('id', '')}（{tk.get('level', '区政务大厅')}），"
                          "专员回复后会通过微信消息发给您。")
        elif t == "staff" and part.get("text"):
            who = part.get("staff_name") or "金帮办专员"
            blocks.append(f"【{who}】{part['text']}")
    if not blocks:
        blocks = ["收到。请告诉我您想办理什么事，比如“办居住证要带啥材料”。"]
    messages = _pack(blocks, max_bytes)
    if len(messages) > max_messages:
        messages = messages[:max_messages]
        tail = "\n" + TRUNCATED
        last = messages[-1]
        while len((last + tail).encode("utf-8")) > max_bytes:
            last = last[:-20]
        messages[-1] = last + tail
    return Rendered(messages=messages, buttons=buttons)


def _pack(blocks: list[str], max_bytes: int) -> list[str]:
    out: list[str] = []
    cur = ""
    for block in blocks:
        for piece in split_text(block, max_bytes):
            cand = f"{cur}\n\n{piece}" if cur else piece
            if len(cand.encode("utf-8")) <= max_bytes:
                cur = cand
            else:
                out.append(cur)
                cur = piece
    if cur:
        out.append(cur)
    return out


def split_text(text: str, max_bytes: int = MAX_BYTES) -> list[str]:
    """Split ``text`` into pieces of at most ``max_bytes`` UTF-8 bytes, preferring line boundaries.

    Args:
        text: any text.
        max_bytes: the byte limit of one piece (at least 8).
    """
    if len(text.encode("utf-8")) <= max_bytes:
        return [text]
    pieces: list[str] = []
    cur = ""
    for line in text.split("\n"):
        while len(line.encode("utf-8")) > max_bytes:  # one over-long line: cut by characters
            if cur:
                pieces.append(cur)
                cur = ""
            n, size = 0, 0
            for ch in line:
                b = len(ch.encode("utf-8"))
                if size + b > max_bytes:
                    break
                size += b
                n += 1
            pieces.append(line[:n])
            line = line[n:]
        cand = f"{cur}\n{line}" if cur else line
        if len(cand.encode("utf-8")) <= max_bytes:
            cur = cand
        else:
            pieces.append(cur)
            cur = line
    if cur:
        pieces.append(cur)
    return pieces
