"""Masking of personal data (身份证号, 手机号, 固定电话, 住址) in text shown to staff and in every log record.

``mask_pii`` keeps enough of each value for a helper to see *what* was given (``138****5678``, ``蜀汉路***``)
without the value itself. It is deliberately conservative about digits: only runs that have the exact shape
of an ID or phone number are touched, so matter catalogue codes (``51201200200013``), dates, amounts and
ticket numbers stay readable.
"""

from __future__ import annotations

import logging
import re

__all__ = ["mask_pii", "mask_data", "mask_name", "PIIMaskingFilter"]

# Digits are never part of a longer alphanumeric run on either side of a match.
_NB = r"(?<![0-9A-Za-z])"
_NA = r"(?![0-9A-Za-z])"

#: 18-digit resident ID: 6-digit region, birth date 19xx/20xx MMDD, 3-digit sequence, check digit (X allowed);
#: also the old 15-digit form (YYMMDD birth date). Spaces between blocks (6 8 4) are tolerated.
_ID18 = re.compile(
    _NB + r"[1-9]\d{5}[\s-]?(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])[\s-]?\d{3}[\dXx]" + _NA)
_ID15 = re.compile(_NB + r"[1-9]\d{5}\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}" + _NA)

#: Mainland mobile: optional +86/86, 1[3-9]x, then 8 digits, optionally grouped 3-4-4 with spaces or dashes.
_MOBILE = re.compile(
    r"(?<![0-9A-Za-z+])(?P<cc>(?:\+?86[\s-]?)?)(?P<a>1[3-9]\d)[\s-]?(?P<b>\d{4})[\s-]?(?P<c>\d{4})" + _NA)

#: Landline with area code: 028-87654321, (028)8765 4321, 0838 1234567, 02887654321. A bare 7-8 digit local
#: number without area code is not masked (too easily a date or an amount).
_LANDLINE = re.compile(
    r"(?<![0-9A-Za-z])(?P<area>\(0\d{2,3}\)|（0\d{2,3}）|0\d{2,3})[\s-]?(?P<num>[2-9]\d{2,3}[\s-]?\d{4})"
    r"(?:[\s-]?(?:转|ext\.?)\s*\d{1,5})?" + _NA)

_NUM = r"[0-9０-９一二三四五六七八九十百零〇两]+"
_HOUSE_TAIL = (
    r"(?:\s*附\s*" + _NUM + r"\s*号)?"
    r"(?:\s*" + _NUM + r"\s*(?:栋|幢|号楼|座))?"
    r"(?:\s*" + _NUM + r"\s*单元)?"
    r"(?:\s*" + _NUM + r"\s*(?:楼|层))?"
    r"(?:\s*" + _NUM + r"\s*(?:室|号房|户|号)?)?"
)
#: Street address: a road/street/lane (optionally with 段) followed by a house number: 蜀汉路88号5栋2单元301室,
#: 一环路北三段12号附3号, 洞子口巷7号. The road name is kept, the number part masked.
_ADDRESS_STREET = re.compile(
    r"(?P<road>(?:大道|路|街|巷|胡同|段))(?P<num>\s*" + _NUM + r"\s*号" + _HOUSE_TAIL + r")")
#: Estate + building: 金房苑3栋2单元501, XX小区12幢 … — the estate name is kept.
_ADDRESS_ESTATE = re.compile(
    r"(?P<road>(?:小区|花园|公寓|大厦|苑|院|村|社区|城|府))"
    r"(?P<num>\s*(?:" + _NUM + r"\s*期\s*)?" + _NUM + r"\s*(?:栋|幢|号楼|座)" + _HOUSE_TAIL + r")")
#: Building/unit/room without an estate name: 3栋2单元501室, 5号楼1单元.
_ADDRESS_UNIT = re.compile(
    r"(?<![0-9])(?P<num>" + _NUM + r"\s*(?:栋|幢|号楼)\s*" + _NUM + r"\s*单元(?:\s*" + _NUM
    + r"\s*(?:楼|层))?(?:\s*" + _NUM + r"\s*(?:室|号)?)?)")


def _mask_id(m: re.Match[str]) -> str:
    raw = re.sub(r"[\s-]", "", m.group(0))
    return raw[:3] + "*" * (len(raw) - 4) + raw[-1]


def _mask_mobile(m: re.Match[str]) -> str:
    return f"{m.group('cc')}{m.group('a')}****{m.group('c')}"


def _mask_landline(m: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", m.group("num"))
    return f"{m.group('area')}-{'*' * (len(digits) - 2)}{digits[-2:]}"


def _mask_address(m: re.Match[str]) -> str:
    road = m.groupdict().get("road") or ""
    return f"{road}***"


def mask_pii(text: str) -> str:
    """Mask personal data in ``text``.

    Args:
        text: any text a citizen or a log line may contain (``None``/non-str values are returned unchanged).

    Returns:
        The text with ID numbers (``510***************X``), mobile numbers (``138****5678``), landlines
        (``028-******21``) and house numbers of addresses (``蜀汉路***``) masked; everything else unchanged.
    """
    if not isinstance(text, str) or not text:
        return text
    out = _ID18.sub(_mask_id, text)
    out = _ID15.sub(_mask_id, out)
    out = _MOBILE.sub(_mask_mobile, out)
    out = _LANDLINE.sub(_mask_landline, out)
    out = _ADDRESS_STREET.sub(_mask_address, out)
    out = _ADDRESS_ESTATE.sub(_mask_address, out)
    out = _ADDRESS_UNIT.sub(_mask_address, out)
    return out


def mask_data(value: object) -> object:
    """:func:`mask_pii` applied to every string inside ``value`` (dicts, lists and tuples are walked; keys and
    other values are kept): for stored reply payloads, WeChat rows and structured log fields."""
    if isinstance(value, str):
        return mask_pii(value)
    if isinstance(value, dict):
        return {k: mask_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(mask_data(v) for v in value)
    return value


_mask_value = mask_data


def mask_name(text: str) -> str:
    """Mask a free-text answer that is personal as a whole (a name with a note, a licence holder): the first
    character stays, every other letter or digit becomes ``*`` (``张三，80岁卧床`` → ``张*，*****``), then
    :func:`mask_pii` for good measure. ``None``/non-str values are returned unchanged."""
    if not isinstance(text, str) or not text:
        return text
    head, tail = text[0], text[1:]
    return head + re.sub(r"[\w]", "*", tail)


class PIIMaskingFilter(logging.Filter):
    """A logging filter that masks personal data in every record passing through it.

    The formatted message replaces ``msg``/``args`` (so a ``%s`` argument is masked too), and the structured
    ``fields`` dict that :func:`assistant.logging.log_event` attaches is masked value by value. Attach it to
    handlers (not loggers): handler filters see records from every logger below the root.
    """

    def filter(self, record: logging.LogRecord) -> bool:  # noqa: A003 - logging API name
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the record
            message = str(record.msg)
        record.msg = mask_pii(message)
        record.args = None
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            record.fields = _mask_value(fields)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_pii(record.exc_text)
        return True
