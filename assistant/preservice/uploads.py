"""Bulk imports from CSV or xlsx: licences to watch and newly registered firms.

Rows are checked one by one; good rows are kept, bad rows are reported with the spreadsheet row number (the
header is row 1) and every reason, duplicates (within the file or already imported) are reported separately.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from assistant.logging import get_logger, log_event
from assistant.preservice.validation import InvalidValue, parse_date, parse_expiry, parse_phone
from assistant.tables import map_columns, read_table

log = get_logger(__name__)

LICENCE_COLUMNS = {
    "licence_type": ("证照类型", "许可证类型", "证照名称", "许可证名称", "类型", "licence_type", "type"),
    "number": ("证照编号", "许可证编号", "编号", "证号", "number", "licence_number"),
    "holder": ("持证人", "持证单位", "单位名称", "企业名称", "名称", "holder"),
    "expiry_date": ("有效期至", "到期日期", "到期日", "有效期", "expiry_date", "expiry"),
    "channel": ("提醒渠道", "联系渠道", "渠道", "channel"),
    "contact": ("联系电话", "联系方式", "电话", "contact", "phone"),
    "session_id": ("会话", "会话号", "session_id"),
}
FIRM_COLUMNS = {
    "name": ("企业名称", "名称", "市场主体名称", "name"),
    "credit_code": ("统一社会信用代码", "信用代码", "社会信用代码", "credit_code"),
    "address": ("住所", "地址", "经营场所", "住所（经营场所）", "address"),
    "industry": ("行业", "所属行业", "行业门类", "industry"),
    "registration_date": ("成立日期", "注册日期", "登记日期", "registration_date"),
    "session_id": ("会话", "会话号", "联系会话", "session_id"),
}
_CHANNELS = {"web": "web", "网页": "web", "网站": "web", "wechat": "wechat", "微信": "wechat", "none": "none",
             "电话": "none", "无": "none", "": "web"}


@dataclass
class RowError:
    """A rejected row: its spreadsheet row number and why."""

    row: int
    errors: list[str]


@dataclass
class UploadReport:
    """The outcome of one upload."""

    kind: str
    total: int = 0
    imported: int = 0
    failed: list[RowError] = field(default_factory=list)
    duplicates: list[RowError] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "total": self.total, "imported": self.imported,
                "failed_count": len(self.failed), "duplicate_count": len(self.duplicates),
                "failed": [{"row": e.row, "errors": e.errors} for e in self.failed],
                "duplicates": [{"row": e.row, "errors": e.errors} for e in self.duplicates], **self.extra}


def _get(cells: list[Any], cols: dict[str, int], fld: str) -> Any:
    i = cols.get(fld)
    return cells[i] if i is not None and i < len(cells) else ""


def _as_date(v: Any, today: date) -> date:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    return parse_date(str(v), today)


def import_licences(filename: str, data: bytes, pre: Any, today: date, session_id: str | None = None
                    ) -> UploadReport:
    """Import licences to watch.

    Args:
        filename: the file name (``.csv`` / ``.xlsx``).
        data: its bytes.
        pre: the :class:`assistant.preservice.runtime.PreService`.
        today: the local date (expiry must be after it).
        session_id: a conversation to attach rows without their own ``session_id`` to.

    Raises:
        UploadError: the file as a whole is unusable.
    """
    from assistant.db.preservice import Licence
    from sqlalchemy import select

    header, rows = read_table(filename, data)
    cols = map_columns(header, LICENCE_COLUMNS, ("licence_type", "number", "holder", "expiry_date"))
    report = UploadReport(kind="licences", total=len(rows))
    good: list[tuple[int, dict[str, Any]]] = []
    seen: dict[tuple[str, str], int] = {}
    for rownum, cells in rows:
        errors: list[str] = []
        lt = pre.catalogue.find(str(_get(cells, cols, "licence_type")))
        if lt is None:
            errors.append(f"证照类型「{_get(cells, cols, 'licence_type')}」不在金牛区许可延续提示清单里")
        number = ""
        if lt is not None:
            try:
                number = lt.check_number(str(_get(cells, cols, "number")))
            except InvalidValue as exc:
                errors.append(str(exc))
        holder = str(_get(cells, cols, "holder")).strip()
        if not holder:
            errors.append("持证人为空")
        elif len(holder) > 255:
            errors.append("持证人太长")
        expiry = None
        raw_exp = _get(cells, cols, "expiry_date")
        try:
            d = _as_date(raw_exp, today)
            expiry = parse_expiry(d.isoformat(), today)
        except InvalidValue as exc:
            errors.append(f"有效期「{raw_exp}」：{exc}")
        channel = _CHANNELS.get(str(_get(cells, cols, "channel")).strip().lower())
        if channel is None:
            errors.append(f"提醒渠道「{_get(cells, cols, 'channel')}」应为 网页/微信/电话")
        contact = str(_get(cells, cols, "contact")).strip() or None
        if contact:
            try:
                contact = parse_phone(contact)
            except InvalidValue as exc:
                errors.append(f"联系电话：{exc}")
        sid = str(_get(cells, cols, "session_id")).strip() or session_id
        if errors:
            report.failed.append(RowError(rownum, errors))
            continue
        key = (lt.key, number)
        if key in seen:
            report.duplicates.append(RowError(rownum, [f"与第 {seen[key]} 行重复（同一类型同一编号）"]))
            continue
        seen[key] = rownum
        good.append((rownum, dict(licence_type=lt.key, licence_name=lt.name, number=number, holder=holder,
                                  expiry_date=expiry, channel=channel, contact=contact, session_id=sid,
                                  source="upload", status="active")))
    # duplicates against what is already registered (active); a cancelled one is re-activated
    with pre.db.session() as s:
        numbers = sorted({g["number"] for _, g in good})
        existing = {}
        for i in range(0, len(numbers), 500):  # stay under every database's bound-parameter limit
            existing.update({(r.licence_type, r.number): r for r in s.scalars(
                select(Licence).where(Licence.number.in_(numbers[i:i + 500])))})
        for rownum, g in good:
            cur = existing.get((g["licence_type"], g["number"]))
            if cur is not None and cur.status == "active":
                report.duplicates.append(RowError(rownum, ["这张证照已经登记过了"]))
                continue
            if cur is not None:
                for k, v in g.items():
                    setattr(cur, k, v)
            else:
                s.add(Licence(**g))
            report.imported += 1
    report.duplicates.sort(key=lambda e: e.row)
    log_event(log, "preservice.upload.licences", **{k: v for k, v in report.as_dict().items()
                                                     if k in ("total", "imported", "failed_count",
                                                              "duplicate_count")})
    return report


_CC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_char(first17: str) -> str:
    """The check character (GB 32100-2015) of the first 17 characters of a 统一社会信用代码."""
    total = sum(_CC_CHARS.index(c) * w for c, w in zip(first17, _CC_WEIGHTS))
    return _CC_CHARS[(31 - total % 31) % 31]


def valid_credit_code(code: str) -> bool:
    """Whether ``code`` is a well-formed 统一社会信用代码 (18 characters, valid check character)."""
    return bool(re.fullmatch(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}", code)) and \
        credit_code_check_char(code[:17]) == code[17]


async def import_firms(filename: str, data: bytes, pre: Any, today: date) -> UploadReport:
    """Import newly registered firms: each is matched to its street and queued for that street's specialist;
    a firm with a known conversation gets a welcome message.

    Raises:
        UploadError: the file as a whole is unusable.
    """
    report, views, fresh, unmatched = await asyncio.to_thread(_store_firms, filename, data, pre, today)
    by_street: dict[str, int] = {}
    welcomed = 0
    for v, g in zip(views, fresh):
        by_street[v.street or "未匹配（区政务大厅）"] = by_street.get(v.street or "未匹配（区政务大厅）", 0) + 1
        if g["contact_session"]:
            status = await pre.send_welcome(v, g["contact_session"])
            welcomed += status == "sent"
    report.extra = {"by_street": by_street, "unmatched_rows": unmatched, "welcomed": welcomed}
    log_event(log, "preservice.upload.firms", total=report.total, imported=report.imported,
              failed_count=len(report.failed), duplicate_count=len(report.duplicates), unmatched=len(unmatched))
    return report


def _store_firms(filename: str, data: bytes, pre: Any, today: date) -> tuple[UploadReport, list, list, list[int]]:
    """Read, check and store the firms of an upload (blocking: parsing and the database)."""
    header, rows = read_table(filename, data)
    cols = map_columns(header, FIRM_COLUMNS, ("name", "credit_code", "address", "registration_date"))
    report = UploadReport(kind="firms", total=len(rows))
    good: list[tuple[int, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    unmatched: list[int] = []
    for rownum, cells in rows:
        errors: list[str] = []
        name = str(_get(cells, cols, "name")).strip()
        if not name:
            errors.append("企业名称为空")
        code = re.sub(r"\s", "", str(_get(cells, cols, "credit_code"))).upper()
        if not valid_credit_code(code):
            errors.append(f"统一社会信用代码「{code[:20]}」不正确（应为18位且校验位正确）")
        address = str(_get(cells, cols, "address")).strip()
        if not address:
            errors.append("地址为空")
        reg = None
        raw = _get(cells, cols, "registration_date")
        try:
            reg = _as_date(raw, today)
            if reg > today:
                errors.append(f"成立日期 {reg.isoformat()} 在今天之后")
        except InvalidValue as exc:
            errors.append(f"成立日期「{raw}」：{exc}")
        match = pre.streets.match(address) if address else None
        if match is not None and match.reason == "outside":
            errors.append(f"地址在{match.term}，不属于金牛区")
        if errors:
            report.failed.append(RowError(rownum, errors))
            continue
        if code in seen:
            report.duplicates.append(RowError(rownum, [f"与第 {seen[code]} 行重复（同一信用代码）"]))
            continue
        seen[code] = rownum
        street = match.street.name if match and match.street else ""
        if not street:
            unmatched.append(rownum)
        good.append((rownum, dict(name=name[:255], credit_code=code, address=address[:255],
                                  industry=str(_get(cells, cols, "industry")).strip()[:64], registration_date=reg,
                                  street=street, contact_session=str(_get(cells, cols, "session_id")).strip() or None,
                                  queue_status="open", welcome_status="no_channel", staff_note="")))
    already = pre.firms.existing_codes([g["credit_code"] for _, g in good])
    fresh = []
    for rownum, g in good:
        if g["credit_code"] in already:
            report.duplicates.append(RowError(rownum, ["这家企业已经导入过了"]))
        else:
            fresh.append(g)
    report.duplicates.sort(key=lambda e: e.row)
    views = pre.firms.add_many(fresh) if fresh else []
    report.imported = len(views)
    return report, views, fresh, unmatched
