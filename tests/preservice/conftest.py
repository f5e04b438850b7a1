"""Fixtures of the pre-service tests: a migrated temporary database, the app's real ``Services`` over the
committed KB (no NLU, no Rasa), a controllable clock, and the pre-service parts wired on them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest


class FakeClock:
    """A clock tests move by hand: ``clock()`` is the current aware datetime."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, days: float = 0, hours: float = 0) -> None:
        """Move time forward."""
        self.now += timedelta(days=days, hours=hours)


@pytest.fixture
def clock() -> FakeClock:
    """2026-12-01 10:00 in 成都 (02:00 UTC), a Tuesday."""
    return FakeClock(datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc))


@pytest.fixture
def services(make_settings, kb):
    """The app's real Services on a migrated temporary SQLite database (KB loaded, no NLU, no Rasa)."""
    from assistant.container import build_services

    s = build_services(make_settings(staff_token="ps-staff-token"), kb=kb, rasa=None)
    s.db.upgrade()
    yield s
    s.db.dispose()


@pytest.fixture
def pre(services, clock):
    """The pre-service parts over ``services`` with ``clock``."""
    from assistant.preservice.runtime import set_clock

    return set_clock(services, clock)


@pytest.fixture
def db_pre(db_services, clock):
    """The pre-service parts over ``db_services`` (SQLite and PostgreSQL) with ``clock``."""
    from assistant.preservice.runtime import set_clock

    return set_clock(db_services, clock)


# The whole assistant (app + real Rasa server) is the session-wide ``live`` fixture of tests/live_stack.py.

from tests.channels.conftest import fake_wechat  # noqa: E402,F401  (a local fake WeChat API server)
