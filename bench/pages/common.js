// Shared by the bench-only pages (floor, human, mediapipe, core). Never shipped in dist/.
// A page calls benchLoop(processFrame) after set-up; records land in window.bench.records,
// one per processed frame, so the harness can take medians over any window it likes.
"use strict";

window.bench = { state: "loading", records: [], marks: {}, error: "", info: {}, dropped: 0, ticks: 0 };

function benchParams() {
  const p = new URLSearchParams(location.search);
  return {
    backend: p.get("backend") || "wasm",
    clock: p.get("clock") || "raf",
    detectEvery: Math.max(1, parseInt(p.get("cadence") || "1", 10)),
    emotionEvery: Math.max(1, parseInt(p.get("emotion") || "1", 10)),
    mode: p.get("mode") || "equal",
    delegate: p.get("delegate") || "CPU",
    frames: parseInt(p.get("frames") || "200", 10),
  };
}

function benchMark(name) { window.bench.marks[name] = performance.now(); }

function benchFail(error) {
  console.error("bench page failed:", error);
  window.bench.error = String((error && (error.stack || error.message)) || error).slice(0, 2000);
  window.bench.state = "error";
}

async function benchCamera(video) {
  // The same request as the app (py/moodcam/browser/camera.py): ~640 px wide.
  const stream = await navigator.mediaDevices.getUserMedia({ audio: false, video: { facingMode: { ideal: "user" }, width: { ideal: 640 } } });
  video.srcObject = stream;
  try { await video.play(); } catch (e) { /* muted autoplay */ }
  for (let i = 0; i < 400 && !(video.videoWidth > 0 && video.readyState >= 2); i++) {
    await new Promise((r) => setTimeout(r, 25));
  }
  return stream;
}

// The app's frame clock (py/moodcam/browser/loop.py): requestAnimationFrame, never two frames
// at once, a tick that arrives while a frame is in flight is dropped. clock=tight runs frames
// back to back through a MessageChannel (no 16.7 ms quantisation).
function benchLoop(process, clock) {
  const b = window.bench;
  let busy = false;
  const channel = new MessageChannel();
  async function run() {
    busy = true;
    try {
      const rec = await process();
      if (rec) { rec.t_end = performance.now(); b.records.push(rec); }
      if (b.records.length > 20000) b.records.splice(0, 5000);
    } catch (error) {
      benchFail(error);
      return;
    } finally {
      busy = false;
    }
    if (clock === "tight") channel.port2.postMessage(0);
  }
  function tick() {
    b.ticks++;
    if (busy) b.dropped++; else run();
    if (b.state !== "error") requestAnimationFrame(tick);
  }
  b.state = "running";
  if (clock === "tight") {
    channel.port1.onmessage = () => { if (b.state !== "error") run(); };
    run();
  } else {
    requestAnimationFrame(tick);
  }
}

// Memory as the harness reports it: JS heap, wasm memories, tf.memory() when TF.js is on the page.
function benchMemory(tfLib) {
  const out = {};
  if (performance.memory) {
    out.js_heap_used = performance.memory.usedJSHeapSize;
    out.js_heap_total = performance.memory.totalJSHeapSize;
  }
  if (tfLib) {
    const m = tfLib.memory();
    out.tf_num_tensors = m.numTensors;
    out.tf_num_bytes = m.numBytes;
    if (m.numBytesInGPU !== undefined) out.tf_num_bytes_gpu = m.numBytesInGPU;
    try {
      const backend = tfLib.backend();
      if (backend && backend.wasm && backend.wasm.HEAPU8) out.tfjs_wasm_memory = backend.wasm.HEAPU8.buffer.byteLength;
    } catch (e) { /* not wasm */ }
  }
  return out;
}

// Overlay drawing comparable to the app's (boxes with an under-stroke, key points).
function benchDraw(ctx, canvas, w, h, faces) {
  if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
  ctx.clearRect(0, 0, w, h);
  const line = Math.max(2, w / 240);
  for (const f of faces) {
    const [x0, y0, x1, y1] = f.box;
    ctx.lineWidth = line; ctx.strokeStyle = "#000"; ctx.strokeRect(x0, y0, x1 - x0, y1 - y0);
    ctx.lineWidth = line * 0.6; ctx.strokeStyle = "#56B4E9"; ctx.strokeRect(x0, y0, x1 - x0, y1 - y0);
    if (f.keypoints) {
      ctx.fillStyle = "#F0E442";
      for (const [x, y] of f.keypoints) { ctx.beginPath(); ctx.arc(x, y, line * 1.2, 0, 6.2832); ctx.fill(); }
    }
  }
}
