"""Drawing face parts and mesh key points on the overlay, the legend, and the mesh HUD figures.

- Each part is ONE Path2D built from an SVG path string (one JS call per part,
  not one per point), filled translucent with the even-odd rule (the inner lip
  loop cuts out the mouth), then outlined opaque in the same colour over a dark
  under-stroke; open lines (the nose bridge) are stroked.
- Mesh key points: a dark-ringed white dot per named point (eyes, nose tip,
  mouth, ear tragions, mouth corners, chin).
- #overlay[data-parts] holds what is drawn (moodcam.landmarks.bridge.overlay_data),
  in display pixels (mirrored like #overlay[data-faces] "box").
- #parts-legend: one <li data-part> per part with a colour swatch and the name,
  shown while the face-parts view is on.
"""
from __future__ import annotations

import json

from ..landmarks.bridge import overlay_data, svg_path
from ..landmarks.mesh import MeshResult
from ..landmarks.parts import DEFAULT_LAYOUT, FacePartLayout, legend
from .interop import path2d
from .render import Overlay
from .ui import Ui

HUD_EVERY_MS = 250.0


class PartsRenderer:
    def __init__(self, overlay: Overlay, ui: Ui, show_parts: bool = False, show_points: bool = False) -> None:
        self.show_parts = show_parts
        self.show_points = show_points
        self.mirrored = False
        self.layout: FacePartLayout = DEFAULT_LAYOUT
        self.overlay = overlay
        self.ui = ui
        self._ctx = overlay.ctx
        self._legend_for: FacePartLayout | None = None
        self._hud_at = -1e9
        self._mesh_ms = 0.0
        self._had_data = False

    @property
    def active(self) -> bool:
        return self.show_parts or self.show_points

    # -- legend ------------------------------------------------------------------
    def set_layout(self, layout: FacePartLayout) -> None:
        self.layout = layout
        self.update_legend()

    def update_legend(self) -> None:
        if self._legend_for is not self.layout:
            self._legend_for = self.layout
            self.ui.legend("parts-legend-list", [{"name": e["name"], "label": e["label"], "color": e["color"]}
                                                 for e in legend(self.layout)])
        self.ui.hidden("parts-legend", not self.show_parts)

    # -- per frame -----------------------------------------------------------------
    def show(self, result: MeshResult | None) -> None:
        """Draw on top of what Renderer drew this frame (it clears the canvas first)."""
        if not self.active or result is None:
            if self._had_data:
                self.clear()
            return
        data = overlay_data(result, self.layout, mirror=self.mirrored, parts=self.show_parts,
                            points=self.show_points)
        self.ui.el_data("overlay", "parts", json.dumps(data, separators=(",", ":")))
        self._had_data = True
        ctx = self._ctx
        line = max(1.5, float(self.overlay.size[0]) / 400)
        for face in data["faces"]:
            if self.show_parts:
                for part in face["parts"]:
                    self._draw_part(ctx, part, line)
            if self.show_points:
                self._draw_points(ctx, face["key_points"], line)
        ctx.globalAlpha = 1.0

    def _draw_part(self, ctx, part: dict, line: float) -> None:
        colour = part["color"]
        if part["loops"]:
            path = path2d(svg_path(part["loops"]))
            ctx.globalAlpha = float(part["fill_alpha"])
            ctx.fillStyle = colour
            ctx.fill(path, part.get("fill_rule", "evenodd"))
            ctx.globalAlpha = 0.9
            ctx.lineWidth = line
            ctx.strokeStyle = colour
            ctx.stroke(path)
        if part["lines"]:
            path = path2d(svg_path(part["lines"], close=False))
            ctx.globalAlpha = 0.9
            ctx.lineWidth = line
            ctx.strokeStyle = colour
            ctx.stroke(path)
        ctx.globalAlpha = 1.0

    def _draw_points(self, ctx, points: list[dict], line: float) -> None:
        r = line * 1.6
        d = []
        for p in points:
            x, y = p["x"], p["y"]
            d.append(f"M{x + r:.1f} {y:.1f}A{r:.1f} {r:.1f} 0 1 0 {x - r:.1f} {y:.1f}"
                     f"A{r:.1f} {r:.1f} 0 1 0 {x + r:.1f} {y:.1f}Z")
        path = path2d("".join(d))
        ctx.globalAlpha = 1.0
        ctx.fillStyle = "#FFFFFF"
        ctx.fill(path)
        ctx.lineWidth = max(1.0, line * 0.8)
        ctx.strokeStyle = "#000000"
        ctx.stroke(path)

    def clear(self) -> None:
        self.ui.el_data("overlay", "parts", json.dumps(overlay_data(None, mirror=self.mirrored), separators=(",", ":")))
        self._had_data = False

    # -- HUD -------------------------------------------------------------------------
    def hud(self, now_ms: float, mesh_ms: float, result: MeshResult | None, force: bool = False) -> None:
        if mesh_ms:
            self._mesh_ms = mesh_ms if not self._mesh_ms else 0.9 * self._mesh_ms + 0.1 * mesh_ms
        if not force and now_ms - self._hud_at < HUD_EVERY_MS:
            return
        self._hud_at = now_ms
        shown = result if self.active else None
        self.ui.text("hud-mesh", f"{self._mesh_ms:.1f}" if shown is not None and self._mesh_ms else "–")
        self.ui.text("hud-detector-share",
                     f"{100 * shown.detector_fraction:.0f}% of {shown.frames}" if shown is not None else "–")

    @property
    def mesh_ms(self) -> float:
        return self._mesh_ms
