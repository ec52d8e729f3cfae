"""Page evaluates with a limit, for tests that read service-worker state (Playwright gives
page.evaluate no timeout, and a promise caught in a worker swap never settles)."""
from __future__ import annotations

import time

STUCK = object()   # an evaluate whose promise did not settle in time


def _evaluate(page, script: str, settle_s: float = 5.0):
    """page.evaluate with a limit: Playwright gives evaluate none, and a promise that never settles
    (a fetch caught in a worker swap, say) would hang the run. STUCK when it did not settle; None
    when the page was replaced mid-evaluate (the worker's reload)."""
    bounded = (f"Promise.race([Promise.resolve().then(() => ({script})), "
               f"new Promise(r => setTimeout(() => r('__stuck__'), {settle_s * 1000:.0f}))])")
    try:
        value = page.evaluate(bounded)
    except Exception as error:   # the worker's reload replaced the page mid-evaluate
        if "context was destroyed" not in str(error) and "navigat" not in str(error):
            raise
        return None
    return STUCK if value == "__stuck__" else value


def _until(page, script: str, accept=bool, timeout: float = 30):
    """The first value of `script` that `accept` takes, asked again every 0.2 s; fails after `timeout`
    with the last value seen (so a wrong state is reported as what it was, not as a hang)."""
    end = time.monotonic() + timeout
    value = None
    while time.monotonic() < end:
        value = _evaluate(page, script)
        if value is not STUCK and value is not None and accept(value):
            return value
        time.sleep(0.2)
    raise AssertionError(f"{script} never gave an accepted value in {timeout:.0f} s; last: "
                         f"{'a promise that never settled' if value is STUCK else repr(value)}")
