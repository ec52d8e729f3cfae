"""A video's analysis on the page: its progress and its report, as ui ops (browser.video decides when).

- progress: <html data-video-state> and data-video-progress, the #video-progress bar and its
  text (time analysed, time left, pace);
- the report (#video-report): a sentence (frames, how far, where it stopped, or that no face was
  found), #video-faces (one row per tracked face: first and last seen, its share of each mood,
  its mood over the video as a strip of the page's Okabe-Ito colours with the same in words for a
  screen reader), #video-group (the whole picture's mood over the video) and the colours' legend.
"""
from __future__ import annotations

from ..video_report import Span, VideoReport, clock
from .render_mood import colour_of, name_of
from .ui import Ui

STATES = ("idle", "analysing", "done", "cancelled", "error")      # <html data-video-state>


def seconds(t: float) -> str:
    return f"{clock(t)}.{int(round(10 * (t - int(t)))) % 10}" if t < 3600 else clock(t)


def strip(spans: list[Span], duration_s: float) -> dict:
    """A table cell: coloured spans over the video's length, and the same in words."""
    length = max(duration_s, spans[-1][1] if spans else 0.0, 1e-6)
    return {"text": "; ".join(f"{name_of(key)} {seconds(a)} to {seconds(b)}" for a, b, key in spans) or "nothing",
            "spans": [[a / length, b / length, colour_of(key), f"{name_of(key)} {seconds(a)}–{seconds(b)}"]
                      for a, b, key in spans]}


def shares_text(shares: dict[str, float]) -> str:
    ranked = sorted(((v, k) for k, v in shares.items() if v > 0), reverse=True)
    return ", ".join(f"{name_of(k)} {round(100 * v)} %" for v, k in ranked)


def summary_text(report: VideoReport, outcome: str) -> str:
    rate = report.settings.get("sampling", "")
    said = [f"{report.frames} frames analysed ({rate}), {clock(report.analysed_s)} of {clock(report.duration_s)}."]
    if report.stopped is not None:
        said.append(f"Stopped at {seconds(report.stopped[0])}: {report.stopped[1]}.")
    faces = len(report.face_ids())
    said.append("No face was found in the video." if faces == 0 and report.frames
                else f"{faces} face{'s' if faces != 1 else ''} tracked." if faces else "")
    if outcome == "cancelled":
        said.append("Cancelled: this is what was analysed until then.")
    return " ".join(s for s in said if s)


class VideoView:
    def __init__(self, ui: Ui) -> None:
        self.ui = ui

    def state(self, state: str) -> None:
        self.ui.data("videoState", state)

    def start(self, name: str, duration_s: float, size: tuple[int, int], analysed: tuple[int, int]) -> None:
        ui = self.ui
        ui.hidden("video-panel", False)
        ui.hidden("video-report", True)
        scaled = f", analysed at {analysed[0]}x{analysed[1]}" if analysed != size else ""
        ui.text("video-name", f"{name}: {clock(duration_s)}, {size[0]}x{size[1]}{scaled}")
        ui.prop("video-cancel", "disabled", False)
        self.progress(0.0, "Starting…")
        self.state("analysing")

    def progress(self, fraction: float, text: str) -> None:
        fraction = max(0.0, min(1.0, fraction))
        self.ui.data("videoProgress", f"{fraction:.3f}")
        self.ui.prop("video-progress", "value", round(100 * fraction))
        self.ui.text("video-progress-text", text)

    def failed(self, text: str) -> None:
        self.ui.hidden("video-panel", False)
        self.ui.text("video-progress-text", text)
        self.ui.prop("video-cancel", "disabled", True)
        self.state("error")

    def show(self, report: VideoReport, outcome: str) -> None:
        """The report, once the analysis has ended (`outcome`: done or cancelled)."""
        ui = self.ui
        ui.prop("video-cancel", "disabled", True)
        ui.text("video-summary", summary_text(report, outcome))
        length = report.duration_s
        rows = [[f"Face {s.face_id}", seconds(s.first_seen_s), seconds(s.last_seen_s), shares_text(s.shares),
                 strip(report.face_timeline(s.face_id), length)] for s in report.face_summaries()]
        ui.op("table", "video-faces", ["Face", "First seen", "Last seen", "Share of each mood", "Mood over the video"],
              rows)
        group = report.group_timeline()
        ui.op("table", "video-group", ["Picture", "Mood over the video"], [["All faces", strip(group, length)]])
        keys = sorted({key for _, _, key in group} | {key for f in report.face_ids()
                                                      for _, _, key in report.face_timeline(f)} - {""})
        ui.legend("video-legend", [{"name": k, "label": name_of(k), "color": colour_of(k)} for k in keys])
        ui.hidden("video-report", False)
        self.state(outcome)
