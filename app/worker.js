// moodcam's dedicated worker: Pyodide, TF.js and the whole per-frame path run here, off the
// page's main thread (app/engine.js does the loading; Python does the rest).
"use strict";

importScripts("engine.js");

const engine = self.moodcamEngine.createEngine((message, transfer) => self.postMessage(message, transfer));
self.onmessage = (event) => engine.receive(event.data);
