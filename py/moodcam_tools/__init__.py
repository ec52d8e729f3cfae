"""Offline tooling for moodcam (CPython only): site assembly, serving, model
conversion, training and evaluation. Heavy dependencies live in the
`convert` and `train` extras and are imported lazily by the commands that
need them, so `build.py site` and `build.py serve` run on a bare python3."""
