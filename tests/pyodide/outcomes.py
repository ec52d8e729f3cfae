"""A tiny pytest plugin: print {test id: outcome} as one JSON line at the end.

Loaded with `-p` both in CPython and inside Pyodide so the two runs can be
compared test by test (ids are relative to the tests/core folder).
"""
import json
import os

_outcomes: dict[str, str] = {}


def pytest_runtest_logreport(report):
    key = report.nodeid.split("::", 1)
    key = os.path.basename(key[0]) + ("::" + key[1] if len(key) > 1 else "")
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        _outcomes[key] = report.outcome


def pytest_sessionfinish(session, exitstatus):
    print("\nOUTCOMES " + json.dumps(_outcomes, sort_keys=True))
