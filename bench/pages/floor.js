// "Our floor": the same two TF.js graph models, the same frame read and the same TF.js
// preprocessing as moodcam's browser layer (py/moodcam/browser/frames.py, analyser.py), with
// the per-frame logic (anchor decoding, weighted NMS, schedule) in plain JS and no Python.
// ours/floor fps is the cost of having Python in the loop.
"use strict";

const WORK_SIDE = 640;

function ssdAnchors() {
  // BlazeFace short range: strides 8, 16, 16, 16 on 128 px; fixed anchor size 1; layers with
  // the same stride share a grid: 16x16 cells x 2 anchors, then 8x8 cells x 6 anchors.
  const out = [];
  for (const [grid, per] of [[16, 2], [8, 6]]) {
    for (let y = 0; y < grid; y++) for (let x = 0; x < grid; x++) for (let k = 0; k < per; k++) {
      out.push([(x + 0.5) / grid, (y + 0.5) / grid]);
    }
  }
  return out;
}
const ANCHORS = ssdAnchors();

function decodeNms(reg, cls, letter, minScore) {
  // reg: Float32Array 896*16, cls: 896 logits -> faces in source-frame pixels (weighted NMS, IoU 0.3).
  const cands = [];
  for (let i = 0; i < ANCHORS.length; i++) {
    const s = 1 / (1 + Math.exp(-Math.max(-100, Math.min(100, cls[i]))));
    if (s < minScore) continue;
    const r = i * 16, [ax, ay] = ANCHORS[i];
    const xc = reg[r] / 128 + ax, yc = reg[r + 1] / 128 + ay, w = reg[r + 2] / 128, h = reg[r + 3] / 128;
    const kps = [];
    for (let k = 0; k < 6; k++) kps.push([reg[r + 4 + 2 * k] / 128 + ax, reg[r + 5 + 2 * k] / 128 + ay]);
    cands.push({ s, b: [xc - w / 2, yc - h / 2, xc + w / 2, yc + h / 2], kps });
  }
  cands.sort((a, b) => b.s - a.s);
  const iou = (a, b) => {
    const iw = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
    const ih = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
    const inter = iw * ih, u = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    return u > 0 ? inter / u : 0;
  };
  const faces = [];
  let rest = cands;
  while (rest.length) {
    const top = rest[0];
    const group = rest.filter((c) => iou(c.b, top.b) > 0.3);
    rest = rest.filter((c) => iou(c.b, top.b) <= 0.3);
    const tot = group.reduce((a, c) => a + c.s, 0);
    const box = [0, 1, 2, 3].map((j) => group.reduce((a, c) => a + c.b[j] * c.s, 0) / tot);
    const kps = top.kps.map((_, k) => [0, 1].map((j) => group.reduce((a, c) => a + c.kps[k][j] * c.s, 0) / tot));
    // Letterbox (128 px input) back to source pixels.
    const toSrc = (x, y) => [(x * 128 - letter.px) / letter.scale, (y * 128 - letter.py) / letter.scale];
    const [x0, y0] = toSrc(box[0], box[1]), [x1, y1] = toSrc(box[2], box[3]);
    faces.push({ score: top.s, box: [x0, y0, x1, y1], keypoints: kps.map(([x, y]) => toSrc(x, y)) });
  }
  return faces;
}

async function main() {
  const params = benchParams();
  const b = window.bench;
  b.info = { pipeline: "floor", params };
  benchMark("start");
  tf.wasm.setWasmPaths("/vendor/tfjs-4.22.0/");
  if (!(await tf.setBackend(params.backend))) throw new Error(`backend ${params.backend} did not start`);
  await tf.ready();
  b.info.backend = tf.getBackend();
  if (tf.getBackend() === "webgl") {
    const gl = tf.backend().gpgpu.gl;
    const dbg = gl.getExtension("WEBGL_debug_renderer_info");
    b.info.renderer = dbg ? gl.getParameter(dbg.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
  }
  const manifest = await (await fetch("/models/manifest.json")).json();
  const det = await tf.loadGraphModel("/models/blazeface_short_range/model.json");
  const emo = await tf.loadGraphModel("/models/emotion_mini_xception/model.json");
  const detSpec = manifest.models.blazeface_short_range, emoSpec = manifest.models.emotion_mini_xception;
  const outName = (spec, key) => spec.outputs.find((o) => o.key === key).tensor;
  const detOutputs = [outName(detSpec, "regressors"), outName(detSpec, "classificators")];
  const dn = detSpec.input.normalisation, en = emoSpec.input.normalisation;
  // Warm-up on zeros, as the app does.
  for (const [m, shape] of [[det, [1, 128, 128, 3]], [emo, [1, 64, 64, 1]]]) {
    const y = tf.tidy(() => m.execute(tf.zeros(shape)));
    for (const t of [].concat(y)) { await t.data(); t.dispose(); }
  }
  benchMark("models");

  const video = document.getElementById("video");
  await benchCamera(video);
  benchMark("camera");
  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const overlay = document.getElementById("overlay");
  const octx = overlay.getContext("2d");
  const greyW = tf.tensor1d([0.299, 0.587, 0.114], "float32");

  let frameIndex = 0, lastDet = -1e9, faces = [];
  const lastEmo = new Map();

  async function process() {
    const t0 = performance.now();
    const rec = { det_ms: 0, emo_ms: 0, logic_ms: 0, read_wait_ms: 0, transfer_ms: 0 };
    const W = video.videoWidth, H = video.videoHeight;
    const scale0 = Math.min(1, WORK_SIDE / Math.max(W, H));
    const ww = Math.max(1, Math.round(W * scale0)), wh = Math.max(1, Math.round(H * scale0));
    if (canvas.width !== ww || canvas.height !== wh) { canvas.width = ww; canvas.height = wh; }
    let g = performance.now();
    ctx.drawImage(video, 0, 0, ww, wh);
    const frame = tf.browser.fromPixels(ctx.getImageData(0, 0, ww, wh), 3);
    rec.grab_ms = performance.now() - g;
    try {
      let l = performance.now();
      const runDet = faces.length === 0 || frameIndex - lastDet >= params.detectEvery;
      // Letterbox of the source frame into 128x128 with whole-pixel padding (Letterbox.fit, round).
      const scale = Math.min(128 / W, 128 / H);
      const dw = Math.round(W * scale), dh = Math.round(H * scale);
      const letter = { scale, px: Math.round((128 - dw) / 2), py: Math.round((128 - dh) / 2) };
      rec.logic_ms += performance.now() - l;
      if (runDet) {
        const d0 = performance.now();
        const outs = tf.tidy(() => {
          const resized = tf.image.resizeBilinear(tf.expandDims(frame, 0), [128 - 2 * letter.py, 128 - 2 * letter.px], false, false);
          const padded = tf.pad(resized, [[0, 0], [letter.py, letter.py], [letter.px, letter.px], [0, 0]], 0);
          return det.execute(tf.add(tf.mul(padded, dn.scale), dn.offset), detOutputs);
        });
        const w0 = performance.now();
        const reg = await outs[0].data(), cls = await outs[1].data();
        const read = performance.now() - w0;
        rec.read_wait_ms += read;
        outs.forEach((t) => t.dispose());
        rec.det_ms = performance.now() - d0;
        // The app's split (FrameTimes): detector = preprocessing + execute, transfer = output reads.
        rec.detector_ms = rec.det_ms - read;
        rec.transfer_ms += read;
        l = performance.now();
        faces = decodeNms(reg, cls, letter, 0.5);
        lastDet = frameIndex;
        rec.logic_ms += performance.now() - l;
      }
      // Emotion: at most one face per frame, every `emotion` frames per face, most overdue first.
      l = performance.now();
      let due = faces.map((f, i) => [i, frameIndex - (lastEmo.has(i) ? lastEmo.get(i) : -1e9) - params.emotionEvery])
        .filter(([, o]) => o >= 0).sort((a, b) => b[1] - a[1]).slice(0, 1).map(([i]) => i);
      rec.logic_ms += performance.now() - l;
      if (due.length) {
        const e0 = performance.now();
        const boxes = due.map((i) => {
          const [x0, y0, x1, y1] = faces[i].box;
          const side = Math.max(x1 - x0, y1 - y0) * 1.2, cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
          return [(cy - side / 2) / H, (cx - side / 2) / W, (cy + side / 2) / H, (cx + side / 2) / W];
        });
        const probsT = tf.tidy(() => {
          const crops = tf.image.cropAndResize(tf.expandDims(tf.cast(frame, "float32"), 0), tf.tensor2d(boxes.flat(), [boxes.length, 4]),
            tf.tensor1d(new Array(boxes.length).fill(0), "int32"), [64, 64], "bilinear", 0);
          const grey = tf.sum(tf.mul(crops, greyW), -1, true);
          return emo.execute(tf.add(tf.mul(grey, en.scale), en.offset));
        });
        const w0 = performance.now();
        const probs = await probsT.data();
        const read = performance.now() - w0;
        rec.read_wait_ms += read;
        probsT.dispose();
        rec.emo_ms = performance.now() - e0;
        rec.emotion_ms = rec.emo_ms - read;
        rec.transfer_ms += read;
        l = performance.now();
        due.forEach((i, k) => {
          const p = probs.slice(k * 7, k * 7 + 7);
          faces[i].label = p.indexOf(Math.max(...p));
          lastEmo.set(i, frameIndex);
        });
        rec.logic_ms += performance.now() - l;
      }
    } finally {
      frame.dispose();
    }
    const d = performance.now();
    benchDraw(octx, overlay, W, H, faces);
    rec.draw_ms = performance.now() - d;
    rec.faces = faces.length;
    rec.total_ms = performance.now() - t0;
    rec.t0 = t0;
    frameIndex++;
    return rec;
  }
  b.memory = () => benchMemory(tf);
  benchLoop(process, params.clock);
}

main().catch(benchFail);
