"""Home-visit bookings changed by two staff at once, on SQLite and PostgreSQL (``db_url``): the changes are applied
one after the other, so a booking one of them cancelled is never also marked done by the other (each round: one
change applies, the other is refused with the booking's new state — whichever thread the scheduler ran first)."""

from __future__ import annotations

import threading
from datetime import date

ROUNDS = 8


def _book(pre, i: int):
    return pre.bookings.create(person_name="张大爷", phone="13812345678", address="金牛区营门口路3栋2单元501",
                               street="营门口街道", matter_name="养老保险待遇资格认证", visit_date=date(2026, 12, 7),
                               half_day="上午", session_id=f"bk-race-{i}")


def _at_once(*calls):
    """Run the calls in threads released together; each result is its return value or the exception raised."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(k, fn):
        barrier.wait()
        try:
            results[k] = fn()
        except Exception as exc:  # noqa: BLE001 - the refusal is the result under test
            results[k] = exc

    threads = [threading.Thread(target=run, args=(k, fn)) for k, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
        assert not t.is_alive(), "a booking update hung"
    return results


def test_cancel_and_done_at_once_one_applies_and_the_other_is_refused(db_pre):
    for i in range(ROUNDS):
        b = _book(db_pre, i)
        results = _at_once(lambda: db_pre.bookings.update(b.number, status="cancelled", any_session=True),
                           lambda: db_pre.bookings.update(b.number, status="done", any_session=True))
        applied = [r for r in results if not isinstance(r, Exception)]
        refused = [r for r in results if isinstance(r, Exception)]
        assert len(applied) == 1 and len(refused) == 1, results
        assert isinstance(refused[0], ValueError) and "cannot be changed" in str(refused[0])
        assert db_pre.bookings.get(b.number, any_session=True).status == applied[0].status

