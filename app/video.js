// moodcam video glue (page side, issue 28): decodes a chosen video file for the engine.
// Python decides which media times to analyse, the pace, progress, cancel and the report
// ("video" messages, moodcam.browser.video_messages); this file only opens the file in a hidden
// <video> from an object URL (the file never leaves the device), seeks, and hands back each
// decoded frame as a transferred ImageBitmap with its media time.
"use strict";

(function () {
  const SEEK_PATIENCE_MS = 10000;     // a seek that never ends (a truncated file): reported as failed
  const STALE_PATIENCE_MS = 150;      // how long a frame that did not move after a seek may take to come

  function mediaError(video) {
    const e = video.error;
    const names = { 1: "aborted", 2: "network", 3: "decode", 4: "not-supported" };
    return { name: e ? names[e.code] || "error" : "error", message: e ? String(e.message || "") : "" };
  }

  function createVideoDecoder(video, send) {
    let url = null;
    let id = 0;
    let chain = Promise.resolve();       // one request at a time, in the order asked
    let lastShown = -1;                  // the timestamp of the frame last handed over

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
      lastShown = -1;
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

    function picture(width, height) {
      // The frame shown after "seeked", as an ImageBitmap (made off this thread, transferred),
      // scaled here only when a smaller size is asked for (a huge video, as photos are). Reading
      // the pixels on this thread instead (a canvas's getImageData) cost 46-70 ms of main-thread
      // time a frame on a loaded 2-core machine, up to a second at worst: the page must stay
      // responsive, so the engine's thread pays for the read (measured 60-75 ms a frame, wasm).
      const same = width === video.videoWidth && height === video.videoHeight;
      return same ? createImageBitmap(video)
        : createImageBitmap(video, { resizeWidth: width, resizeHeight: height, resizeQuality: "medium" });
    }

    function shownTime() {
      // The media time of the frame the element holds now (a VideoFrame of it, no pixels copied), or
      // -1 where there is no VideoFrame: a frame far behind the time asked for means the file stops
      // decoding there (a truncated file still "seeks", to the last frame it could decode).
      if (typeof VideoFrame !== "function") return -1;
      try {
        const shown = new VideoFrame(video);
        const time = shown.timestamp / 1e6;
        shown.close();
        return time;
      } catch (_) {
        return -1;
      }
    }

    async function frame(message) {
      if (id !== message.id) return;
      const seeked = until(["seeked", "error"], SEEK_PATIENCE_MS);
      video.currentTime = message.time;
      const how = await seeked;
      if (how !== "seeked" || video.readyState < 2) {
        const error = how === "timeout" ? { name: "timeout", message: "the seek never ended" } : mediaError(video);
        send({ type: "video", event: "failed", id: message.id, error, time: message.time });
        return;
      }
      const time = video.currentTime;
      let shown = shownTime();
      if (shown >= 0 && shown === lastShown && "requestVideoFrameCallback" in video) {
        // Under load the element can still hold the frame before the seek when "seeked" fires (two
        // analyses of one file then differed): wait for the new frame to be presented, briefly (a
        // seek within the same frame, or past the decodable end, presents none).
        await new Promise((resolve) => {
          video.requestVideoFrameCallback(() => resolve());
          setTimeout(resolve, STALE_PATIENCE_MS);
        });
        shown = shownTime();
      }
      lastShown = shown;
      const image = await picture(message.width, message.height);
      if (id !== message.id) { image.close(); return; }
      send({ type: "video", event: "frame", id: message.id, image, time, shown, width: image.width,
             height: image.height }, [image]);
    }

    function failed(message) {
      // Whatever went wrong is said to the engine, which is waiting for an answer.
      return (error) => send({ type: "video", event: "failed", id: message.id || 0, time: message.time || 0,
                               error: { name: String((error && error.name) || "Error"), message: String((error && error.message) || error) } });
    }

    function receive(message) {
      // The engine's "video" commands, carried out one after another.
      if (message.cmd === "close") { chain = chain.then(close); return; }
      if (message.cmd === "open") { chain = chain.then(() => open(message)).catch(failed(message)); return; }
      if (message.cmd === "frame") chain = chain.then(() => frame(message)).catch(failed(message));
    }

    return { receive };
  }

  function createVideoPreview(video) {
    // The report's preview (app/page.js makes it): the analysed file in a visible <video>, seeked to
    // the moment the engine chose (an analysed frame's media time; the engine draws that frame's
    // boxes over it, browser.video_view). The same file stays loaded from one click to the next.
    let url = null;
    let key = "";

    function show(message) {
      const file = message.file;
      if (!file) {
        video.removeAttribute("src");
        video.load();
        if (url) URL.revokeObjectURL(url);
        url = null;
        key = "";
        return;
      }
      const same = `${file.name}|${file.size}|${file.lastModified}`;
      if (same !== key) {
        if (url) URL.revokeObjectURL(url);
        url = URL.createObjectURL(file);
        key = same;
        video.src = url;
      }
      video.currentTime = message.time;    // before its metadata has loaded: where it starts once loaded
    }

    function receive(message) {
      if (message.cmd === "preview") show(message);
    }

    return { receive };
  }

  window.moodcamVideo = { createVideoDecoder, createVideoPreview };
})();
