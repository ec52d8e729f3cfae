"""Each tracked face's thumbnail in a video's report (issue 28), cropped on the device.

moodcam.thumbnail decides which frame (a clearly better one replaces the kept one) and which
square; here the square is drawn from the analysed frame's canvas into a small canvas, its pixels
read (THUMB_PX² x 4 bytes, a CPU canvas) and kept in the report as a PNG data URL. Only the best
picture so far is kept per face, so memory grows with the faces, not with the video's length.
"""
from __future__ import annotations

from typing import Any, Sequence

from ..thumbnail import BETTER_BY, THUMB_PX, png_data_url, quality, square_crop
from ..video_report import FaceRow, VideoReport
from .interop import new_canvas


class FaceThumbnails:
    def __init__(self, report: VideoReport, size: tuple[int, int]) -> None:
        self._report = report
        self._size = size
        self._best: dict[int, float] = {}
        self._canvas, self._context = new_canvas(THUMB_PX, THUMB_PX, read_often=True)

    def consider(self, frame: Any, rows: Sequence[FaceRow]) -> None:
        """`frame` (the analysed frame's canvas) for each face in it that it shows better than before."""
        for row in rows:
            q = quality(row.box, row.score, self._size)
            if row.face_id in self._best and q < self._best[row.face_id] + BETTER_BY:
                continue
            self._best[row.face_id] = q
            x, y, side = square_crop(row.box, self._size)
            self._context.drawImage(frame, x, y, side, side, 0, 0, THUMB_PX, THUMB_PX)
            pixels = self._context.getImageData(0, 0, THUMB_PX, THUMB_PX).data.to_bytes()
            self._report.thumbnails[row.face_id] = png_data_url(THUMB_PX, THUMB_PX, pixels)
