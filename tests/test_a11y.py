"""Accessibility in a real browser: axe-core (npm, injected with Playwright) finds no WCAG 2.1 A/AA
violation on any page kind, in the light and the dark colour scheme; the skip link and the focus
ring work from the keyboard.

Page kinds come from the sample site (front, article, section, tag, tags, authors, archives,
page, search with results, 404) and from the generated 200-article site (a full front page with
pictures, pagination, an article with a picture, related stories and previous/next, an author).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, serve_under_prefix
from test_html_valid import shared_corpus

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SAMPLE_PAGES = ["", "section/world/", "tags/", "tags/dunford/", "authors/", "archive/",
                "about/", "search/", "404.html"]
CORPUS_PAGES = ["", "page/2/", "section/business/", "section/sport/page/2/",
                "authors/ben-okafor/"]

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """(public folder, URL) of the generated site served under /news/."""
    public = shared_corpus(tmp_path_factory) / "public"
    with serve_under_prefix(public, "news", tmp_path_factory.mktemp("www-a11y")) as url:
        yield public, url


def article_path(public: Path, slug: str) -> str:
    """'YYYY/MM/slug/' of a generated article (dates follow the tests' reference time)."""
    found = sorted(public.glob(f"20*/*/{slug}/index.html"))
    assert len(found) == 1, slug
    return found[0].parent.relative_to(public).as_posix() + "/"


def sample_pages(built_site: Path) -> list[str]:
    """The fixed list plus the sample article and its year and month archives."""
    public = built_site / "public"
    article = sorted(public.glob("20*/*/*/index.html"))
    assert article, "the sample site has no article page"
    year, month, slug = article[0].parent.relative_to(public).parts
    return [*SAMPLE_PAGES, f"{year}/{month}/{slug}/", f"archive/{year}/", f"archive/{year}/{month}/"]


def axe_violations(page: Any) -> list[str]:
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG)
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"]]


def audit(page: Any) -> dict[str, list[str]]:
    """Violations per colour scheme for the loaded page."""
    found = {}
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        found[scheme] = axe_violations(page)
    return found


def test_axe_core_is_installed_and_finds_real_problems(page: Any) -> None:
    """Guards the audits below against an axe that reports nothing whatever the page."""
    page.set_content("<html><body><img src='x.png'><a href='#'></a>"
                     "<p style='color:#bbb;background:#fff'>faint</p></body></html>")
    ids = {v.split(" ")[0] for v in axe_violations(page)}
    assert {"image-alt", "link-name", "color-contrast", "html-has-lang"} <= ids


def test_every_sample_page_kind_has_no_wcag_violations_in_light_and_dark(
        page: Any, site_url: str, built_site: Path) -> None:
    failures = {}
    for path in sample_pages(built_site):
        page.emulate_media(color_scheme="light")
        page.goto(site_url + path)
        if path == "search/":  # audit the results too, not just the empty form
            page.fill("#search-q", "Dunford")
            page.wait_for_selector("#search-results a", timeout=15000)
        found = audit(page)
        failures.update({f"{path or 'front'} [{k}]": v for k, v in found.items() if v})
    assert failures == {}


def test_every_generated_page_kind_has_no_wcag_violations_in_light_and_dark(
        page: Any, corpus: tuple[Path, str]) -> None:
    public, url = corpus
    # story-004 has a picture, related stories and both neighbours; story-005 a dateline.
    newest_year = article_path(public, "story-000").split("/")[0]
    paths = [*CORPUS_PAGES, article_path(public, "story-004"), article_path(public, "story-005"),
             f"archive/{newest_year}/"]
    failures = {}
    for path in paths:
        page.emulate_media(color_scheme="light")
        response = page.goto(url + path)
        assert response is not None and response.ok, path
        found = audit(page)
        failures.update({f"{path or 'front'} [{k}]": v for k, v in found.items() if v})
    assert failures == {}


def test_the_skip_link_is_the_first_stop_and_moves_focus_to_the_content(
        page: Any, site_url: str) -> None:
    page.goto(site_url)
    page.keyboard.press("Tab")
    focused = page.evaluate("[document.activeElement.className, document.activeElement.text]")
    assert focused == ["skip-link", "Skip to content"]
    box = page.locator(".skip-link").bounding_box()
    assert box is not None and box["y"] >= 0 and box["height"] > 10  # on screen when focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_keyboard_focus_is_clearly_visible(page: Any, site_url: str, scheme: str) -> None:
    page.emulate_media(color_scheme=scheme)
    page.goto(site_url)
    for _ in range(3):  # skip link, brand, search field
        page.keyboard.press("Tab")
    style = page.evaluate("""() => {
        const s = getComputedStyle(document.activeElement);
        return [document.activeElement.id, s.outlineStyle, parseFloat(s.outlineWidth)];
    }""")
    assert style[0] == "masthead-q" and style[1] == "solid" and style[2] >= 2
