# Pyodide's `js` module: the JavaScript global scope (globalThis). Every name is a
# JS object reached through a JsProxy, so everything is Any to the type checker.
from typing import Any

def __getattr__(name: str) -> Any: ...
