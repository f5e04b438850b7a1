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
        UploadError: too large, an unknown format, unreadable, no header, too many rows.
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
        reader = csv.reader(io.StringIO(text))
        for i, r in enumerate(reader, 1):
            rows.append((i, [_cell(c) for c in r]))
    elif name.endswith(".xlsx"):
        import openpyxl

        try:
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:
            raise UploadError(f"xlsx 文件打不开（{type(exc).__name__}），请确认是 Excel 2007 以上格式。"
                              "/ the xlsx file cannot be read") from None
        ws = wb.worksheets[0]
        for i, r in enumerate(ws.iter_rows(values_only=True), 1):
            rows.append((i, [_cell(c) for c in r]))
        wb.close()
    else:
        raise UploadError("只支持 .csv 和 .xlsx 文件。/ only .csv and .xlsx files are accepted")
    rows = [(i, r) for i, r in rows if any(c not in ("", None) for c in r)]
    if not rows:
        raise UploadError("文件是空的。/ the file is empty")
    if len(rows) - 1 > MAX_ROWS:
        raise UploadError(f"一次最多导入 {MAX_ROWS} 行，请分批上传。/ at most {MAX_ROWS} rows per file")
    header = [str(c).strip() for c in rows[0][1]]
    return header, rows[1:]


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


