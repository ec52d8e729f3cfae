"""The old import path of the page <-> engine protocol, kept while callers move.

The messages, their table, their enums, the ui ops (UI_OPS, check_op) and the parser now
live in one place, browser.messages. browser.ui still imports check_op from here; once it
imports from .messages, this module can go.
"""
from __future__ import annotations

from .messages import UI_OPS, check_op

__all__ = ["UI_OPS", "check_op"]
