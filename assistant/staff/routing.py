"""Who sees a ticket first, and whether somebody is there to answer it.

* Level: the matter's level (区政务大厅 / 街道便民服务中心 / 社区便民服务站, from the guidebook) decides the level.
* Place: for street and community matters, the citizen's street from what they wrote (the street matcher,
  ``assistant/preservice/streets.py``, over the conversation; a community named outright gives the community).
* A helper's queue lists the tickets of their level and place first (:func:`priority`), then the rest of their
  level, then everything else (anyone may help, nobody is locked out).
* Office hours (``staff_office_hours``, ``staff_office_days``, China time) and presence tell the citizen honestly
  when someone will answer (:func:`next_opening`).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from functools import lru_cache

from assistant.settings import Settings
from assistant.staff.identity import StaffUser

#: Staff level code → the level name tickets carry.
LEVEL_NAMES: dict[str, str] = {"district": "区政务大厅", "street": "街道便民服务中心", "community": "社区便民服务站"}
#: Ticket level name → staff level code.
LEVEL_CODES: dict[str, str] = {v: k for k, v in LEVEL_NAMES.items()}
#: China Standard Time (no daylight saving).
CST = timezone(timedelta(hours=8), "CST")
_WEEKDAYS = "一二三四五六日"


@lru_cache(maxsize=1)
def directory():
    """The streets of 金牛区 (``knowledge/data/jinniu_streets.yml``), loaded once."""
    from assistant.preservice.streets import StreetDirectory

    return StreetDirectory.load()


def level_code(level_name: str) -> str:
    """``街道便民服务中心`` → ``street`` (unknown names → ``district``)."""
    return LEVEL_CODES.get(level_name, "district")


def route_place(level_name: str, texts: list[str]) -> str | None:
    """The street (or community) that should see a ticket of ``level_name`` first.

    Args:
        level_name: the ticket's level name.
        texts: what the citizen wrote, newest first (masked text keeps road and community names).

    Returns:
        A street name (``营门口街道``), a community name for community matters when one was named, or ``None``
        (district matters; nothing matched).
    """
    code = level_code(level_name)
    if code == "district":
        return None
    d = directory()
    for text in texts:
        m = d.match(text or "")
        if m.street is None:
            continue
        if code == "community":
            if m.reason == "community":
                return m.term
            named = [c for c in m.street.communities if c in text]  # "营门口街道花照壁社区": the community
            if named:
                return max(named, key=len)
        return m.street.name
    return None


def street_of(place: str | None) -> str | None:
    """The street a place belongs to: the street itself, or the street of a community."""
    if not place:
        return None
    d = directory()
    s = d.get(place)
    if s is not None:
        return s.name
    for st in d.streets:
        if place in st.communities:
            return st.name
    return None


def places() -> dict[str, list[str]]:
    """Every street with its communities (for transfer menus)."""
    return {s.name: list(s.communities) for s in directory().streets}


def priority(user: StaffUser, level_name: str, place: str | None) -> int:
    """How close a ticket is to a helper: 0 their level and place, 1 their level, 2 another level.

    A district helper's place is the whole district; a ticket without a place belongs to its whole level; a
    ticket placed on a street is also "theirs" for a community helper of that street (and the other way round).
    """
    if level_code(level_name) != user.level:
        return 2
    if user.level == "district" or not place or not user.place or place == user.place:
        return 0
    ts, us = street_of(place), street_of(user.place)
    if ts is not None and ts == us and (place == ts or user.place == us):
        return 0
    return 1


def _hours(settings: Settings) -> tuple[time, time]:
    start, end = settings.staff_office_hours.split("-")
    h1, m1 = (int(x) for x in start.split(":"))
    h2, m2 = (int(x) for x in end.split(":"))
    return time(h1, m1), time(h2, m2)


def in_office_hours(settings: Settings, now: datetime | None = None) -> bool:
    """Whether ``now`` (default: the current time) is within the helpers' office hours."""
    local = (now or datetime.now(timezone.utc)).astimezone(CST)
    start, end = _hours(settings)
    return local.isoweekday() in settings.staff_office_days and start <= local.time() < end


def next_opening(settings: Settings, now: datetime | None = None) -> datetime:
    """The next moment office hours begin (``now`` itself when they are on)."""
    now = now or datetime.now(timezone.utc)
    if in_office_hours(settings, now):
        return now
    local = now.astimezone(CST)
    start, _ = _hours(settings)
    for days in range(0, 15):
        day = (local + timedelta(days=days)).date()
        candidate = datetime.combine(day, start, tzinfo=CST)
        if candidate > local and candidate.isoweekday() in settings.staff_office_days:
            return candidate
    return local + timedelta(days=1)  # pragma: no cover - no working day configured


def describe_time(when: datetime, now: datetime | None = None) -> str:
    """``今天 09:00`` / ``明天（周二）09:00`` / ``12月3日（周四）09:00``, China time."""
    local = when.astimezone(CST)
    today = (now or datetime.now(timezone.utc)).astimezone(CST).date()
    hm = local.strftime("%H:%M")
    wd = "周" + _WEEKDAYS[local.weekday()]
    delta = (local.date() - today).days
    if delta == 0:
        return f"今天 {hm}"
    if delta == 1:
        return f"明天（{wd}）{hm}"
    return f"{local.month}月{local.day}日（{wd}）{hm}"


def office_hours_text(settings: Settings) -> str:
    """``周一至周五 09:00-17:00``."""
    days = sorted(set(settings.staff_office_days))
    if days == list(range(days[0], days[-1] + 1)) and len(days) > 1:
        span = f"周{_WEEKDAYS[days[0] - 1]}至周{_WEEKDAYS[days[-1] - 1]}"
    else:
        span = "、".join(f"周{_WEEKDAYS[d - 1]}" for d in days)
    return f"{span} {settings.staff_office_hours}"
