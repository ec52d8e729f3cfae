"""A video report's pictures as SVG text (issue 28), pure: a face's seven probabilities over time,
and a preview frame's boxes. browser.video_view puts them on the page (the "svg" ui op).

- `chart_points`: a face's samples (moodcam.video_report's face_samples) as at most MAX_POINTS
  points, consecutive frames averaged in equal runs, never across a gap (frames where the face
  was out of view or not yet read), so a long video gives a chart and a table of bounded size;
- `chart_svg`: one line per class in the page's Okabe-Ito colours (moodcam.mood.presentation) over
  the face's time in view, and a transparent area over the plot carrying data-seek-from/-to
  (seconds): a click there is a moment (app/page.js turns its x into a time, Python the rest);
- `chart_rows`: the same points as a table's rows (a screen reader's chart);
- `boxes_svg`: a frame's face boxes over the preview, in analysed-frame pixels (the viewBox), so
  the browser scales them with the <video> under them.
Every number written is rounded: the same report gives the same text.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from typing import Sequence

from .mood.presentation import colour_of, name_of

MAX_POINTS = 120
WIDTH, HEIGHT = 720, 200                  # the chart's viewBox
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 8, 22    # room for the axes' words
GRID = (0.0, 0.5, 1.0)

Sample = tuple[int, float, tuple[float, ...]]     # (frame index, media time s, probabilities)


@dataclass(frozen=True)
class Point:
    time_s: float                   # the first frame's media time (a frame the report has: seeking to it shows it)
    frames: int                     # how many frames were averaged
    probabilities: tuple[float, ...]
    after_gap: bool                 # the face was out of view (or unread) just before


def runs(samples: Sequence[Sample]) -> list[list[Sample]]:
    """Consecutive analysed frames together; a missing frame index starts a new run."""
    out: list[list[Sample]] = []
    for sample in samples:
        if out and sample[0] == out[-1][-1][0] + 1:
            out[-1].append(sample)
        else:
            out.append([sample])
    return out


def chart_points(samples: Sequence[Sample], max_points: int = MAX_POINTS) -> list[Point]:
    """At most about `max_points` points: every run of frames cut into equal groups of `per` frames
    (ceil(n / max_points)), each group's mean."""
    if not samples:
        return []
    per = max(1, math.ceil(len(samples) / max_points))
    points: list[Point] = []
    for run in runs(samples):
        for start in range(0, len(run), per):
            group = run[start:start + per]
            n = len(group[0][2])
            mean = tuple(sum(s[2][i] for s in group) / len(group) for i in range(n))
            points.append(Point(group[0][1], len(group), mean, after_gap=bool(points) and start == 0))
    return points


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def chart_svg(points: Sequence[Point], labels: Sequence[str], start_s: float, end_s: float, title_id: str) -> str:
    """The chart: x is media time from `start_s` to `end_s`, y is probability 0..1."""
    end_s = max(end_s, start_s + 1e-3)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(t: float) -> float:
        return LEFT + plot_w * (t - start_s) / (end_s - start_s)

    def y(p: float) -> float:
        return TOP + plot_h * (1.0 - max(0.0, min(1.0, p)))

    parts = [f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-labelledby="{escape(title_id)}" class="chart">']
    for p in GRID:
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_n(y(p))}" y2="{_n(y(p))}" stroke="#3a4048"/>')
        parts.append(f'<text x="{LEFT - 4}" y="{_n(y(p) + 4)}" text-anchor="end" font-size="11" '
                     f'fill="currentColor">{round(100 * p)} %</text>')
    for t, anchor in ((start_s, "start"), (end_s, "end")):
        parts.append(f'<text x="{_n(x(t))}" y="{HEIGHT - 6}" text-anchor="{anchor}" font-size="11" '
                     f'fill="currentColor">{escape(seconds_text(t))}</text>')
    for i, label in enumerate(labels):
        path = " ".join(f'{"M" if k == 0 or point.after_gap else "L"}{_n(x(point.time_s))} {_n(y(point.probabilities[i]))}'
                        for k, point in enumerate(points))
        if path:
            parts.append(f'<path d="{path}" data-label="{escape(label)}" stroke="{colour_of(label)}" stroke-width="2" '
                         f'fill="none" stroke-linejoin="round" pointer-events="none"/>')
    parts.append(f'<rect class="seek-area" x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="transparent" '
                 f'data-seek-from="{start_s:.3f}" data-seek-to="{end_s:.3f}"><title>Click a moment to see its frame'
                 f'</title></rect>')
    parts.append("</svg>")
    return "".join(parts)


def seconds_text(t: float) -> str:
    """m:ss.d (a tenth of a second matters at 10 frames a second)."""
    whole = int(t)
    tenth = int(round(10 * (t - whole)))
    if tenth == 10:
        whole, tenth = whole + 1, 0
    h, rest = divmod(whole, 3600)
    base = f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"
    return f"{base}.{tenth}"


def chart_rows(points: Sequence[Point]) -> list[tuple[float, str, list[str]]]:
    """(time to seek to, its words, one percentage per class) for each point, as the table shows them."""
    return [(p.time_s, seconds_text(p.time_s) + (f" ({p.frames} frames)" if p.frames > 1 else ""),
             [f"{round(100 * v)} %" for v in p.probabilities]) for p in points]


def boxes_svg(faces: Sequence[tuple[int, tuple[float, float, float, float], str]], size: tuple[int, int],
              chosen: int | None) -> str:
    """A frame's faces as outlined boxes with their id and vote, over a picture of `size` pixels."""
    w, h = size
    stroke = max(2.0, w / 320)
    parts = [f'<svg viewBox="0 0 {w} {h}" preserveAspectRatio="xMidYMid meet" '
             f'aria-hidden="true" class="boxes">']
    for face_id, (x0, y0, x1, y1), key in faces:
        width = stroke * (2 if face_id == chosen else 1)
        parts.append(f'<rect data-face="{face_id}" x="{_n(x0)}" y="{_n(y0)}" width="{_n(x1 - x0)}" '
                     f'height="{_n(y1 - y0)}" fill="none" stroke="{colour_of(key)}" stroke-width="{_n(width)}"/>')
        parts.append(f'<text x="{_n(x0)}" y="{_n(max(y0 - 2 * stroke, 12 * stroke))}" font-size="{_n(8 * stroke)}" '
                     f'fill="{colour_of(key)}" stroke="#000" stroke-width="{_n(stroke / 3)}" paint-order="stroke">'
                     f'Face {face_id}: {escape(name_of(key))}</text>')
    parts.append("</svg>")
    return "".join(parts)
