"""Bulk imports from CSV or xlsx: licences to watch and newly registered firms.

Rows are checked one by one; good rows are kept, bad rows are reported with the spreadsheet row number (the
header is row 1) and every reason, duplicates (within the file or already imported) are reported separately.
"""

from __future__ import annotations

import asyncio

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from assistant.logging import get_logger, log_event
from assistant.preservice.validation import InvalidValue, parse_date, parse_expiry, parse_phone

log = get_logger(__name__)

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
#: Columns read from a row (the import formats have fewer than 10; more are ignored in xlsx, refused in CSV).
MAX_COLUMNS = 64
#: Sheet rows looked at, blank ones included (a sheet that claims a million rows is refused, not walked).
MAX_SHEET_ROWS = 4 * MAX_ROWS
#: Longest CSV line accepted (a hostile line of millions of separators is refused before it is split).
MAX_LINE_CHARS = 64 * 1024
#: Total size an xlsx may unpack to (a zip bomb is refused before it is opened).
MAX_UNZIPPED_BYTES = 64 * 1024 * 1024


class UploadError(ValueError):
    """The file as a whole cannot be read (wrong type, no header, too large); ``str(exc)`` is the message."""


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


def _cell(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, (datetime, date)):
        return v
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def read_table(filename: str, data: bytes) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    """The header and the rows of a CSV (UTF-8 with or without BOM, or GB18030) or xlsx file.

    Args:
        filename: the uploaded file's name (its extension decides the format).
        data: the file's bytes.

    Returns:
        ``(header, [(row number, cells), …])`` without blank rows.

    Raises:
        UploadError: too large, an unknown format, unreadable or malformed (a zip bomb, a DTD, a line or row too
            long), no header, too many rows — the only error it raises.
    """
    if len(data) > MAX_BYTES:
        raise UploadError(f"文件太大（上限 {MAX_BYTES // 1024 // 1024} MB）。/ file larger than {MAX_BYTES} bytes")
    name = (filename or "").lower()
    rows: list[tuple[int, list[Any]]] = []
    if name.endswith(".csv"):
        for enc in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        else:  # pragma: no cover - gb18030 decodes any byte string
            raise UploadError("CSV 文件编码无法识别，请另存为 UTF-8。/ unreadable CSV encoding")
        rows = _csv_rows(text)
    elif name.endswith(".xlsx"):
        rows = _xlsx_rows(data)
    else:
        raise UploadError("只支持 .csv 和 .xlsx 文件。/ only .csv and .xlsx files are accepted")
    rows = [(i, r) for i, r in rows if any(c not in ("", None) for c in r)]
    if not rows:
        raise UploadError("文件是空的。/ the file is empty")
    if len(rows) - 1 > MAX_ROWS:
        raise _too_many_rows()
    header = [str(c).strip() for c in rows[0][1]]
    return header, rows[1:]


def _too_many_rows() -> UploadError:
    return UploadError(f"一次最多导入 {MAX_ROWS} 行，请分批上传。/ at most {MAX_ROWS} rows per file")


def _lines(text: str):
    for line in io.StringIO(text, newline=""):
        if len(line) > MAX_LINE_CHARS:
            raise UploadError(f"CSV 有一行超过 {MAX_LINE_CHARS} 个字符，请检查文件。/ a CSV line is too long")
        yield line


def _csv_rows(text: str) -> list[tuple[int, list[Any]]]:
    """Non-blank rows of a CSV text; stops at the row cap, never holds more than it keeps."""
    rows: list[tuple[int, list[Any]]] = []
    try:
        for i, r in enumerate(csv.reader(_lines(text)), 1):
            if len(r) > MAX_COLUMNS:
                raise UploadError(f"CSV 第 {i} 行超过 {MAX_COLUMNS} 列，请检查分隔符。/ row {i} has too many columns")
            cells = [_cell(c) for c in r]
            if any(c != "" for c in cells):
                rows.append((i, cells))
                if len(rows) - 1 > MAX_ROWS:
                    raise _too_many_rows()
    except csv.Error as exc:
        raise UploadError(f"CSV 格式有误（{exc}），请另存为标准 CSV。/ malformed CSV") from None
    return rows


def _xlsx_rows(data: bytes) -> list[tuple[int, list[Any]]]:
    """Non-blank rows of the first sheet (first :data:`MAX_COLUMNS` columns); a zip bomb, a DTD or a sheet
    beyond the row cap is refused."""
    import zipfile

    import openpyxl

    unreadable = ("xlsx 文件打不开（{}），请确认是 Excel 2007 以上格式。/ the xlsx file cannot be read")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
            if len(infos) > 1000 or sum(i.file_size for i in infos) > MAX_UNZIPPED_BYTES:
                raise UploadError(f"xlsx 文件解压后太大（上限 {MAX_UNZIPPED_BYTES // 1024 // 1024} MB）。"
                                  "/ the xlsx unpacks to too much data")
            for info in infos:  # no DTD anywhere: entity expansion (billion laughs) and external entities
                if info.filename.endswith((".xml", ".rels")):
                    with z.open(info) as f:
                        head = f.read(4096)
                    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                        raise UploadError("xlsx 文件含有不允许的 DTD 声明。/ DTDs are not allowed in xlsx files")
    except UploadError:
        raise
    except Exception as exc:
        raise UploadError(unreadable.format(type(exc).__name__)) from None
    rows: list[tuple[int, list[Any]]] = []
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            ws = wb.worksheets[0]
            if (ws.max_row or 0) > MAX_SHEET_ROWS:  # the sheet's own dimension says it is far too long
                raise _too_many_rows()
            for i, r in enumerate(ws.iter_rows(max_row=MAX_SHEET_ROWS, max_col=MAX_COLUMNS, values_only=True), 1):
                cells = [_cell(c) for c in r]
                while cells and cells[-1] == "":  # the cap pads rows to MAX_COLUMNS
                    cells.pop()
                if cells:
                    rows.append((i, cells))
                    if len(rows) - 1 > MAX_ROWS:
                        raise _too_many_rows()
        finally:
            wb.close()
    except UploadError:
        raise
    except Exception as exc:
        raise UploadError(unreadable.format(type(exc).__name__)) from None
    return rows


def map_columns(header: list[str], spec: dict[str, tuple[str, ...]], required: tuple[str, ...]) -> dict[str, int]:
    """Field → column index, by the known header names.

    Raises:
        UploadError: a required column is missing (the message lists the accepted names).
    """
    out: dict[str, int] = {}
    norm = [re.sub(r"[\s*（）()]", "", h).lower() for h in header]
    for fld, names in spec.items():
        for n in names:
            key = re.sub(r"[\s*（）()]", "", n).lower()
            if key in norm:
                out[fld] = norm.index(key)
                break
    missing = [f for f in required if f not in out]
    if missing:
        raise UploadError("缺少列：" + "；".join(f"{f}（可写作：{'/'.join(spec[f][:3])}）" for f in missing)
                          + f" / missing columns: {', '.join(missing)}")
    return out


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
