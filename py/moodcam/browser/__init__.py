"""The browser layer: the only part of moodcam that talks to JavaScript.

Every `import js` / `from pyodide...` in moodcam lives under this package, in one module:
`interop` (the other modules call its small typed functions; tests/browser_logic/
test_interop_boundary.py holds the rule). So the core (detection, tracking, mood) stays
plain Python + numpy and runs the same in CPython tests and in Pyodide. It runs in the
engine (a dedicated worker, or the page as a fallback): `engine.start` is its entry,
`messages` names every message to and from the page, `session` composes the parts and
`runner` runs every mode's stages on a frame.

`failures`, `settings` and `messages` are pure (no JS) and can be imported anywhere,
which is what makes their logic testable in CPython.
"""
