"""Installable: the web app manifest, its icons (drawn by the build) and their place in the site.

CPython only. The browser's side (Chromium finds the app installable, the icons arrive, an
installed app starts offline from its start URL) is tests/e2e/test_install_and_stats.py.
"""
from __future__ import annotations

import io
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import numpy as np
import pytest

from moodcam_tools.errors import BuildError
from moodcam_tools.site.icons import BACKGROUND, draw_icon, icon_specs, png_bytes, write_icons

REPO = Path(__file__).resolve().parents[2]
MANIFEST = REPO / "app" / "manifest.webmanifest"
DIST = Path(os.environ.get("MOODCAM_DIST") or REPO / "dist")


def manifest() -> dict:
    return json.loads(MANIFEST.read_text())


class _Head(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: dict[str, str] = {}
        self.metas: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "link":
            self.links[a.get("rel", "")] = a.get("href", "")
        elif tag == "meta" and "name" in a:
            self.metas[a["name"]] = a.get("content", "")


def head() -> _Head:
    parser = _Head()
    parser.feed((REPO / "index.html").read_text())
    return parser


def page_background() -> str:
    return re.search(r"--bg:\s*(#[0-9a-fA-F]{6})", (REPO / "app" / "style.css").read_text()).group(1).lower()


def test_the_manifest_says_what_an_installed_app_needs():
    m = manifest()
    assert m["name"] and m["short_name"] == "moodcam" and m["display"] == "standalone"
    # Relative to the manifest (app/): the site's root, under whatever path the site is served.
    for key in ("start_url", "scope"):
        assert m[key] == "../", key
        for base in ("https://example.org/", "https://example.org/tools/moodcam/"):
            assert urljoin(urljoin(base, "app/manifest.webmanifest"), m[key]) == base
    assert m["theme_color"].lower() == m["background_color"].lower() == page_background()
    assert head().metas["theme-color"].lower() == page_background()


def test_index_html_links_the_manifest_and_an_icon_it_lists():
    links = head().links
    assert links["manifest"] == "app/manifest.webmanifest"
    listed = {"app/" + spec.src for spec in icon_specs(manifest())}
    assert {links["icon"], links["apple-touch-icon"]} <= listed


def test_icons_192_and_512_each_plain_and_maskable():
    specs = icon_specs(manifest())
    assert {(s.size, s.purpose) for s in specs} == {(192, "any"), (512, "any"), (192, "maskable"), (512, "maskable")}
    assert len({s.src for s in specs}) == len(specs)


@pytest.mark.parametrize("entry", [
    {"src": "icons/a.png", "sizes": "256x256", "type": "image/png"},
    {"src": "icons/a.png", "sizes": "192x512", "type": "image/png"},
    {"src": "icons/a.png", "sizes": "192x192", "type": "image/png", "purpose": "monochrome"},
    {"src": "icons/a.svg", "sizes": "192x192", "type": "image/svg+xml"},
    {"src": "../escape.png", "sizes": "192x192", "type": "image/png"},
])
def test_an_icon_the_build_cannot_draw_is_refused_by_name(entry):
    with pytest.raises(BuildError, match="cannot draw") as caught:
        icon_specs({"icons": [entry]})
    assert caught.value.fix and "manifest.webmanifest" in caught.value.fix


@pytest.mark.parametrize("size", [192, 512])
def test_the_icons_are_pngs_of_their_size_and_decode_to_the_drawing(size):
    from PIL import Image

    for purpose in ("any", "maskable"):
        pixels = draw_icon(size, purpose)
        image = Image.open(io.BytesIO(png_bytes(pixels)))
        assert image.size == (size, size) and image.mode == "RGBA"
        assert np.array_equal(np.asarray(image), pixels)


def test_a_maskable_icon_keeps_its_picture_inside_the_safe_zone():
    size = 512
    pixels = draw_icon(size, "maskable")
    assert (pixels[..., 3] == 255).all(), "a maskable icon has no transparent pixel"
    centre = (np.arange(size) + 0.5 - size / 2) / (size / 2)
    radius = np.hypot(*np.meshgrid(centre, centre))
    outside = pixels[radius > 0.8][:, :3]
    assert (outside == BACKGROUND).all(), "only the background outside the central 80 % circle"
    assert not (pixels[radius <= 0.8][:, :3] == BACKGROUND).all(), "the picture is inside"


def test_a_plain_icon_has_transparent_corners_and_an_opaque_middle():
    pixels = draw_icon(192, "any")
    assert pixels[0, 0, 3] == 0 and pixels[-1, -1, 3] == 0 and pixels[96, 96, 3] == 255


def test_the_icons_are_drawn_the_same_every_time_and_stay_small(tmp_path):
    written = []
    for run in ("one", "two"):
        folder = tmp_path / run
        folder.mkdir()
        (folder / "manifest.webmanifest").write_text(MANIFEST.read_text())
        written.append({p.relative_to(folder).as_posix(): p.read_bytes()
                        for p in write_icons(folder / "manifest.webmanifest")})
    assert written[0] == written[1]
    assert sorted(written[0]) == sorted(spec.src for spec in icon_specs(manifest()))
    assert sum(len(data) for data in written[0].values()) < 60_000


def test_a_manifest_that_is_not_json_names_the_file(tmp_path):
    broken = tmp_path / "manifest.webmanifest"
    broken.write_text("{ not json")
    with pytest.raises(BuildError, match="manifest.webmanifest could not be read"):
        write_icons(broken)


@pytest.mark.skipif(not (DIST / "site.json").is_file(), reason=f"needs a built site at {DIST} (build.py site)")
def test_the_built_site_lists_the_manifest_and_icons_in_its_start_set():
    # site.json's files minus on_demand are what the service worker precaches (app/sw.js): an
    # installed app opened offline finds its manifest and icons there.
    site = json.loads((DIST / "site.json").read_text())
    wanted = ["app/manifest.webmanifest"] + ["app/" + spec.src for spec in icon_specs(manifest())]
    for path in wanted:
        assert path in site["files"], path
        assert path not in site.get("on_demand", []), path
        assert (DIST / path).is_file(), path
    assert json.loads((DIST / "app/manifest.webmanifest").read_text()) == manifest()
