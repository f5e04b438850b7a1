"""Background jobs that repeat: the reminder scheduler, the retention purge and the firm-escalation check all run
the same loop (run, log a failure, sleep) and stop the same way."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable


async def repeat(run: Callable[[], Awaitable[object]], interval_s: float, log: logging.Logger,
                 failure_event: str) -> None:
    """Await ``run()`` now and then every ``interval_s`` seconds, forever; a failure is logged as
    ``failure_event`` and the loop goes on (cancel the task to stop it)."""
    while True:
        try:
            await run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception(failure_event)
        await asyncio.sleep(interval_s)


async def cancel(task: asyncio.Task | None) -> None:
    """Cancel ``task`` (if any) and wait until it has ended."""
    if task is None:
        return
    task.cancel()
    try:
        await task
    except BaseException:
        pass
