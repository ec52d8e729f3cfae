"""One error type for every build failure a person can act on."""
from __future__ import annotations


class BuildError(Exception):
    """A failure that names what went wrong, what was expected and the fix.

    `build.py` prints these without a traceback and exits with status 1.
    """

    def __init__(self, problem: str, *, expected: str | None = None, fix: str | None = None):
        self.problem = problem
        self.expected = expected
        self.fix = fix
        super().__init__(self.render())

    def render(self) -> str:
        lines = [f"error: {self.problem}"]
        if self.expected:
            lines.append(f"  expected: {self.expected}")
        if self.fix:
            lines.append(f"  fix: {self.fix}")
        return "\n".join(lines)
