// moodcam video glue (page side, issue 28): decodes a chosen video file for the engine.
// Python decides which media times to analyse, the pace, progress, cancel and the report
// ("video" messages, moodcam.browser.video_messages); this file only opens the file in a hidden
// <video> from an object URL (the file never leaves the device), seeks, and hands back each
// decoded frame as a transferred ImageBitmap with its own media time.
"use strict";

(function () {
  const SEEK_PATIENCE_MS = 10000;     // a seek that never ends (a truncated file): reported as failed
  const FRAME_PATIENCE_MS = 250;      // requestVideoFrameCallback's word on the frame shown, if it comes

  function mediaError(video) {
    const e = video.error;
    const names = { 1: "aborted", 2: "network", 3: "decode", 4: "not-supported" };
    return { name: e ? names[e.code] || "error" : "error", message: e ? String(e.message || "") : "" };
  }

  function createVideoDecoder(video, send) {
    let url = null;
    let id = 0;
    let chain = Promise.resolve();       // one request at a time, in the order asked
    let frameCallbacks = true;           // false once a seek went by without requestVideoFrameCallback

    function close() {
      id = 0;
      video.removeAttribute("src");
      video.load();
      if (url) URL.revokeObjectURL(url);
      url = null;
    }

    function until(events, ms) {
      // The first of `events` on the <video> (or "timeout"), listeners removed either way.
      return new Promise((resolve) => {
        const done = (name) => {
          clearTimeout(timer);
          for (const e of events) video.removeEventListener(e, handlers[e]);
          resolve(name);
        };
        const handlers = {};
        for (const e of events) { handlers[e] = () => done(e); video.addEventListener(e, handlers[e]); }
        const timer = setTimeout(() => done("timeout"), ms);
      });
    }

    async function open(message) {
      close();
      id = message.id;
      url = URL.createObjectURL(message.file);
      const opened = until(["loadeddata", "error"], SEEK_PATIENCE_MS);
      video.src = url;
      const how = await opened;
      if (id !== message.id) return;
      if (how !== "loadeddata" || !(video.videoWidth > 0)) {
        const error = how === "timeout" ? { name: "timeout", message: "" } : mediaError(video);
        send({ type: "video", event: "failed", id: message.id, error, time: 0 });
        return;
      }
      send({ type: "video", event: "loaded", id: message.id, duration: Number(video.duration) || 0,
             width: video.videoWidth, height: video.videoHeight });
    }

    async function frame(message) {
      if (id !== message.id) return;
      // The frame's own media time comes from requestVideoFrameCallback where the browser calls it
      // for a seek; otherwise currentTime (the time asked for) stands in.
      const watch = frameCallbacks && "requestVideoFrameCallback" in video;
      const shownAt = watch ? new Promise((resolve) => {
        video.requestVideoFrameCallback((_now, meta) => resolve(meta.mediaTime));
        setTimeout(() => resolve(null), SEEK_PATIENCE_MS + FRAME_PATIENCE_MS);
      }) : Promise.resolve(null);
      const seeked = until(["seeked", "error"], SEEK_PATIENCE_MS);
      video.currentTime = message.time;
      const how = await seeked;
      if (how !== "seeked" || video.readyState < 2) {
        const error = how === "timeout" ? { name: "timeout", message: "the seek never ended" } : mediaError(video);
        send({ type: "video", event: "failed", id: message.id, error, time: message.time });
        return;
      }
      const shown = await Promise.race([shownAt, new Promise((r) => setTimeout(() => r(null), FRAME_PATIENCE_MS))]);
      if (shown === null) frameCallbacks = false;
      let bitmap;
      try {
        bitmap = await createImageBitmap(video, { resizeWidth: message.width, resizeHeight: message.height,
                                                  resizeQuality: "high" });
      } catch (error) {
        send({ type: "video", event: "failed", id: message.id, time: message.time,
               error: { name: String(error.name || "Error"), message: String(error.message || error) } });
        return;
      }
      if (id !== message.id) { bitmap.close(); return; }
      send({ type: "video", event: "frame", id: message.id, bitmap, time: shown === null ? video.currentTime : shown,
             width: bitmap.width, height: bitmap.height }, [bitmap]);
    }

    function receive(message) {
      // The engine's "video" commands, carried out one after another.
      if (message.cmd === "close") { chain = chain.then(close); return; }
      if (message.cmd === "open") { chain = chain.then(() => open(message)); return; }
      if (message.cmd === "frame") chain = chain.then(() => frame(message));
    }

    return { receive };
  }

  window.moodcamVideo = { createVideoDecoder };
})();
