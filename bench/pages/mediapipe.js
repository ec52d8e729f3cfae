// Peer for the detection stage: @mediapipe/tasks-vision FaceDetector running the same
// face_detection_short_range.tflite (read from the pinned mediapipe wheel by the harness),
// delegate=CPU (its wasm/XNNPACK) or GPU (WebGL; SwiftShader here).
import { FilesetResolver, FaceDetector } from "/peers/mediapipe/vision_bundle.mjs";

async function main() {
  const params = benchParams();
  const b = window.bench;
  b.info = { pipeline: "mediapipe", params };
  benchMark("start");
  const fileset = await FilesetResolver.forVisionTasks("/peers/mediapipe/wasm");
  const detector = await FaceDetector.createFromOptions(fileset, {
    baseOptions: { modelAssetPath: "/peers/mediapipe/face_detection_short_range.tflite", delegate: params.delegate },
    runningMode: "VIDEO", minDetectionConfidence: 0.5, minSuppressionThreshold: 0.3,
  });
  b.info.delegate = params.delegate;
  benchMark("models");
  const video = document.getElementById("video");
  await benchCamera(video);
  benchMark("camera");
  const overlay = document.getElementById("overlay");
  const octx = overlay.getContext("2d");
  let last = 0;

  async function process() {
    const t0 = performance.now();
    const ts = Math.max(last + 1, t0);
    last = ts;
    const result = detector.detectForVideo(video, ts);
    const det = performance.now();
    const W = video.videoWidth, H = video.videoHeight;
    const faces = result.detections.map((d) => {
      const bb = d.boundingBox;
      return { box: [bb.originX, bb.originY, bb.originX + bb.width, bb.originY + bb.height],
        keypoints: (d.keypoints || []).map((k) => [k.x * W, k.y * H]) };
    });
    benchDraw(octx, overlay, W, H, faces);
    return { detect_call_ms: det - t0, draw_ms: performance.now() - det, faces: faces.length, t0,
      total_ms: performance.now() - t0 };
  }
  b.memory = () => benchMemory(null);
  benchLoop(process, params.clock);
}

main().catch(benchFail);
