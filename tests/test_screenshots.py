"""Design in a real browser: screenshots for people to look at, and the layout promises that can
be measured — no sideways scrolling from 320 px, no layout shift, reading without JavaScript,
dark mode, a print stylesheet for articles.

Screenshots of the front page and an article at 375 and 1280 px, light and dark, of the sample
site and of the generated 200-article site (with pictures) go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, serve_under_prefix
from test_html_valid import shared_corpus

SHOTS = ROOT / "test-artifacts" / "screenshots"
WIDTHS = (375, 1280)
SCHEMES = ("light", "dark")

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    public = shared_corpus(tmp_path_factory) / "public"
    with serve_under_prefix(public, "news", tmp_path_factory.mktemp("www-shots")) as url:
        yield public, url


def article_path(public: Path, pattern: str = "20*/*/*/index.html") -> str:
    found = sorted(public.glob(pattern))
    assert found, f"no article page matches {pattern}"
    return found[0].parent.relative_to(public).as_posix() + "/"


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def shoot(browser: Any, url: str, name: str) -> list[Path]:
    made = []
    for width in WIDTHS:
        for scheme in SCHEMES:
            context = browser.new_context(viewport={"width": width, "height": 900},
                                          color_scheme=scheme)
            try:
                tab = context.new_page()
                tab.goto(url, wait_until="load")
                tab.evaluate("document.fonts.ready")
                path = SHOTS / f"{name}-{width}-{scheme}.png"
                tab.screenshot(path=str(path), full_page=True)
                made.append(path)
            finally:
                context.close()
    return made


def test_screenshots_of_front_page_and_article(browser: Any, site_url: str, built_site: Path,
                                               corpus: tuple[Path, str]) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    public, corpus_url = corpus
    made = [*shoot(browser, site_url, "sample-front"),
            *shoot(browser, site_url + article_path(built_site / "public"), "sample-article"),
            *shoot(browser, corpus_url, "generated-front"),
            *shoot(browser, corpus_url + article_path(public, "20*/*/story-004/index.html"),
                   "generated-article")]
    assert len(made) == 16
    for path in made:
        width, height = png_size(path)
        assert width == int(path.stem.split("-")[-2]) and height >= 900, path.name


def no_overflow(tab: Any) -> bool:
    return bool(tab.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"))


def test_no_page_scrolls_sideways_at_320_px(browser: Any, site_url: str, built_site: Path,
                                            corpus: tuple[Path, str]) -> None:
    public, corpus_url = corpus
    urls = [site_url + p for p in ("", article_path(built_site / "public"), "section/world/",
                                    "tags/", "archive/", "search/", "about/", "404.html")]
    urls += [corpus_url + p for p in ("", "page/2/", article_path(public, "20*/*/story-004/index.html"),
                                      "section/world/")]
    context = browser.new_context(viewport={"width": 320, "height": 640})
    try:
        tab = context.new_page()
        wide = []
        for url in urls:
            tab.goto(url)
            if not no_overflow(tab):
                wide.append(url)
        assert wide == []
    finally:
        context.close()


LAYOUT_SHIFT = """() => new Promise((resolve) => {
    let total = 0;
    new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) if (!entry.hadRecentInput) total += entry.value;
    }).observe({type: "layout-shift", buffered: true});
    window.scrollTo(0, document.body.scrollHeight);  // bring the lazy pictures in
    setTimeout(() => resolve(total), 1500);
})"""


@pytest.mark.parametrize("width", WIDTHS)
def test_pages_with_pictures_do_not_shift_while_loading(browser: Any, corpus: tuple[Path, str],
                                                        width: int) -> None:
    public, corpus_url = corpus
    context = browser.new_context(viewport={"width": width, "height": 800})
    try:
        tab = context.new_page()
        for path in ("", article_path(public, "20*/*/story-004/index.html")):
            tab.goto(corpus_url + path, wait_until="load")
            assert tab.locator("main img").count() > 0
            assert tab.evaluate(LAYOUT_SHIFT) == 0, path
    finally:
        context.close()


def test_reading_needs_no_javascript(browser: Any, site_url: str, built_site: Path) -> None:
    public = built_site / "public"
    for page in public.rglob("*.html"):
        if page.parent.name == "search":
            continue
        text = page.read_text(encoding="utf-8")
        scripts = text.count("<script")
        assert scripts == text.count('<script type="application/ld+json">'), page
    context = browser.new_context(java_script_enabled=False)
    try:
        tab = context.new_page()
        tab.goto(site_url + article_path(public))
        assert tab.locator("h1.headline").is_visible()
        assert "Dunford" in tab.inner_text(".story-body")
    finally:
        context.close()


def test_dark_mode_follows_the_system_setting(page: Any, site_url: str) -> None:
    colours = {}
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        page.goto(site_url)
        colours[scheme] = page.evaluate(
            "[getComputedStyle(document.body).backgroundColor, getComputedStyle(document.body).color]")
    assert colours["light"] == ["rgb(255, 255, 255)", "rgb(20, 21, 23)"]
    assert colours["dark"] == ["rgb(19, 20, 22)", "rgb(236, 237, 239)"]


def test_print_shows_the_story_without_navigation(page: Any, site_url: str,
                                                  built_site: Path) -> None:
    page.goto(site_url + article_path(built_site / "public"))
    page.emulate_media(media="print", color_scheme="dark")
    hidden = [".sections", ".site-footer", ".search-form", ".story-footer"]
    for selector in hidden:
        assert not page.locator(selector).first.is_visible(), selector
    assert page.locator(".story-body").is_visible() and page.locator("h1.headline").is_visible()
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
