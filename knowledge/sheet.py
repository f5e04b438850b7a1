"""A matter list as a flat table (one matter a row), for the guidebook's spreadsheet import and export.

Each column is one field (header: the Chinese label or the field name). List fields hold one item a line; a
material line is ``名称｜形式｜份数｜必需/视情况｜备注｜别名、别名`` and a place line ``名称｜层级｜地址｜时间｜电话｜窗口``
(later parts may be left off; ``|`` works as well as ``｜``). :func:`matter_row` writes a row, :func:`row_fields`
reads one back into ``Matter`` fields; what is written reads back to the same matter.
"""

from __future__ import annotations

import re
from typing import Any

from knowledge.schema import Material, Matter, Place

#: (field, header) in column order.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("code", "事项编码"),
    ("name", "事项名称"),
    ("aliases", "别名"),
    ("department", "实施部门"),
    ("conditions", "办理条件"),
    ("materials", "申请材料"),
    ("places", "办理地点"),
    ("legal_time_limit", "法定时限"),
    ("promised_time_limit", "承诺时限"),
    ("fee", "收费"),
    ("online_link", "网上办理"),
    ("consult_phone", "咨询电话"),
    ("verified", "已核实"),
    ("source_ref", "核实来源"),
)
HEADERS = {f: h for f, h in COLUMNS}
_REQUIREMENT = {"required": "必需", "conditional": "视情况"}
_REQUIREMENT_IN = {"必需": "required", "必须": "required", "required": "required", "": "required",
                   "视情况": "conditional", "按情况": "conditional", "conditional": "conditional"}
_YES = {"是", "已核实", "true", "yes", "y", "1"}
_NO = {"否", "未核实", "false", "no", "n", "0", ""}
_SEP = re.compile(r"\s*[|｜]\s*")


class RowError(ValueError):
    """A cell cannot be read; ``str(exc)`` says which and why (Chinese / English)."""


def column_of(header: str) -> str | None:
    """The field a header names (the Chinese label or the field name, spaces ignored), or ``None``."""
    h = re.sub(r"\s+", "", str(header or "")).lower()
    for f, label in COLUMNS:
        if h in (label, f):
            return f
    return None


def _lines(cell: Any) -> list[str]:
    return [x.strip() for x in str(cell or "").replace("\r\n", "\n").split("\n") if x.strip()]


def _material_line(m: Material) -> str:
    parts = [m.name, m.form, str(m.copies), _REQUIREMENT[m.requirement], m.note, "、".join(m.aliases)]
    while parts and parts[-1] == "":
        parts.pop()
    return "｜".join(parts)


def _place_line(p: Place) -> str:
    parts = [p.name, p.level, p.address, p.hours, p.phone, p.window]
    while parts and parts[-1] == "":
        parts.pop()
    return "｜".join(parts)


def matter_row(m: Matter) -> list[str]:
    """The row of one matter, in :data:`COLUMNS` order."""
    cells = {
        "code": m.code, "name": m.name, "aliases": "\n".join(m.aliases), "department": m.department,
        "conditions": "\n".join(m.conditions), "materials": "\n".join(_material_line(x) for x in m.materials),
        "places": "\n".join(_place_line(p) for p in m.places), "legal_time_limit": m.legal_time_limit,
        "promised_time_limit": m.promised_time_limit, "fee": m.fee, "online_link": m.online_link,
        "consult_phone": m.consult_phone, "verified": "是" if m.verified else "否", "source_ref": m.source_ref,
    }
    return [cells[f] for f, _ in COLUMNS]


def _materials(cell: Any) -> list[dict[str, Any]]:
    out = []
    for i, line in enumerate(_lines(cell), 1):
        parts = _SEP.split(line) + [""] * 6
        name, form, copies, req, note, aliases = parts[:6]
        if copies and not copies.isdigit():
            raise RowError(f"申请材料第{i}行的份数「{copies}」不是整数 / materials line {i}: copies must be a number")
        if req not in _REQUIREMENT_IN:
            raise RowError(f"申请材料第{i}行的「{req}」应为 必需 或 视情况 / materials line {i}: 必需 or 视情况")
        out.append({"name": name, "form": form or "原件", "copies": int(copies) if copies else 1,
                    "requirement": _REQUIREMENT_IN[req], "note": note,
                    "aliases": [a for a in re.split(r"[、,，]", aliases) if a.strip()]})
    return out


def _places(cell: Any) -> list[dict[str, Any]]:
    out = []
    for line in _lines(cell):
        parts = _SEP.split(line) + [""] * 6
        name, level, address, hours, phone, window = parts[:6]
        out.append({"name": name, "level": level or "区政务大厅", "address": address, "hours": hours,
                    "phone": phone, "window": window})
    return out


def row_fields(cells: dict[str, Any], current: Matter) -> dict[str, Any]:
    """The matter's fields after a row: ``current``'s fields with every column the row has set from it.

    Args:
        cells: field → cell value (the columns the table has; ``code`` included).
        current: the matter as served now.

    Raises:
        RowError: a cell cannot be read (the schema checks come later, in ``check_guide``).
    """
    data = current.model_dump()
    for f, v in cells.items():
        if f == "code":
            continue
        if f in ("aliases", "conditions"):
            data[f] = _lines(v)
        elif f == "materials":
            data[f] = _materials(v)
        elif f == "places":
            data[f] = _places(v)
        elif f == "verified":
            word = str(v or "").strip().lower()
            if word not in _YES | _NO:
                raise RowError(f"已核实「{v}」应为 是 或 否 / verified must be 是 or 否")
            data[f] = word in _YES
        else:
            data[f] = str(v or "").strip()
    return data
