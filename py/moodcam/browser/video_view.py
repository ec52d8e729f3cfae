"""A video's analysis on the page: its progress and its report, as ui ops (browser.video decides when).

- progress: <html data-video-state> and data-video-progress, the #video-progress bar and its
  text (time analysed, time left, pace);
- the report (#video-report): a sentence (frames, how far, where it stopped, or that no face was
  found), #video-faces (one row per tracked face: first and last seen, its share of each mood,
  its mood over the video as a strip of the page's Okabe-Ito colours with the same in words for a
  screen reader), #video-group (the whole picture's mood over the video) and the colours' legend;
  each face's row has its thumbnail and a button that chooses it (tr[data-face]);
- the chosen face's chart (#video-chart: an SVG of its seven probabilities over time, from
  moodcam.video_chart) and the same as a table (#video-chart-table, each time a button that seeks);
- the preview (#video-preview, a <video> of the file at a clicked moment, with #video-preview-boxes:
  that frame's boxes as an SVG; #video-preview[data-time], [data-faces]);
- the question when a second video is chosen during an analysis (#video-confirm).
"""
from __future__ import annotations

import json

from ..video_chart import boxes_svg, chart_points, chart_rows, chart_svg, seconds_text
from ..video_report import Span, VideoReport, clock
from .render_mood import colour_of, name_of
from .ui import Ui

STATES = ("idle", "analysing", "done", "cancelled", "error")      # <html data-video-state>


seconds = seconds_text
CHART_TITLE = "video-chart-title"


def strip(spans: list[Span], duration_s: float) -> dict:
    """A table cell: coloured spans over the video's length, and the same in words; a click on it is the
    moment under the pointer (from 0 to `length` seconds)."""
    length = max(duration_s, spans[-1][1] if spans else 0.0, 1e-6)
    return {"text": "; ".join(f"{name_of(key)} {seconds(a)} to {seconds(b)}" for a, b, key in spans) or "nothing",
            "spans": [[a / length, b / length, colour_of(key), f"{name_of(key)} {seconds(a)}–{seconds(b)}"]
                      for a, b, key in spans], "from": 0.0, "to": round(length, 3)}


def question(running_name: str, new_name: str, running: bool) -> tuple[str, str, str]:
    """What #video-confirm asks when `new_name` is chosen while `running_name` is analysed (or has just
    ended): the question, then the two buttons' words (keep, switch)."""
    if running:
        return (f"{running_name} is still being analysed. Analyse {new_name} instead? What was analysed of "
                f"{running_name} is kept in its report until the new analysis starts.",
                "Keep analysing", "Analyse the new one")
    return (f"The analysis of {running_name} has ended. Analyse {new_name} now? Its report then replaces this one.",
            "Keep this report", "Analyse the new one")


def chosen_face(report: VideoReport) -> int | None:
    """The face whose chart is shown first: the one seen in the most frames (the lowest id on a tie)."""
    summaries = report.face_summaries()
    return max(summaries, key=lambda s: (s.frames, -s.face_id)).face_id if summaries else None


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

    def show(self, report: VideoReport, outcome: str, chosen: int | None = None) -> None:
        """The report, once the analysis has ended (`outcome`: done or cancelled), `chosen`'s chart."""
        ui = self.ui
        ui.prop("video-cancel", "disabled", True)
        ui.text("video-summary", summary_text(report, outcome))
        self.faces(report, chosen)
        length = report.duration_s
        group = report.group_timeline()
        ui.op("table", "video-group", ["Picture", "Mood over the video"], [["All faces", strip(group, length)]])
        keys = sorted({key for _, _, key in group} | {key for f in report.face_ids()
                                                      for _, _, key in report.face_timeline(f)} - {""})
        ui.legend("video-legend", [{"name": k, "label": name_of(k), "color": colour_of(k)} for k in keys])
        self.chart(report, chosen)
        ui.hidden("video-report", False)
        self.state(outcome)

    def faces(self, report: VideoReport, chosen: int | None) -> None:
        """#video-faces: one row per face, the chosen one's button pressed."""
        length = report.duration_s
        rows = [{"face": s.face_id, "chosen": s.face_id == chosen,
                 "cells": [{"button": f"Face {s.face_id}", "face": s.face_id, "pressed": s.face_id == chosen},
                           {"image": report.thumbnails.get(s.face_id, ""), "alt": f"Face {s.face_id}"},
                           seconds(s.first_seen_s), seconds(s.last_seen_s), shares_text(s.shares),
                           strip(report.face_timeline(s.face_id), length)]}
                for s in report.face_summaries()]
        self.ui.op("table", "video-faces", ["Face", "Picture", "First seen", "Last seen", "Share of each mood",
                                            "Mood over the video"], rows)

    def chart(self, report: VideoReport, face_id: int | None) -> None:
        """The chosen face's seven probabilities over time (#video-chart) and the same as a table."""
        ui = self.ui
        summary = next((s for s in report.face_summaries() if s.face_id == face_id), None)
        ui.hidden("video-chart-section", summary is None)
        ui.el_data("video-chart", "face", "" if summary is None else str(face_id))
        if summary is None:
            ui.op("svg", "video-chart", "")
            return
        points = chart_points(report.face_samples(summary.face_id))
        end = report.frame_end(report.frame_at(summary.last_seen_s) or 0)
        ui.text(CHART_TITLE, f"Face {summary.face_id}: the seven probabilities from {seconds(summary.first_seen_s)} "
                             f"to {seconds(summary.last_seen_s)}" + ("" if points else " (never read)"))
        ui.op("svg", "video-chart", chart_svg(points, report.labels, summary.first_seen_s, end, CHART_TITLE))
        ui.legend("video-chart-legend", [{"name": k, "label": name_of(k), "color": colour_of(k)} for k in report.labels])
        rows = [[{"button": words, "seek": round(t, 3)}, *percents] for t, words, percents in chart_rows(points)]
        ui.op("table", "video-chart-table", ["Time", *(name_of(k) for k in report.labels)], rows)

    def preview(self, report: VideoReport, index: int, chosen: int | None) -> None:
        """Frame `index`'s boxes over the preview (the page seeks #video-preview to its time) and in words."""
        ui = self.ui
        t = report.frame_time(index)
        faces = report.frame_faces(index)
        ui.hidden("video-preview-figure", False)
        ui.op("svg", "video-preview-boxes", boxes_svg(faces, (report.analysed_size[0], report.analysed_size[1]), chosen))
        ui.el_data("video-preview", "time", f"{t:.3f}")
        ui.el_data("video-preview", "faces", json.dumps([{"id": f, "box": [round(v, 1) for v in box], "label": key}
                                                         for f, box, key in faces]))
        said = "; ".join(f"Face {f}: {name_of(key)}" for f, _, key in faces) or "no face"
        ui.text("video-preview-text", f"Frame {index + 1} at {seconds(t)}: {said}.")

    def preview_closed(self) -> None:
        self.ui.hidden("video-preview-figure", True)
        self.ui.op("svg", "video-preview-boxes", "")

    def ask(self, running_name: str, new_name: str, running: bool) -> None:
        """#video-confirm: an in-page question (no blocking dialog); the keyboard's focus goes to "keep"."""
        text, keep, switch = question(running_name, new_name, running)
        ui = self.ui
        ui.text("video-confirm-text", text)
        ui.text("video-confirm-keep", keep)
        ui.text("video-confirm-switch", switch)
        ui.hidden("video-confirm", False)
        ui.focus("video-confirm-keep")

    def asked(self) -> None:
        self.ui.hidden("video-confirm", True)
        self.ui.focus("video-cancel")
