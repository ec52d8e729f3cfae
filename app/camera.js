// moodcam camera glue (page side): getUserMedia into the <video>, and frames for the engine.
// Python asks ("camera" messages with cmd open/close/frame) and decides what to do with the
// answers; this file only talks to the browser.
//
// Frames reach the engine without a copy where the browser allows:
// - "stream": a MediaStreamTrackProcessor's ReadableStream of VideoFrames, transferred once
//   (Chromium); the engine reads it at its own pace (maxBufferSize 1: only the newest frame waits);
// - "bitmap": one ImageBitmap per request, transferred, taken on the next
//   requestVideoFrameCallback (or requestAnimationFrame with clock "raf": frames back to back).
"use strict";

(function () {
  function errorInfo(error) {
    return { name: String((error && error.name) || "Error"), message: String((error && error.message) || error) };
  }

  function createCamera(video, send) {
    let stream = null;
    let pendingFrame = false;
    let clock = "video";
    // Opened at boot, before the engine asks (the picture shows while Python starts);
    // handed over on the engine's first "open" when the facing matches.
    let early = null;          // {facing, stream} or {facing, error}

    function availability() {
      if (!window.isSecureContext) return "insecure-context";
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return "no-camera-api";
      return "";
    }

    async function cameraCount() {
      try {
        return (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === "videoinput").length;
      } catch (_) {
        return 0;
      }
    }

    function close() {
      if (early) early.ready.then((s) => s.getTracks().forEach((t) => t.stop()), () => {});
      early = null;
      if (stream) stream.getTracks().forEach((t) => t.stop());
      stream = null;
      pendingFrame = false;
      video.srcObject = null;
    }

    function getStream(facing) {
      // ~640 px wide is plenty (the nets see 128 px and 64 px crops). Only the width is asked
      // for: asking for a height too makes Chrome crop the picture to that aspect.
      return navigator.mediaDevices.getUserMedia(
        { audio: false, video: { facingMode: { ideal: facing }, width: { ideal: 640 } } });
    }

    async function play(s) {
      video.srcObject = s;
      try { await video.play(); } catch (_) { /* muted autoplay: frames decode anyway */ }
      for (let i = 0; i < 200 && !(video.videoWidth > 0 && video.readyState >= 2); i++) {
        await new Promise((r) => setTimeout(r, 25));
      }
    }

    function openEarly(facing) {
      if (availability()) return;
      // A front camera is shown mirrored (Python sets the same class once it takes over).
      video.classList.toggle("mirrored", facing === "user");
      early = { facing, ready: getStream(facing).then(async (s) => { await play(s); return s; }) };
      early.ready.catch(() => {});
    }

    async function open(facing, wantedClock) {
      const pre = early;
      early = null;
      if (!(pre && pre.facing === facing)) close();
      clock = wantedClock;
      const blocked = availability();
      if (blocked) return send({ type: "camera", event: "failed", error: { name: blocked, message: "" } });
      try {
        stream = pre && pre.facing === facing ? await pre.ready : await getStream(facing);
      } catch (error) {
        return send({ type: "camera", event: "failed", error: errorInfo(error) });
      }
      if (video.srcObject !== stream) await play(stream);
      const track = stream.getVideoTracks()[0];
      // A camera unplugged or taken by another app ends its track.
      track.addEventListener("ended", () => send({ type: "camera", event: "ended" }));
      const settings = track.getSettings ? track.getSettings() : {};
      let frames = null;
      let transport = "bitmap";
      const transfer = [];
      if (clock === "video" && typeof MediaStreamTrackProcessor === "function") {
        try {
          frames = new MediaStreamTrackProcessor({ track, maxBufferSize: 1 }).readable;
          transport = "stream";
          transfer.push(frames);
        } catch (_) {
          frames = null;
        }
      }
      if (transport === "bitmap" && clock === "video" && !("requestVideoFrameCallback" in video)) clock = "raf";
      send({ type: "camera", event: "opened", width: video.videoWidth, height: video.videoHeight,
             facing: String(settings.facingMode || facing), transport, frames,
             clock: transport === "stream" ? "MediaStreamTrackProcessor"
               : clock === "raf" ? "requestAnimationFrame" : "requestVideoFrameCallback",
             cameras: await cameraCount() }, transfer);
    }

    function nextTick(fn) {
      if (clock === "video" && "requestVideoFrameCallback" in video) video.requestVideoFrameCallback(fn);
      else requestAnimationFrame(fn);
    }

    function frame() {
      // One ImageBitmap for the engine on the next camera frame; never two outstanding.
      if (pendingFrame || !stream) return;
      pendingFrame = true;
      nextTick(async () => {
        if (!stream || video.videoWidth === 0) { pendingFrame = false; return; }
        let bitmap;
        try {
          bitmap = await createImageBitmap(video);
        } catch (error) {
          pendingFrame = false;
          return send({ type: "camera", event: "frame-failed", error: errorInfo(error) });
        }
        pendingFrame = false;
        send({ type: "frame", bitmap, width: bitmap.width, height: bitmap.height }, [bitmap]);
      });
    }

    return { open, openEarly, close, frame };
  }

  window.moodcamCamera = { createCamera };
})();
