"""Site search: a Pagefind index built with the site over the staging folder, only article and page
bodies indexed, byte-identical across builds, kept current by incremental builds, switched off by
--no-search or `search = false`, skipped with a warning when the binary is missing or fails, and a
search page that works in a browser under the /news/ sub-path (and still makes sense without JS).
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import copy_project, run_cli, serve_under_prefix
from htmlutil import parse

from generator.search import indexed_pages, pagefind_binary

HEADLINE = "We will soon decide whether to Deploy American Troops in Libya"


def fragments(public: Path) -> dict[str, str]:
    """Indexed page URL (site-relative, without the base path) -> its indexed text."""
    found = {}
    for path in (public / "pagefind" / "fragment").iterdir():
        data = gzip.decompress(path.read_bytes())
        record = json.loads(data[data.index(b"{"):])
        found[record["url"]] = record["content"]
    return found


def body_pages(public: Path) -> set[str]:
    """URLs of the pages that mark a body for indexing (articles and pages)."""
    urls = set()
    for path in public.rglob("*.html"):
        if "data-pagefind-body" in path.read_text(encoding="utf-8"):
            urls.add("/" + path.parent.relative_to(public).as_posix() + "/")
    return urls


def sample_article_url(public: Path) -> str:
    pages = sorted(public.glob("20*/*/*/index.html"))
    assert pages, "the sample site has no article page"
    return "/" + pages[0].parent.relative_to(public).as_posix() + "/"


def bundle(public: Path) -> dict[str, bytes]:
    folder = public / "pagefind"
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_pagefind_binary_is_installed() -> None:
    binary = pagefind_binary()
    assert binary is not None and binary.is_file()


def test_only_article_and_page_bodies_are_indexed(built_site: Path) -> None:
    public = built_site / "public"
    indexed = fragments(public)
    article = sample_article_url(public)
    assert set(indexed) == body_pages(public) == {article, "/about/"}
    assert indexed[article].startswith(f"{HEADLINE}. According to")  # no kicker, no meta line
    assert "Dunford" in indexed[article]
    assert "min read" not in indexed[article]  # the meta line is left out of the index
    assert indexed_pages(public / "pagefind") == 2


def test_search_page_works_as_a_plain_form_without_javascript(built_site: Path) -> None:
    doc = parse((built_site / "public" / "search" / "index.html").read_text(encoding="utf-8"))
    form = doc.one("form", id="search-form")
    assert form.get("action") == "/news/search/" and form.get("method") == "get"
    assert form.get("data-pagefind") == "/news/pagefind/pagefind.js"
    assert doc.one("input", id="search-q").get("name") == "q"
    labels = [label.text() for label in doc.find_all("label") if label.get("for") == "search-q"]
    assert labels == ["Search articles"]
    assert "needs JavaScript" in doc.one("noscript").text()
    hrefs = {a.get("href") for a in doc.one("section", class_="browse").find_all("a")}
    assert {"/news/tags/", "/news/authors/", "/news/archive/"} <= hrefs
    script = doc.one("script", type="module").get("src") or ""
    assert re.fullmatch(r"/news/static/search\.[0-9a-f]{8}\.js", script)
    assert (built_site / "public" / script.removeprefix("/news/")).is_file()
    assert (built_site / "public" / "pagefind" / "pagefind.js").is_file()


def test_pagefind_output_is_byte_identical_across_builds(built_site: Path, tmp_path: Path) -> None:
    again = copy_project(tmp_path / "elsewhere")
    result = run_cli(again, "build")
    assert result.returncode == 0, result.stderr
    first, second = bundle(built_site / "public"), bundle(again / "public")
    assert len(first) > 10 and first == second


def test_an_incremental_build_reindexes_and_drops_the_old_index_files(project: Path) -> None:
    assert run_cli(project, "build").returncode == 0
    public = project / "public"
    page = project / "content" / "pages" / "about.md"
    page.write_text(page.read_text(encoding="utf-8") + "\nZanzibarian ferries now sail.\n",
                    encoding="utf-8")
    result = run_cli(project, "build")
    assert result.returncode == 0, result.stderr
    indexed = fragments(public)
    assert "Zanzibarian" in indexed["/about/"]
    assert len(list((public / "pagefind" / "fragment").iterdir())) == len(indexed)
    entry = json.loads((public / "pagefind" / "pagefind-entry.json").read_bytes())
    index_files = {p.name for p in (public / "pagefind" / "index").iterdir()}
    meta_files = {p.name for p in (public / "pagefind").glob("pagefind.*.pf_meta")}
    assert meta_files == {f"pagefind.{entry['languages']['en']['hash']}.pf_meta"}
    assert len(index_files) >= 1


def test_no_search_flag_skips_the_index_quietly(project: Path) -> None:
    result = run_cli(project, "build", "--no-search")
    assert result.returncode == 0, result.stderr
    assert not (project / "public" / "pagefind").exists()
    assert "search" not in result.stderr
    assert (project / "public" / "search" / "index.html").is_file()  # the page degrades


def test_search_false_in_site_toml_removes_search_from_the_site(project: Path) -> None:
    config = project / "site.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('output = "public"', 'output = "public"\nsearch = false'),
                      encoding="utf-8")
    result = run_cli(project, "build")
    assert result.returncode == 0, result.stderr
    public = project / "public"
    assert not (public / "pagefind").exists()
    front = parse((public / "index.html").read_text(encoding="utf-8"))
    assert front.find("form", role="search") is None
    search = parse((public / "search" / "index.html").read_text(encoding="utf-8"))
    assert "Search is turned off" in search.one("p", class_="notice").text()
    assert search.find("script", type="module") is None


@pytest.mark.parametrize(("binary", "message"), [
    ("/nonexistent/pagefind", "search index skipped: the Pagefind binary was not found"),
    ("/bin/false", "search index skipped: Pagefind exited with status 1"),
])
def test_a_missing_or_failing_binary_is_a_warning_not_a_failure(
        project: Path, binary: str, message: str) -> None:
    result = run_cli(project, "build", env={"PAGEFIND_BINARY_PATH": binary})
    assert result.returncode == 0, result.stderr
    assert f"warning: {message}" in result.stderr
    assert "--no-search" in result.stderr  # the hint says how to silence it
    assert not (project / "public" / "pagefind").exists()
    assert (project / "public" / "index.html").is_file()


# --- in a browser, over HTTP under /news/ -------------------------------------------------------

def results(page: Any) -> list[tuple[str, str]]:
    links = page.locator("#search-results h2 a")
    return [(links.nth(i).get_attribute("href"), links.nth(i).inner_text())
            for i in range(links.count())]


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_typing_a_word_from_the_seed_finds_the_article(page: Any, site_url: str,
                                                      built_site: Path) -> None:
    article = "/news" + sample_article_url(built_site / "public")
    page.goto(site_url + "search/")
    page.fill("#search-q", "Dunford")
    page.wait_for_selector(f"#search-results a[href='{article}']", timeout=15000)
    assert results(page) == [(article, HEADLINE)]
    assert page.inner_text("#search-status") == "1 story matches “Dunford”."
    assert page.locator("#search-results mark").first.inner_text().startswith("Dunford")
    page.click(f"#search-results a[href='{article}']")
    page.wait_for_url("**" + article)
    assert page.inner_text("h1") == HEADLINE


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_the_masthead_form_submits_to_the_search_page_and_runs_the_query(
        page: Any, site_url: str) -> None:
    page.goto(site_url)
    page.fill("#masthead-q", "Libya")
    page.press("#masthead-q", "Enter")
    page.wait_for_url("**/news/search/?q=Libya")
    page.wait_for_selector("#search-results a", timeout=15000)
    assert page.input_value("#search-q") == "Libya"
    assert HEADLINE in [title for _, title in results(page)]
    page.fill("#search-q", "xylophonequartet")
    page.wait_for_function(
        "document.querySelector('#search-status').textContent.startsWith('No stories')")
    assert results(page) == []


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_without_javascript_the_search_page_points_elsewhere(browser: Any, site_url: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        tab = context.new_page()
        tab.goto(site_url + "search/?q=Dunford")
        assert "needs JavaScript" in tab.inner_text("main")
        assert tab.locator(".browse a[href='/news/archive/']").count() == 1
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_without_an_index_the_search_page_says_so(page: Any, tmp_path: Path) -> None:
    root = copy_project(tmp_path / "site")
    assert run_cli(root, "build", "--no-search").returncode == 0
    try:
        with serve_under_prefix(root / "public", "news", tmp_path / "www") as url:
            page.goto(url + "search/?q=Dunford")
            page.wait_for_function(
                "document.querySelector('#search-status').textContent.includes('not available')")
            assert results(page) == []
    finally:
        shutil.rmtree(tmp_path / "www", ignore_errors=True)
