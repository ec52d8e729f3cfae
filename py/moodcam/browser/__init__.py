"""The browser layer: the only part of moodcam that talks to JavaScript.

Every `import js` / `from pyodide...` in moodcam lives under this package, so
the core (detection, tracking, mood) stays plain Python + numpy and runs the
same in CPython tests and in Pyodide.

Modules that import `js` are only imported from `app.start()` in the page.
`failures`, `settings` and `layout` are pure (no JS) and can be imported
anywhere, which is what makes their logic testable in CPython.
"""
