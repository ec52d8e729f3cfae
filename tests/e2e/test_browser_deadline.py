"""The test browser's deadline: a Playwright call that never returns fails its own test, fast.

Playwright gives page.evaluate no timeout, so one promise that never settles would otherwise hang
the whole run until CI's own limit stops it with no report (it happened once in a service-worker test).
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.browser import CHROMIUM, BrowserDeadline, chromium

pytestmark = pytest.mark.e2e


def test_a_never_settling_evaluate_is_stopped_at_the_deadline():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing")
    started = time.monotonic()
    with pytest.raises(BrowserDeadline, match="killed after 5 s"):
        with chromium(webgl=False, deadline_s=5) as context:
            page = context.new_page()
            page.set_content("<p>hello</p>")
            assert page.evaluate("1 + 1") == 2
            page.evaluate("new Promise(() => {})")
    assert time.monotonic() - started < 60


def test_a_block_that_ends_in_time_is_untouched():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing")
    with chromium(webgl=False, deadline_s=60) as context:
        page = context.new_page()
        page.set_content("<p>hello</p>")
        assert page.evaluate("document.querySelector('p').textContent") == "hello"
