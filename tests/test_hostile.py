"""Hostile text: markup in seeds and front matter is shown literally and never runs.

Seeds (and one hand-written article's front matter) carry `<script>`, `<img onerror>`,
`javascript:` links, `</title>`, quotes that would close attributes and a `</script>` that would
close the JSON-LD block. The site is built with the CLI (search included) and served over HTTP;
Chromium loads every kind of page that shows the text and a canary (`window.__pwned`, alert())
proves nothing ran. Every page, feed and sitemap is also checked with parsers.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import feedparser
import pytest
import yaml
from conftest import copy_project, run_cli, serve_under_prefix
from htmlutil import parse

from generator.urls import slugify

CANARY = "window.__pwned=1"
HEADLINE = f"Hostile </title><script>{CANARY}</script> \"double\" 'single' </script> & <b>x</b>"
STANDFIRST = f'Standfirst <img src=x onerror="{CANARY}"> with "quotes" and \'apostrophes\''
PARAGRAPHS = (
    f"<script>{CANARY}</script> opened the election vote in parliament.",
    f"A [markdown link](javascript:{CANARY}) and an <a href=\"javascript:{CANARY}\">html link</a>.",
    f"<img src=x onerror=\"{CANARY}\"> <svg onload=\"{CANARY}\"> <iframe src=\"javascript:alert(1)\">",
    f"An autolink <javascript:alert(1)> and a bare javascript:{CANARY} in the election text.",
    "Quotes \" ' “ ” and entities &amp; &lt;b&gt; stay as written; so does </script><!--.",
)
SEED = "\n\n".join((HEADLINE, STANDFIRST, *PARAGRAPHS))

FM_TITLE = f"Front \"matter\" </title><script>{CANARY}</script> 'title'"
FM_SUMMARY = f"<img src=x onerror=\"{CANARY}\"> a summary \"that\" closes 'attributes'"
FM_AUTHOR = "<script>alert(1)</script> Reporter"
FM_TAG = "\"><img src=x onerror=alert(1)> Tag"
FM_DATELINE = "<b>LONDON</b>"
FRONT_MATTER = {
    "title": FM_TITLE, "slug": "hostile-front-matter", "date": "2026-11-24T10:00:00+00:00",
    "summary": FM_SUMMARY, "authors": [FM_AUTHOR], "section": "politics",
    "tags": [FM_TAG, "Libya"], "dateline": FM_DATELINE,
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project with the hostile seed and article, built through the CLI (with search)."""
    root = copy_project(tmp_path_factory.mktemp("hostile") / "site")
    (root / "seeds" / "900_0123456789abcdef.txt").write_text(SEED, encoding="utf-8")
    article = root / "content" / "articles" / "hostile-front-matter.md"
    article.write_text("---\n" + yaml.safe_dump(FRONT_MATTER, allow_unicode=True)
                       + "---\n\nA plain body about Libya.\n", encoding="utf-8")
    result = run_cli(root, "build")
    assert result.returncode == 0, result.stdout + result.stderr
    return root


@pytest.fixture(scope="module")
def hostile_url(hostile: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_under_prefix(hostile / "public", "news", tmp_path_factory.mktemp("www")) as url:
        yield url


def seed_page(public: Path) -> Path:
    [page] = [p for p in public.glob("*/*/*/index.html") if "/hostile-title" in p.as_posix()]
    return page


def html_files(public: Path) -> list[Path]:
    return sorted(public.rglob("*.html"))


# --- every page, parsed ------------------------------------------------------------------------


def test_no_page_carries_live_markup_from_the_text(hostile: Path) -> None:
    for path in html_files(hostile / "public"):
        doc = parse(path.read_text(encoding="utf-8"))
        for element in doc.iter():
            where = f"{path.relative_to(hostile)}:{element.line} <{element.tag}>"
            assert not [a for a in element.attrs if a.startswith("on")], where
            for name in ("href", "src", "action", "formaction"):
                assert not (element.get(name) or "").strip().lower().startswith("javascript:"), where
            assert element.tag != "iframe", where
            if element.tag == "script":
                # Only the site's own scripts: JSON-LD data and the search module.
                assert element.get("type") == "application/ld+json" or (
                    element.get("type") == "module" and "search" in (element.get("src") or "")
                ), where
            if element.tag == "img":
                assert element.get("src") != "x", where


def test_the_article_shows_the_seed_text_literally(hostile: Path) -> None:
    doc = parse(seed_page(hostile / "public").read_text(encoding="utf-8"))
    assert doc.one("h1").text() == HEADLINE
    text = doc.one("main").text()
    for part in (STANDFIRST, *PARAGRAPHS):
        assert part in text
    assert doc.one("title").text().startswith(HEADLINE)
    for selector in ({"property": "og:title"}, {"name": "twitter:title"}):
        [meta] = doc.find_all("meta", **selector)
        assert meta.get("content") == HEADLINE
    [description] = doc.find_all("meta", name="description")
    assert description.get("content") == STANDFIRST


def test_json_ld_parses_back_to_the_headline(hostile: Path) -> None:
    doc = parse(seed_page(hostile / "public").read_text(encoding="utf-8"))
    [block] = doc.find_all("script", type="application/ld+json")
    data = json.loads(block.raw_text())
    assert data["headline"] == HEADLINE
    assert data["description"] == STANDFIRST
    assert "</" not in block.raw_text()


def test_front_matter_text_is_shown_literally(hostile: Path) -> None:
    public = hostile / "public"
    [page] = public.glob("*/*/hostile-front-matter/index.html")
    doc = parse(page.read_text(encoding="utf-8"))
    assert doc.one("h1").text() == FM_TITLE
    text = doc.one("main").text()
    for part in (FM_AUTHOR, FM_TAG, FM_DATELINE):
        assert part in text
    [block] = doc.find_all("script", type="application/ld+json")
    data = json.loads(block.raw_text())
    assert (data["headline"], data["description"]) == (FM_TITLE, FM_SUMMARY)
    assert data["author"][0]["name"] == FM_AUTHOR and FM_TAG in data["keywords"]


# --- feeds and sitemaps stay well-formed -------------------------------------------------------


def shown_text(detail: Any, value: str) -> str:
    """What a feed reader shows for a feed text construct: HTML must hold no elements."""
    if detail.type in ("text/html", "application/xhtml+xml"):
        doc = parse(value)
        assert [e.tag for e in doc.iter()] == [], f"live markup in a feed: {value!r}"
        return doc.raw_text()
    return value


@pytest.mark.parametrize("name", ["feed.xml", "atom.xml", "section/politics/feed.xml"])
def test_feeds_stay_well_formed_and_show_the_text(hostile: Path, name: str) -> None:
    feed = feedparser.parse((hostile / "public" / name).read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    entries = {shown_text(e.title_detail, e.title): e for e in feed.entries}
    assert HEADLINE in entries and FM_TITLE in entries
    # RSS <description> is HTML by definition: plain text must arrive escaped for a reader.
    for title, summary in ((HEADLINE, STANDFIRST), (FM_TITLE, FM_SUMMARY)):
        entry = entries[title]
        assert shown_text(entry.summary_detail, entry.summary) == summary


def test_json_feed_keeps_the_text(hostile: Path) -> None:
    feed = json.loads((hostile / "public" / "feed.json").read_text(encoding="utf-8"))
    items = {item["title"]: item for item in feed["items"]}
    assert HEADLINE in items and FM_TITLE in items
    assert items[FM_TITLE]["summary"] == FM_SUMMARY


def test_sitemaps_stay_well_formed(hostile: Path) -> None:
    public = hostile / "public"
    ET.parse(public / "sitemap.xml")  # raises on malformed XML
    news = ET.parse(public / "news-sitemap.xml")
    titles = [element.text for element in news.iter()
              if element.tag.endswith("}title")]
    assert HEADLINE in titles and FM_TITLE in titles


# --- in the browser ----------------------------------------------------------------------------


def _pages(public: Path) -> dict[str, tuple[str, tuple[str, ...]]]:
    """page name -> (path under the site, texts the page must show literally)."""
    article = seed_page(public).parent.relative_to(public).as_posix()
    [front_matter] = public.glob("*/*/hostile-front-matter/index.html")
    return {
        "seed-article": (f"{article}/", (HEADLINE, STANDFIRST, *PARAGRAPHS)),
        "front-matter-article": (f"{front_matter.parent.relative_to(public).as_posix()}/",
                                 (FM_TITLE, FM_AUTHOR, FM_TAG, FM_DATELINE)),
        "front-page": ("", (HEADLINE, FM_TITLE)),
        "tag-page": (f"tags/{slugify(FM_TAG)}/", (FM_TAG, FM_TITLE)),
        "author-page": (f"authors/{slugify(FM_AUTHOR)}/", (FM_AUTHOR, FM_TITLE)),
        "section-page": ("section/politics/", (HEADLINE, FM_TITLE)),
    }


PAGES = ["seed-article", "front-matter-article", "front-page", "tag-page", "author-page",
         "section-page"]


def _open(page: Any, url: str) -> list[str]:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == 200, url
    return dialogs


def _assert_nothing_ran(page: Any, dialogs: list[str]) -> None:
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert dialogs == []
    # Nothing from the text became an element the browser would act on.
    assert page.evaluate("""() => [...document.querySelectorAll('*')].filter(e =>
        [...e.attributes].some(a => a.name.startsWith('on')
            || /^\\s*javascript:/i.test(a.value))).length""") == 0


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
@pytest.mark.parametrize("name", PAGES)
def test_hostile_text_never_runs_and_shows_literally(
        hostile: Path, hostile_url: str, page: Any, name: str) -> None:
    path, texts = _pages(hostile / "public")[name]
    dialogs = _open(page, hostile_url + path)
    _assert_nothing_ran(page, dialogs)
    # Case-blind: CSS may show some labels (the dateline) in capitals.
    shown = " ".join(page.inner_text("body").split()).casefold()
    for text in texts:
        assert text.casefold() in shown, (name, text)
    if name.endswith("article"):
        ld = page.evaluate("""() => JSON.parse(
            document.querySelector('script[type="application/ld+json"]').textContent)""")
        assert ld["headline"] == (HEADLINE if name == "seed-article" else FM_TITLE)
        assert page.title().startswith(ld["headline"])


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_search_results_show_hostile_text_literally(hostile_url: str, page: Any) -> None:
    # Result titles and Pagefind's excerpts go into the page from JavaScript.
    dialogs = _open(page, hostile_url + "search/?q=pwned")
    page.wait_for_selector("#search-results li", timeout=20_000)
    _assert_nothing_ran(page, dialogs)
    results = " ".join(page.inner_text("#search-results").split())
    assert HEADLINE in results and FM_TITLE in results
    assert "pwned" in page.inner_text("#search-status")
