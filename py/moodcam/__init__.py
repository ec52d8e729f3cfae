"""moodcam core: pure Python + numpy logic that runs the same in CPython and Pyodide.

Subpackages: detection (anchors, decoding, NMS, letterbox), geometry (crops),
tracking (face ids, smoothing), mood (voting, state machine, presentation);
``moodcam.pipeline.FrameLogic`` ties them together per frame. The browser glue
lives in ``moodcam.browser`` and is never imported from here.
"""

__version__ = "0.1.0"
