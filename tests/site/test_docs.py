"""The docs hold together: every relative link reaches a file, every #anchor a heading, and the README stays short.

Checked: README.md, docs/*.md, bench/README.md and the model cards (models/*/README.md). A link is
relative when it has no scheme (http:, mailto:, ...); it is resolved against the linking file's
folder, and its #anchor must be the GitHub slug of a heading in the target (or in the same file for
a bare #anchor). Links inside code (fenced blocks and `inline code`) are not links, so they are
skipped. Pure file reading: no build, no browser.
"""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

REPO = Path(__file__).resolve().parents[2]
README_MAX_LINES = 220   # issue 29: "at most about 200 lines", 220 at the very most

FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
# [text](target) and ![alt](target); the target ends at whitespace or ")" (an optional "title" is ignored).
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def doc_files() -> list[Path]:
    files = [REPO / "README.md", REPO / "bench" / "README.md"]
    files += sorted((REPO / "docs").glob("*.md"))
    files += sorted((REPO / "models").glob("*/README.md"))
    return [f for f in files if f.is_file()]


def prose_lines(text: str, blank_code: bool = True) -> list[tuple[int, str]]:
    """(line number, line) outside fenced code blocks, inline code blanked out unless told not to."""
    lines, fenced = [], False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append((number, INLINE_CODE.sub(lambda m: " " * len(m.group(0)), line) if blank_code else line))
    return lines


def github_slug(heading: str) -> str:
    """The id GitHub gives a heading: its text, lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)   # a link shows its text
    text = re.sub(r"<[^>]+>", "", text).strip().lower()         # inline HTML tags
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading's slug in a markdown file, with GitHub's -1, -2 ... for repeats."""
    seen: dict[str, int] = {}
    found = set()
    text = path.read_text(encoding="utf-8")
    for _, line in prose_lines(text, blank_code=False):   # a heading's `code` is part of its text
        match = HEADING.match(line)
        if not match:
            continue
        slug = github_slug(match.group(2))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def relative_links(path: Path) -> list[tuple[int, str]]:
    text = path.read_text(encoding="utf-8")
    return [(number, target) for number, line in prose_lines(text) for target in LINK.findall(line)
            if not SCHEME.match(target)]


def broken_links(path: Path) -> list[str]:
    """What is wrong with each relative link of one file, as "file:line: target: why"."""
    problems = []
    for number, target in relative_links(path):
        where = f"{path.relative_to(REPO)}:{number}: {target}"
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / unquote(file_part)).resolve() if file_part else path
        if not dest.exists():
            problems.append(f"{where}: no such file {dest.relative_to(REPO) if dest.is_relative_to(REPO) else dest}")
            continue
        if anchor and dest.suffix == ".md" and unquote(anchor) not in anchors(dest):
            problems.append(f"{where}: no heading with the anchor #{anchor} in {dest.relative_to(REPO)} "
                            f"(its anchors: {', '.join(sorted(anchors(dest)))})")
    return problems


@pytest.mark.parametrize("path", doc_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_reaches_a_file_and_a_heading(path: Path) -> None:
    problems = broken_links(path)
    assert not problems, "broken links (fix the link, or the heading it points at):\n" + "\n".join(problems)


def test_the_docs_have_links_to_check() -> None:
    # Guards the checker itself: were the link pattern to stop matching, every file would pass.
    assert len(relative_links(REPO / "README.md")) >= 8
    assert {p.name for p in doc_files()} >= {"README.md", "using.md", "architecture.md", "reuse.md"}


def test_readme_is_short() -> None:
    lines = len((REPO / "README.md").read_text(encoding="utf-8").splitlines())
    assert lines <= README_MAX_LINES, (f"README.md has {lines} lines, over {README_MAX_LINES}: move the detail "
                                       "to the docs/ page for its reader and link to it")


def test_github_slugs() -> None:
    assert github_slug("Near and far; groups") == "near-and-far-groups"
    assert github_slug("What dist/ holds (deploy it to any static host)") == "what-dist-holds-deploy-it-to-any-static-host"
    assert github_slug("Start-up: first and return visits") == "start-up-first-and-return-visits"
    assert github_slug("The service worker registers once the app runs: an A/B in one sitting (2026-12-03)") == \
        "the-service-worker-registers-once-the-app-runs-an-ab-in-one-sitting-2026-12-03"
