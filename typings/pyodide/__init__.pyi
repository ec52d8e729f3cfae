# Pyodide 0.27 (only the submodules moodcam imports are stubbed: pyodide.ffi, pyodide.http).
__version__: str
