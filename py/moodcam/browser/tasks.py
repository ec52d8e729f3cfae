"""Every background task goes through one place, so no exception is ever lost.

`Tasks.spawn(coro)` keeps a reference (asyncio only keeps weak ones) and, when the
task ends with an exception, prints the traceback and hands the exception to the
owner's `on_error`, which shows it on the page. Cancelling is not an error.
"""
from __future__ import annotations

import asyncio
import traceback
from typing import Any, Callable, Coroutine


class Tasks:
    def __init__(self, on_error: Callable[[BaseException], None]) -> None:
        self._on_error = on_error
        self._running: set[asyncio.Future] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Future:
        task = asyncio.ensure_future(coro)
        self._running.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Future) -> None:
        self._running.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            traceback.print_exception(type(error), error, error.__traceback__)
            self._on_error(error)

    @property
    def running(self) -> int:
        return len(self._running)
