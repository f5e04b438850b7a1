"""Parsing and validation of what citizens type into the pre-service forms.

Every ``parse_*`` function returns the clean value or raises :class:`InvalidValue` whose message is the Chinese
sentence shown to the citizen.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

from nlu.text import cn_number

__all__ = ["InvalidValue", "today_local", "parse_date", "parse_expiry", "parse_phone", "parse_half_day",
           "normalize_licence_number", "CN_TZ"]

#: 成都 is UTC+8; dates citizens mean are local dates.
CN_TZ = timezone(timedelta(hours=8))

_FULLWIDTH = str.maketrans("０１２３４５６７８９－／．：", "0123456789-/.:")


class InvalidValue(ValueError):
    """A value the citizen typed is not acceptable; ``str(exc)`` is the message to show them. ``recognised``: the
    value is of the kind asked for (a day said, a half-day given) but not one that can be taken (a weekend, the
    past) — as opposed to a text that is no such value at all."""

    def __init__(self, message: str, recognised: bool = False) -> None:
        super().__init__(message)
        self.recognised = recognised


def today_local(now: datetime | None = None) -> date:
    """Today's date in 成都 (UTC+8).

    Args:
        now: an aware datetime (the injectable clock); ``None`` = the real time.
    """
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return now.astimezone(CN_TZ).date()


def _cn_number(s: str) -> int:
    """``"十二"`` → 12, ``"二十"`` → 20, ``"三十一"`` → 31, ``"5"`` → 5 (:func:`nlu.text.cn_number`)."""
    try:
        return cn_number(s)
    except ValueError:
        raise InvalidValue(f"看不懂「{s}」这个数字。") from None


def _build(y: int, m: int, d: int) -> date:
    if not 1 <= m <= 12:
        raise InvalidValue(f"{m}月不是有效的月份，请重新输入日期，例如 2027-03-15。")
    try:
        return date(y, m, d)
    except ValueError:
        raise InvalidValue(f"{y}年{m}月没有{d}日，请核对证件上的日期后重新输入，例如 2027-03-15。") from None


_YMD = re.compile(r"(?P<y>\d{4}|[零〇一二三四五六七八九]{4})\s*[年\-/.]\s*(?P<m>\d{1,2}|[一二三四五六七八九十]{1,3})\s*"
                  r"[月\-/.]\s*(?P<d>\d{1,2}|[一二三四五六七八九十]{1,3})\s*[日号]?")
_COMPACT = re.compile(r"(?<!\d)(?P<y>20\d{2})(?P<m>\d{2})(?P<d>\d{2})(?!\d)")
_MD = re.compile(r"(?P<m>\d{1,2}|[一二三四五六七八九十]{1,3})\s*月\s*(?P<d>\d{1,2}|[一二三四五六七八九十]{1,3})\s*[日号]?")
_YM = re.compile(r"(?P<y>\d{4})\s*[年\-/.]\s*(?P<m>\d{1,2})\s*月?(?!\s*\d)")


def parse_date(text: str, today: date) -> date:
    """A calendar date from text: ``2027-03-15``, ``2027/3/15``, ``2027年3月15日``, ``20270315``,
    ``二〇二七年三月十五日``, ``3月15日`` (the next such date from ``today``). Year-month only (``2027年3月``)
    is refused: an expiry date needs the day.

    Args:
        text: what the citizen typed.
        today: the local date (for dates without a year).

    Raises:
        InvalidValue: no date found, or an impossible one (2月30日).
    """
    t = (text or "").translate(_FULLWIDTH).strip()
    m = _YMD.search(t)
    if m:
        return _build(_cn_number(m["y"]), _cn_number(m["m"]), _cn_number(m["d"]))
    m = _COMPACT.search(t)
    if m:
        return _build(int(m["y"]), int(m["m"]), int(m["d"]))
    m = _MD.search(t)
    if m:
        mm, dd = _cn_number(m["m"]), _cn_number(m["d"])
        y = today.year
        candidate = _build(y if (mm, dd) != (2, 29) or _leap(y) else _next_leap(y), mm, dd)
        if candidate < today:
            y += 1
            candidate = _build(y if (mm, dd) != (2, 29) or _leap(y) else _next_leap(y), mm, dd)
        return candidate
    if _YM.search(t):
        raise InvalidValue("请把日子也告诉我，比如 2027-03-15（证件上「有效期至」那一天）。")
    raise InvalidValue("没看懂这个日期，请按「2027-03-15」或「2027年3月15日」的样子输入。")


def _leap(y: int) -> bool:
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def _next_leap(y: int) -> int:
    while not _leap(y):
        y += 1
    return y


def parse_expiry(text: str, today: date, max_years: int = 10) -> date:
    """A licence expiry date: a real date, after ``today`` and at most ``max_years`` ahead.

    Raises:
        InvalidValue: not a date, already past (or today), or implausibly far away.
    """
    d = parse_date(text, today)
    if d <= today:
        raise InvalidValue(f"{d.isoformat()} 已经到期了，到期的证照不能再登记提醒。"
                           "已过期的许可一般要重新申请，请说「转人工」或咨询窗口。", recognised=True)
    try:
        limit = today.replace(year=today.year + max_years)
    except ValueError:  # 2月29日
        limit = date(today.year + max_years, 2, 28)
    if d > limit:
        raise InvalidValue(f"{d.isoformat()} 离现在超过{max_years}年，请核对证件上的有效期。", recognised=True)
    return d


_MOBILE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")
_LANDLINE = re.compile(r"^(0\d{2,3})(\d{7,8})$")


def parse_phone(text: str) -> str:
    """A mainland mobile (``13812345678``) or a landline with area code (``028-87654321``).

    Returns:
        The normalised number (mobile: 11 digits; landline: ``028-87654321``).

    Raises:
        InvalidValue: anything else.
    """
    raw = re.sub(r"[\s\-()（）]", "", (text or "").translate(_FULLWIDTH))
    raw = re.sub(r"^(电话|手机|号码|手机号|联系电话)[:：是]?", "", raw)
    raw = raw.rstrip("。.")
    m = _MOBILE.match(raw)
    if m:
        return m.group(1)
    if _LANDLINE.match(raw):
        # 010 and 02x are the 3-digit area codes; every other one has 4 digits
        cut = 3 if raw[1] in "12" else 4
        area, local = raw[:cut], raw[cut:]
        if 7 <= len(local) <= 8 and local[0] != "0":
            return f"{area}-{local}"
    raise InvalidValue("这个电话号码好像不对。请输入11位手机号（1开头），或带区号的座机（成都是 028 开头，如 028-8xxxxxxx）。")


_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}


def parse_half_day(text: str, today: date, horizon_days: int = 30) -> tuple[date, str]:
    """A preferred half-day for a home visit: ``明天上午``, ``后天下午``, ``周三上午``, ``下周一下午``,
    ``12月3日上午``, ``2026-12-03 下午``.

    Args:
        text: what the citizen typed.
        today: the local date.
        horizon_days: how far ahead a visit can be booked.

    Returns:
        ``(date, "上午" | "下午")``.

    Raises:
        InvalidValue: no half-day given, a past day or today, a weekend, or beyond the horizon.
    """
    t = (text or "").translate(_FULLWIDTH)
    if re.search(r"上午|早上|早晨|上半天|am|AM", t):
        half = "上午"
    elif re.search(r"下午|午后|下半天|pm|PM", t):
        half = "下午"
    else:
        half = ""
    day: date | None = None
    if "大后天" in t:
        day = today + timedelta(days=3)
    elif "后天" in t:
        day = today + timedelta(days=2)
    elif "明天" in t or "明日" in t:
        day = today + timedelta(days=1)
    elif "今天" in t:
        day = today
    else:
        m = re.search(r"(下+)\s*(?:周|星期|礼拜)([一二三四五六日天])", t)
        if m:
            weeks = len(m.group(1))
            monday = today - timedelta(days=today.weekday()) + timedelta(weeks=weeks)
            day = monday + timedelta(days=_WEEKDAYS[m.group(2)])
        else:
            m = re.search(r"(?:这|本)?\s*(?:周|星期|礼拜)([一二三四五六日天])", t)
            if m:
                wd = _WEEKDAYS[m.group(1)]
                delta = (wd - today.weekday()) % 7 or 7
                day = today + timedelta(days=delta)
            else:
                try:
                    day = parse_date(t, today)
                except InvalidValue as exc:
                    if "没看懂" not in str(exc):
                        raise
                    day = None
    if day is None:
        raise InvalidValue("请告诉我希望哪天上午或下午上门，比如「明天上午」「下周二下午」「12月3日上午」。")
    if not half:
        raise InvalidValue(f"{day.month}月{day.day}日的上午还是下午呢？请说「上午」或「下午」。")
    if day <= today:
        raise InvalidValue("上门服务最早只能约明天，请换一个日子。", recognised=True)
    if day.weekday() >= 5:
        raise InvalidValue(f"{day.month}月{day.day}日是周末，上门服务安排在工作日，请换一个工作日。", recognised=True)
    if day > today + timedelta(days=horizon_days):
        raise InvalidValue(f"只能预约{horizon_days}天以内的上门服务，请选近一点的日子。", recognised=True)
    return day, half


def normalize_licence_number(text: str) -> str:
    """A licence number as stored: full-width → ASCII, spaces and separators removed, letters upper-cased,
    a leading ``编号``/``许可证号`` dropped."""
    t = (text or "").translate(_FULLWIDTH).strip()
    t = re.sub(r"^(许可证编号|许可证号|证书编号|证件号|证号|编号|号码)[:：是为]?", "", t)
    return re.sub(r"[\s\-_·.。，,]", "", t).upper()
