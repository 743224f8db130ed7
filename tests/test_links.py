"""Crawl built sites over real HTTP under the /news/ sub-path, as GitHub Pages would serve them.

From the front page, follow every <a href>, <link href>, <img src>, <script src>, form action and
CSS url(): every internal URL must answer 200 and stay under /news/, every #fragment must name an
element of its page, and every HTML page of public/ must be reachable (404.html aside).
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from conftest import serve_under_prefix
from htmlutil import parse, urls
from sitefactory import BASE_URL, build, corpus, write_project

CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")


@dataclass
class Crawl:
    start: str
    pages: dict[str, bytes] = field(default_factory=dict)  # HTML pages fetched: url -> body
    fetched: set[str] = field(default_factory=set)
    broken: list[str] = field(default_factory=list)  # "status url (linked from page)"
    outside: list[str] = field(default_factory=list)  # internal links escaping /news/
    external: list[str] = field(default_factory=list)
    fragments: list[tuple[str, str, str]] = field(default_factory=list)  # (page, target, id)

    def missing_fragments(self) -> list[str]:
        missing = []
        for source, target, fragment in self.fragments:
            body = self.pages.get(target)
            ids = set() if body is None else {
                e.get("id") for e in parse(body.decode("utf-8")).iter() if e.get("id")}
            if fragment not in ids:
                missing.append(f"{target}#{fragment} (linked from {source})")
        return missing


def fetch(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers.get_content_type(), response.read()
    except urllib.error.HTTPError as err:
        err.close()
        return err.code, "", b""


def references(url: str, content_type: str, body: bytes) -> Iterator[str]:
    if content_type == "text/html":
        yield from urls(parse(body.decode("utf-8")))
    elif content_type == "text/css":
        yield from CSS_URL.findall(body.decode("utf-8"))


def crawl(start: str, base_url: str = BASE_URL) -> Crawl:
    """Breadth-first over every internal URL reachable from `start` (served under /news/)."""
    result = Crawl(start)
    prefix = urlsplit(start).path
    queue = [(start, "(start)")]
    while queue:
        url, source = queue.pop(0)
        if url in result.fetched:
            continue
        result.fetched.add(url)
        status, content_type, body = fetch(url)
        if status != 200:
            result.broken.append(f"{status} {url} (linked from {source})")
            continue
        if content_type == "text/html":
            result.pages[url] = body
        for reference in references(url, content_type, body):
            if reference.startswith(("mailto:", "tel:", "data:", "javascript:")):
                continue
            absolute = urljoin(url, reference)
            if absolute.startswith(base_url):  # the canonical host maps onto this server
                absolute = start + absolute[len(base_url):]
            target, fragment = urldefrag(absolute)
            if urlsplit(target).netloc != urlsplit(start).netloc:
                result.external.append(f"{reference} (on {url})")
                continue
            if not urlsplit(target).path.startswith(prefix):
                result.outside.append(f"{reference} (on {url})")
                continue
            if fragment and content_type == "text/html":
                result.fragments.append((url, target, fragment))
            queue.append((target, url))
    return result


def html_pages(public: Path) -> set[str]:
    """Site-relative URLs of every HTML page in public/ except 404.html."""
    pages = set()
    for path in public.rglob("*.html"):
        relative = path.relative_to(public).as_posix()
        if relative != "404.html":
            pages.add(relative.removesuffix("index.html"))
    return pages


def check(result: Crawl, public: Path) -> None:
    assert result.broken == []
    assert result.outside == []
    assert result.external == []
    assert result.missing_fragments() == []
    reached = {url[len(result.start):] for url in result.pages}
    assert html_pages(public) - reached == set(), "pages no link leads to"


def test_crawl_of_the_session_site_finds_no_broken_link(site_url: str, built_site: Path) -> None:
    result = crawl(site_url)
    check(result, built_site / "public")
    assert len(result.pages) >= 6
    assert any(url.endswith(".css") for url in result.fetched)
    assert any(url.endswith("/feed.xml") for url in result.fetched)


@pytest.fixture(scope="module")
def news_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The 25-article site built and served under /news/."""
    folder = tmp_path_factory.mktemp("links")
    public = build(write_project(folder / "site", corpus()))
    with serve_under_prefix(public, "news", folder / "www") as url:
        yield url, public


def test_crawl_of_a_25_article_site_finds_no_broken_link(news_url: tuple[str, Path]) -> None:
    url, public = news_url
    result = crawl(url)
    check(result, public)
    assert len(result.pages) >= 25 + 3 + 5 + 2  # articles, front pages, sections, indexes
    assert any("/page/3/" in page for page in result.pages)


def test_404_page_links_work_from_any_depth(news_url: tuple[str, Path]) -> None:
    # GitHub Pages answers a missing deep URL with 404.html's bytes at that URL.
    url, public = news_url
    assert fetch(url + "no/such/page/")[0] == 404
    deep = url + "2016/04/gone/"
    doc = parse((public / "404.html").read_text(encoding="utf-8"))
    refs = [ref.replace(BASE_URL, url, 1) for ref in urls(doc) if not ref.startswith("#")]
    targets = {urldefrag(urljoin(deep, ref))[0] for ref in refs}
    assert targets
    for target in sorted(targets):
        assert target.startswith(url), target
        assert fetch(target)[0] == 200, target


def test_crawler_reports_a_broken_link(tmp_path: Path) -> None:
    # The crawler itself must be able to fail: a page with a dead link and a link out of /news/.
    public = tmp_path / "public"
    public.mkdir()
    (public / "index.html").write_text(
        '<!DOCTYPE html><title>x</title><a href="missing/">a</a><a href="/elsewhere/">b</a>'
        '<a href="#nowhere">c</a>', encoding="utf-8")
    with serve_under_prefix(public, "news", tmp_path / "www") as url:
        result = crawl(url)
    assert [b.split()[0] for b in result.broken] == ["404"]
    assert result.outside == ["/elsewhere/ (on " + url + ")"]
    assert result.missing_fragments() == [f"{url}#nowhere (linked from {url})"]
