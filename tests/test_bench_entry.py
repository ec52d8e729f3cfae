"""What bench's entry points (bench.cli, bench.trace) share: a command's exit status."""
from __future__ import annotations

from bench.site import BenchError, exit_status


def test_a_bench_error_is_one_line_on_stderr_and_status_1(capsys):
    def fails() -> None:
        raise BenchError("node_modules is missing; run `npm ci`")

    assert exit_status("bench.trace", fails) == 1
    assert capsys.readouterr().err == "bench.trace: node_modules is missing; run `npm ci`\n"


def test_a_run_that_finishes_is_status_0(capsys):
    assert exit_status("bench", lambda: None) == 0
    assert capsys.readouterr().err == ""
