"""Reading uploaded tables (CSV or xlsx) row by row: the one reader of the pre-service imports and the guidebook
import. The header is row 1; rows keep their spreadsheet numbers so reports can point at them."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from typing import Any

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
