"""Where a cold visit's CPU goes: a Chromium trace (CDP Tracing on the browser target: every process and
thread) summed per thread and per kind of work, between the page's navigation and its first answer.
Arithmetic only; bench/trace.py records the trace.

Each thread's complete events ("X", and "B"/"E" pairs) are nested into trees. An event's CPU is its
thread time (`tdur`) where the trace has one, else its wall `dur` (scaled by its parent's share of
CPU); its *self* CPU (its CPU less its children's) goes to the innermost event of a known kind
(`own_kind`): script compile + run per URL, wasm compile per module, lazy compile, tier-up, GC,
fetches and caches, rendering, IPC. Self CPU of JS entry points (FunctionCall, RunMicrotasks, ...) is
split by the V8 CPU profiler's samples that fall in it (`sample_kind`: the leaf-most frame that has a
URL: Python = wasm in pyodide.asm.wasm; numpy = wasm compiled from bytes; TF.js; Pyodide's glue;
moodcam's JS). Events that straddle the window count in proportion to their overlap; the per-phase
view splits them the same way over the windows between the visit's boot marks.
"""
from __future__ import annotations

import bisect
import collections
import posixpath
import re
from collections.abc import Iterable

PROCESS_LABELS = {"Browser": "browser process", "GPU Process": "GPU process",
                  "Service: network.mojom.NetworkService": "network service",
                  "Service: storage.mojom.StorageService": "storage service",
                  "Service: tracing.mojom.TracingService": "tracing service (the trace's own cost)",
                  "Service: video_capture.mojom.VideoCaptureService": "video capture service (the fake camera)"}
PAGE = "page renderer"
OTHER_RENDERER = "other renderers (the browser's own WebUI pages)"
PYTHON_ENTERED = "Python runtime, entered through pyodide.asm.js (wasm + glue; --samples splits it)"
JS_RUN = "JS run (callbacks, promise continuations)"
# ...on a dedicated worker of the page (the engine's, the floor's): Python, Pyodide's glue, TF.js
ENGINE_RUN = "worker: JS + wasm run (Python, Pyodide's glue, TF.js; --samples splits it)"
NUMPY_ASYNC = "modules compiled from bytes, async (numpy's shared libraries)"
SMALL_WASM = 4096   # bytes: smaller modules compiled from bytes are Emscripten's JS-function adapters

EXECUTION = {"FunctionCall", "v8.callFunction", "RunMicrotasks", "v8.runMicrotasks", "TimerFire", "EventDispatch",
             "FireAnimationFrame", "V8.Execute", "v8.execute", "HandlePostMessage", "FireIdleCallback"}
SCRIPT = {"EvaluateScript", "v8.compile", "v8.compileModule", "v8.evaluateModule", "v8.produceCache",
          "v8.produceModuleCache", "v8.parseOnBackground", "v8.parseOnBackgroundParsing", "v8.run",
          "BackgroundCompileTask::Run", "v8.compileEval"}
MODULE_COMPILE = {"wasm.SyncCompile", "wasm.AsyncCompile", "wasm.StartStreamingCompilation"}
IPC = {"Receive mojo message", "Receive mojo reply", "SimpleWatcher::OnHandleReady", "EpollEvent",
       "Closed mojo endpoint", "Send mojo message"}
LOADING = ("Resource", "URLLoader", "ThrottlingURLLoader", "MojoURLLoaderClient", "ResponseBodyLoader",
           "BackgroundProcessor", "BackgroundJSStreamManager", "NavigationBodyLoader", "CacheStorage",
           "LegacyCacheStorage", "Blob", "FetchDataLoader", "BytesConsumer", "DataPipeBytesConsumer",
           "ServiceWorker", "CorsURLLoader", "TextResourceDecoder", "FetchManager", "Body", "Response")
RENDERING = ("ParseHTML", "Layout", "UpdateLayoutTree", "Paint", "PrePaint", "Commit", "Document::", "LocalFrameView",
             "CSSParser", "Blink.", "RasterTask", "UpdateLayer", "cc::", "viz::", "Draw", "Animation", "HitTest",
             "ScheduleStyleRecalculation", "StyleEngine", "HTMLDocumentParser", "ProxyMain", "LayerTreeHost")
MEDIA = ("Video", "Media", "media::", "ImageBitmap", "WebMediaPlayer", "Capture", "OffscreenCanvas")


def basename(url: str) -> str:
    return posixpath.basename(url.split("?")[0].rstrip("/")) or url[:60]


def url_of(args: dict) -> str:
    data = args.get("data")
    if not isinstance(data, dict):
        data = {}
    return str(data.get("url") or args.get("url") or data.get("fileName") or args.get("fileName") or "")


class Node:
    __slots__ = ("ts", "end", "tdur", "name", "cat", "args", "children", "cpu", "self_cpu", "kind", "samples")

    def __init__(self, ts: float, end: float, tdur: float | None, name: str, cat: str, args: dict) -> None:
        self.ts, self.end, self.tdur, self.name, self.cat, self.args = ts, end, tdur, name, cat, args
        self.children: list[Node] = []
        self.cpu = self.self_cpu = 0.0
        self.kind = ""
        self.samples: list[str | None] = []


def thread_names(events: Iterable[dict]) -> tuple[dict, dict]:
    """({(pid, tid): thread name}, {pid: process name}) from the trace's metadata."""
    threads, processes = {}, {}
    for e in events:
        if e.get("ph") == "M" and e.get("name") == "thread_name":
            threads[(e["pid"], e["tid"])] = e["args"]["name"]
        elif e.get("ph") == "M" and e.get("name") == "process_name":
            processes[e["pid"]] = e["args"]["name"]
    return threads, processes


def complete_events(events: Iterable[dict]) -> dict[tuple, list[Node]]:
    """Per thread, every complete event ("X" with a duration; "B"/"E" pairs) as a Node."""
    out: dict[tuple, list[Node]] = collections.defaultdict(list)
    open_: dict[tuple, list[dict]] = collections.defaultdict(list)
    for e in events:
        ph, key = e.get("ph"), (e.get("pid"), e.get("tid"))
        if ph == "X" and e.get("dur", 0) > 0:
            out[key].append(Node(e["ts"], e["ts"] + e["dur"], e.get("tdur"), e["name"], e.get("cat", ""),
                                 e.get("args") or {}))
        elif ph == "B":
            open_[key].append(e)
        elif ph == "E" and open_[key]:
            b = open_[key].pop()
            tdur = e["tts"] - b["tts"] if "tts" in e and "tts" in b else None
            if e["ts"] > b["ts"]:
                out[key].append(Node(b["ts"], e["ts"], tdur, b.get("name", ""), b.get("cat", ""), b.get("args") or {}))
    return out


def build_trees(nodes: list[Node]) -> list[Node]:
    """Nests one thread's events (a child lies within its parent); returns the top-level ones with each
    one's CPU (tdur, else dur x the parent's CPU share) and self CPU set."""
    nodes.sort(key=lambda n: (n.ts, -n.end))
    roots: list[Node] = []
    stack: list[Node] = []
    for n in nodes:
        while stack and stack[-1].end <= n.ts:
            stack.pop()
        if stack:
            n.end = min(n.end, stack[-1].end)
            stack[-1].children.append(n)
        else:
            roots.append(n)
        stack.append(n)
    for root in roots:
        _cpu(root, 1.0)
    return roots


def _cpu(node: Node, share: float) -> None:
    wall = node.end - node.ts
    node.cpu = node.tdur if node.tdur is not None else wall * share
    node.cpu = min(node.cpu, wall) if wall > 0 else 0.0
    inner = node.cpu / wall if wall > 0 else 1.0
    for child in node.children:
        _cpu(child, inner)
    node.self_cpu = max(0.0, node.cpu - sum(c.cpu for c in node.children))


def wasm_module(node: Node) -> str:
    """What a module compile compiles: its URL (streaming), or by its size (compiled from bytes)."""
    todo = [node]
    wire = None
    while todo:
        n = todo.pop()
        url = url_of(n.args)
        if url:
            return basename(url)
        if wire is None and isinstance(n.args.get("wire_bytes"), int):
            wire = n.args["wire_bytes"]
        todo.extend(n.children)
    if wire is None:
        return NUMPY_ASYNC if node.name == "wasm.AsyncCompile" else "module not named"
    return "numpy's shared libraries (compiled from bytes)" if wire >= SMALL_WASM else \
        "tiny adapter modules (Emscripten's JS-function wrappers)"


def own_kind(node: Node, inherited: str) -> str:
    """The kind of work an event is, given the kind of the event around it ('' at the top)."""
    name, cat = node.name, node.cat
    if name in SCRIPT:
        url = url_of(node.args)
        return f"script: {basename(url)} (compile + top-level run)" if url else (inherited or "JS parse/compile (V8)")
    if name in EXECUTION:
        url = url_of(node.args)
        if inherited.startswith(("script:", "JS run", "Python")):
            return inherited
        if basename(url) == "pyodide.asm.js":
            return PYTHON_ENTERED
        return f"JS run: {basename(url)}" if url else JS_RUN
    if name.startswith(("V8.GC", "MajorGC", "MinorGC", "BlinkGC", "CppGC", "V8.GCScavenger")) or ".gc" in cat:
        return "GC (V8 and Blink)"
    if name.startswith(("V8.Parse", "V8.PreParse", "V8.Compile", "V8.FlushBytecode")):
        return inherited if inherited.startswith("script:") else "JS parse/compile (lazy functions)"
    if name.startswith(("V8.Optimize", "V8.Maglev", "V8.Turbofan", "V8.TF", "V8.Concurrent")):
        return "JS optimising compile (Maglev, TurboFan)"
    if name == "wasm.TopTierCompilation":
        return "wasm tier-up (TurboFan, background)"
    if name == "wasm.CompileLazy":
        return "wasm lazy compile (Liftoff, on the calling thread)"
    if name in ("wasm.SyncInstantiate", "wasm.AsyncInstantiate", "wasm.InstanceBuilder.Build",
                "wasm.ExecuteStartFunction"):
        return "wasm instantiate"
    if name in ("v8.wasm.compileConsume", "v8.wasm.cachedModule", "CacheHit"):
        return "wasm code cache read"
    if name in MODULE_COMPILE:
        return f"wasm compile: {wasm_module(node)}"
    if name == "wasm.DecodeModule" and not inherited:
        return f"wasm compile: {NUMPY_ASYNC}"
    if name.startswith("wasm.") or name.startswith("v8.wasm"):
        return inherited if inherited.startswith("wasm") else "wasm compile (background, module not named)"
    if name == "DoDigest" or name.startswith("Crypto"):
        return "crypto.subtle (sha256)"
    if name.startswith(LOADING):
        return "fetch, Cache Storage and response bodies"
    if name.startswith(RENDERING):
        return "page rendering (style, layout, paint, raster)"
    if name.startswith(MEDIA):
        return "camera frames (media)"
    if name in IPC:
        return inherited or "IPC (mojo) and task dispatch"
    return inherited


def sample_kind(frames: list[dict]) -> str | None:
    """What a CPU-profiler sample ran, from its stack (leaf first): the leaf-most frame with a URL;
    None where nothing of JS or wasm ran (the event's own kind then)."""
    for cf in frames:
        name, url, code = cf.get("functionName", ""), cf.get("url") or "", cf.get("codeType", "")
        if name == "(garbage collector)":
            return "GC (V8 and Blink)"
        if name in ("(idle)", "(program)", "(root)"):
            return None
        if not url:
            continue
        file = basename(url)
        if code == "wasm" or url.startswith("wasm://"):
            if file == "pyodide.asm.wasm":
                return "Python runtime (wasm: pyodide.asm.wasm)"
            if url.startswith("wasm://"):
                return "wasm compiled from bytes (numpy's shared libraries)"
            return "TF.js wasm kernels" if "tfjs" in url else f"wasm: {file}"
        if file.startswith("pyodide"):
            return "Pyodide's JS glue (pyodide.asm.js, pyodide.js)"
        if re.match(r"tf[.-]", file):
            return "TF.js (JS)"
        if "/app/" in url:
            return "moodcam JS (app/)"
        return f"JS run: {file}"
    return None


def profile_samples(events: list[dict]) -> dict[tuple, tuple[list[float], list[str | None]]]:
    """Per thread: the V8 CPU profiler's sample times (trace clock) and kinds (sample_kind)."""
    threads: dict[tuple, tuple[int, int]] = {}
    start: dict[tuple, float] = {}
    for e in events:
        if e.get("name") == "Profile" and e.get("ph") == "P":
            threads[(e["pid"], e["id"])] = (e["pid"], e["tid"])
            start[(e["pid"], e["id"])] = e["args"]["data"].get("startTime", e["ts"])
    nodes: dict[tuple, dict] = {}
    clock = dict(start)
    out: dict[tuple, tuple[list[float], list[str | None]]] = {}
    chunks = sorted((e for e in events if e.get("name") == "ProfileChunk"), key=lambda e: e["ts"])
    for e in chunks:
        key = (e["pid"], e["id"])
        if key not in threads:
            continue
        data = e["args"]["data"]
        profile = data.get("cpuProfile") or {}
        for n in profile.get("nodes") or []:
            nodes[key + (n["id"],)] = n
        times, kinds = out.setdefault(threads[key], ([], []))
        for sample, delta in zip(profile.get("samples") or [], data.get("timeDeltas") or []):
            clock[key] += delta
            frames, n = [], nodes.get(key + (sample,))
            while n is not None:
                frames.append(n["callFrame"])
                n = nodes.get(key + (n["parent"],)) if "parent" in n else None
            times.append(clock[key])
            kinds.append(sample_kind(frames))
    for times, kinds in out.values():
        order = sorted(range(len(times)), key=times.__getitem__)
        times[:], kinds[:] = [times[i] for i in order], [kinds[i] for i in order]
    return out


def _assign(node: Node, times: list[float], kinds: list[str | None], lo: int, hi: int) -> None:
    """Gives each sample in times[lo:hi] (those within node) to the innermost event holding it."""
    i = lo
    for child in node.children:
        a = bisect.bisect_left(times, child.ts, i, hi)
        b = bisect.bisect_left(times, child.end, a, hi)
        node.samples.extend(kinds[i:a])
        _assign(child, times, kinds, a, b)
        i = b
    node.samples.extend(kinds[i:hi])


def phase_windows(marks: dict[str, float] | None, answer_ms: float) -> list[tuple[str, float, float]]:
    """Consecutive windows (label, from ms, to ms) between the visit's marks (ms since navigation)."""
    points = sorted((t, name) for name, t in (marks or {}).items()
                    if isinstance(t, (int, float)) and 0 < t < answer_ms)
    points = [(0.0, "navigation")] + points + [(answer_ms, "answer")]
    return [(f"{a} → {b}", ta, tb) for (ta, a), (tb, b) in zip(points, points[1:]) if tb > ta]


def _thread_label(pid: int, name: str, processes: dict, page_pid: int | None) -> tuple[str, str]:
    """(thread group label, the kind of all its work where the whole process is one kind, else '')."""
    thread = re.sub(r"\d+$", "", name or "?")
    if pid == page_pid:
        return f"{PAGE}: {thread}", "tracing (the trace's own cost)" if thread == "PerfettoTrace" else ""
    process = processes.get(pid, "?")
    label = PROCESS_LABELS.get(process) or (OTHER_RENDERER if "Renderer" in process else process)
    return f"{label}: {thread}", label


def summarise(events: list[dict], nav_ts: float, answer_ms: float, marks: dict[str, float] | None = None,
              page_pid: int | None = None) -> dict:
    """CPU-seconds per thread, per kind of work, per thread and kind, and per phase window, between
    navigation (`nav_ts`, trace clock, µs) and the answer `answer_ms` after it."""
    start, end = nav_ts, nav_ts + answer_ms * 1000
    threads, processes = thread_names(events)
    samples = profile_samples(events)
    windows = phase_windows(marks, answer_ms)
    per_thread: dict[str, float] = collections.defaultdict(float)
    per_kind: dict[str, float] = collections.defaultdict(float)
    thread_kind: dict[str, dict[str, float]] = collections.defaultdict(lambda: collections.defaultdict(float))
    phase_kind: list[dict[str, float]] = [collections.defaultdict(float) for _ in windows]
    unclassified: dict[str, float] = collections.defaultdict(float)
    sampled = 0
    for key, nodes in complete_events(events).items():
        label, whole = _thread_label(key[0], threads.get(key, "?"), processes, page_pid)
        engine_thread = label == f"{PAGE}: DedicatedWorker thread"
        times, kinds = samples.get(key, ([], []))
        for root in build_trees(nodes):
            if root.end <= start or root.ts >= end:
                continue
            if times:
                a = bisect.bisect_left(times, max(root.ts, start))
                b = bisect.bisect_left(times, min(root.end, end))
                sampled += b - a
                _assign(root, times, kinds, bisect.bisect_left(times, root.ts), bisect.bisect_left(times, root.end))
            todo = [(root, "")]
            while todo:
                node, inherited = todo.pop()
                kind = whole or own_kind(node, inherited)
                todo.extend((c, kind) for c in node.children)
                wall = node.end - node.ts
                inside = max(0.0, min(node.end, end) - max(node.ts, start))
                if not node.self_cpu or not inside:
                    continue
                if not kind:
                    kind = "other work in tasks (not instrumented)"
                    unclassified[node.name] += node.self_cpu * inside / wall
                for part, cpu in _split(node, kind):
                    if part == JS_RUN and engine_thread:
                        part = ENGINE_RUN
                    cpu_in = cpu * inside / wall
                    per_thread[label] += cpu_in
                    per_kind[part] += cpu_in
                    thread_kind[label][part] += cpu_in
                    for i, (_, wa, wb) in enumerate(windows):
                        lo, hi = max(node.ts, start + wa * 1000), min(node.end, start + wb * 1000)
                        if hi > lo:
                            phase_kind[i][part] += cpu * (hi - lo) / wall
    s = lambda v: round(v / 1e6, 3)  # noqa: E731  (µs -> s)
    top = lambda c, n: {k: s(v) for k, v in sorted(c.items(), key=lambda kv: -kv[1])[:n] if v >= 500}  # noqa: E731
    return {"window_ms": [0.0, answer_ms], "trace_cpu_s": s(sum(per_thread.values())),
            "threads": top(per_thread, 40), "kinds": top(per_kind, 60),
            "threads_by_kind": {t: top(thread_kind[t], 6) for t in top(per_thread, 12)},
            "phases": [{"phase": name, "from_ms": round(a, 1), "to_ms": round(b, 1), "cpu_s": s(sum(c.values())),
                        "kinds": top(c, 5)} for (name, a, b), c in zip(windows, phase_kind)],
            "profiler_samples_in_window": sampled, "unclassified": top(unclassified, 12)}


def _split(node: Node, kind: str) -> list[tuple[str, float]]:
    """A JS entry point's self CPU split by the profiler's samples in it; any other event's whole."""
    if node.name not in EXECUTION or kind.startswith("script:") or not node.samples:
        return [(kind, node.self_cpu)]
    counts = collections.Counter(k or kind for k in node.samples)
    total = sum(counts.values())
    return [(k, node.self_cpu * n / total) for k, n in counts.items()]


def navigation(events: Iterable[dict], url: str) -> tuple[float, int] | None:
    """(trace time of the page's navigationStart to `url`, the renderer's pid): the last one. URLs
    are compared from their path on (the server's port differs from run to run)."""
    path = url.split("/", 3)[-1]
    found = None
    for e in events:
        if e.get("name") == "navigationStart":
            data = (e.get("args") or {}).get("data") or {}
            loader = str(data.get("documentLoaderURL") or "")
            if loader.startswith("http") and loader.split("/", 3)[-1] == path and data.get("isOutermostMainFrame", True):
                found = (e["ts"], e["pid"])
    return found


def _rows(d: dict, n: int, total: float | None = None) -> list[str]:
    return [f"| {k} | {v:.3f} |" + (f" {100 * v / total:.0f}% |" if total else "") for k, v in list(d.items())[:n]]


def table(summary: dict, title: str = "") -> str:
    """Markdown: CPU-seconds per thread, per kind of work and per phase window."""
    total = summary.get("trace_cpu_s") or 0.0
    lines = [title or "Where the CPU went (trace, navigation to the first answer)", "",
             f"Traced CPU {total:.2f} s (top-level tasks' thread time, every process and thread); the whole browser's "
             f"cgroup CPU over the same window: {summary.get('cgroup_cpu_s', '–')} s.", "",
             "| thread | CPU-s | share |", "| --- | --- | --- |", *_rows(summary["threads"], 14, total), "",
             "| what | CPU-s | share |", "| --- | --- | --- |", *_rows(summary["kinds"], 30, total), "",
             "| phase (between the visit's marks) | ms | CPU-s | most of it |", "| --- | --- | --- | --- |"]
    for p in summary["phases"]:
        most = ", ".join(f"{k} {v:.2f}" for k, v in list(p["kinds"].items())[:3])
        lines.append(f"| {p['phase']} | {p['from_ms']:.0f}–{p['to_ms']:.0f} | {p['cpu_s']:.3f} | {most} |")
    return "\n".join(lines)


def diff_table(ours: dict, floor: dict, names: tuple[str, str] = ("ours", "floor")) -> str:
    """Markdown: CPU-seconds per kind of work in two summaries, and the difference (ours - floor)."""
    kinds = list(dict.fromkeys([*ours["kinds"], *floor["kinds"]]))
    rows = sorted(((k, ours["kinds"].get(k, 0.0), floor["kinds"].get(k, 0.0)) for k in kinds),
                  key=lambda r: -(r[1] - r[2]))
    lines = [f"| what | {names[0]} CPU-s | {names[1]} CPU-s | difference |", "| --- | --- | --- | --- |"]
    lines += [f"| {k} | {a:.3f} | {b:.3f} | {a - b:+.3f} |" for k, a, b in rows if abs(a - b) >= 0.005]
    lines.append(f"| **traced total** | {ours['trace_cpu_s']:.3f} | {floor['trace_cpu_s']:.3f} | "
                 f"{ours['trace_cpu_s'] - floor['trace_cpu_s']:+.3f} |")
    return "\n".join(lines)
