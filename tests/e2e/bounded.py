"""Page reads with a limit, for tests that read service-worker state across reloads and worker swaps.

Playwright gives page.evaluate no timeout: it waits for the page's JS context, so a navigation that
has destroyed the old context and not yet made a new one (a reload waiting on a worker swap) holds
it for as long as that lasts, and a promise caught in a swap never settles. `_evaluate` reads through
page.wait_for_function instead, whose timeout covers both the wait for the context and the promise.
"""
from __future__ import annotations

import time

STUCK = object()   # a read that did not finish in time (no JS context, or a promise that never settled)


def _evaluate(page, script: str, settle_s: float = 5.0):
    """The value of the JS expression `script` (awaited when it is a promise), read in at most
    `settle_s`: STUCK when it did not finish in that time, None when the page was replaced while
    it ran (a reload)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    wrapped = f"() => Promise.resolve().then(() => ({script})).then(value => ({{value}}))"   # always truthy
    try:
        handle = page.wait_for_function(wrapped, timeout=settle_s * 1000)
        try:
            return handle.json_value()["value"]
        finally:
            handle.dispose()
    except PlaywrightTimeout:
        return STUCK
    except Exception as error:   # the page was replaced mid-read
        if "context was destroyed" not in str(error) and "navigat" not in str(error) \
                and "has been disposed" not in str(error):
            raise
        return None


def _until(page, script: str, accept=bool, timeout: float = 30):
    """The first value of `script` that `accept` takes, asked again every 0.2 s; fails after `timeout`
    with the last value seen and the page's address (so a wrong state is reported as what it was,
    not as a hang)."""
    end = time.monotonic() + timeout
    value = None
    while time.monotonic() < end:
        value = _evaluate(page, script)
        if value is not STUCK and value is not None and accept(value):
            return value
        time.sleep(0.2)
    raise AssertionError(f"{script} never gave an accepted value in {timeout:.0f} s; last: "
                         f"{'no answer (no JS context, or a promise that never settled)' if value is STUCK else repr(value)}"
                         f"; page at {page.url}")
