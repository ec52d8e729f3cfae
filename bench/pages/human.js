// Peer library: @vladmandic/human 3.3.6 (MIT), face detector + emotion only, everything served
// from this origin (models from its own npm package, TF.js wasm files from dist's vendor folder).
// mode=equal: every frame detected and classified (no skipping, no frame-change cache);
// mode=default: the library's own skipping (skipFrames/skipTime/cacheSensitivity defaults).
import { Human } from "/peers/human/dist/human.esm.js";

async function main() {
  const params = benchParams();
  const b = window.bench;
  const equal = params.mode === "equal";
  const skip = equal ? { skipFrames: 0, skipTime: 0 } : {};
  const config = {
    backend: params.backend,
    modelBasePath: "/peers/human/models/",
    wasmPath: "/vendor/tfjs-4.22.0/",
    cacheModels: false,
    debug: false,
    warmup: "none",
    ...(equal ? { cacheSensitivity: 0 } : {}),
    face: {
      enabled: true,
      // maxDetected 5 (its default is 1) so that both faces of the two-face clip count.
      detector: { rotation: false, maxDetected: 5, ...skip },
      mesh: { enabled: false },
      attention: { enabled: false },
      iris: { enabled: false },
      description: { enabled: false },
      emotion: { enabled: true, ...skip },
      antispoof: { enabled: false },
      liveness: { enabled: false },
    },
    body: { enabled: false },
    hand: { enabled: false },
    object: { enabled: false },
    gesture: { enabled: false },
    segmentation: { enabled: false },
  };
  b.info = { pipeline: "human", params, config };
  benchMark("start");
  const human = new Human(config);
  await human.load();
  await human.tf.ready();
  b.info.backend = human.tf.getBackend();
  b.info.version = human.version;
  benchMark("models");
  const video = document.getElementById("video");
  await benchCamera(video);
  benchMark("camera");
  const overlay = document.getElementById("overlay");
  const octx = overlay.getContext("2d");

  async function process() {
    const t0 = performance.now();
    const result = await human.detect(video);
    const det = performance.now();
    const faces = (result.face || []).map((f) => ({ box: [f.box[0], f.box[1], f.box[0] + f.box[2], f.box[1] + f.box[3]],
      emotion: f.emotion && f.emotion[0] ? f.emotion[0].emotion : null }));
    benchDraw(octx, overlay, video.videoWidth, video.videoHeight, faces);
    const rec = { detect_call_ms: det - t0, draw_ms: performance.now() - det, faces: faces.length,
      labelled: faces.filter((f) => f.emotion).length, t0 };
    const perf = result.performance || {};
    for (const key of ["total", "face", "image", "frames", "cached"]) if (perf[key] !== undefined) rec["human_" + key] = perf[key];
    rec.total_ms = performance.now() - t0;
    return rec;
  }
  b.memory = () => benchMemory(human.tf);
  benchLoop(process, params.clock);
}

main().catch(benchFail);
