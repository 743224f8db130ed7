"""The dev server in a real Chromium: saves show up in the open page without the test reloading.

One `newsgen serve --port 0` (a subprocess, in a throwaway copy of the project) serves the whole
module; each test edits sources on disk and waits for the browser to show the result.
"""

from __future__ import annotations

import os
import re
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import copy_project, run_cli
from test_serve import SERVE_ARGS, ServeProcess

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

SLUG = "we-will-soon-decide-whether-to-deploy-american-troops-in-libya"
WAIT_MS = 15_000  # generous: the CI machine may be busy; nothing asserts on time


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    root = copy_project(tmp_path_factory.mktemp("live") / "site")
    process = ServeProcess(root, "--port", "0", *SERVE_ARGS)
    yield process
    process.close()


def article_url(server: ServeProcess, slug: str = SLUG) -> str:
    [page] = (server.root / "public").glob(f"*/*/{slug}/index.html")
    return server.url + page.parent.relative_to(server.root / "public").as_posix() + "/"


def save_body(path: Path, body: str, *, atomic: bool = False) -> None:
    """Replace the Markdown body, keeping the front matter; `atomic` saves like vim (rename)."""
    text = path.read_text(encoding="utf-8")
    front = text[: text.index("\n---\n", 4) + 5]
    if atomic:
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(f"{front}\n{body}\n", encoding="utf-8")
        os.replace(temporary, path)
    else:
        path.write_text(f"{front}\n{body}\n", encoding="utf-8")


def body_text(page: Any) -> str:
    return str(page.evaluate("document.body ? document.body.innerText : ''"))


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as err:
        err.close()  # its connection (see test_bad_front_matter_shows_the_error...)
        return err.code


def test_editing_an_article_updates_the_open_page(server: ServeProcess, page: Any) -> None:
    from playwright.sync_api import expect

    page.goto(article_url(server))
    save_body(server.root / "content" / "articles" / f"{SLUG}.md",
              "Edited in the dev server test: **bold** marker-edit-1.")
    expect(page.locator("body")).to_contain_text("marker-edit-1", timeout=WAIT_MS)
    expect(page.locator("strong", has_text="bold")).to_have_count(1)


def test_an_edit_reloads_only_the_pages_it_changed(server: ServeProcess, page: Any) -> None:
    """The server names the changed pages (generator/reload.py): the edited article's tab
    reloads, a tab on a page the edit did not touch keeps its document."""
    from playwright.sync_api import expect

    other = page.context.new_page()
    other.goto(server.url + "search/")
    other.evaluate("window.__marker = 'untouched'")
    page.goto(article_url(server))
    page.evaluate("window.__marker = 'before the edit'")
    save_body(server.root / "content" / "articles" / f"{SLUG}.md",
              "Edited for the targeted reload test: marker-edit-2.")
    expect(page.locator("body")).to_contain_text("marker-edit-2", timeout=WAIT_MS)
    assert page.evaluate("window.__marker") is None  # reloaded: a new document
    page.evaluate("window.__marker = 'after the reload'")
    time.sleep(0.5)  # any reload message for the other tab arrived with the article's
    assert other.evaluate("window.__marker") == "untouched"
    # Announced early, the article's tab reloads once: the listings' message does not name it.
    # (A tab connecting after that message gets it replayed: test_serve.py checks that.)
    assert page.evaluate("window.__marker") == "after the reload"
    other.close()


def test_a_new_seed_appears_on_the_front_page(server: ServeProcess, page: Any) -> None:
    from playwright.sync_api import expect

    page.goto(server.url)
    assert "Seeded by the browser test" not in body_text(page)
    (server.root / "seeds" / "900_0123456789abcdef.txt").write_text(
        '"Seeded by the browser test"\n\nA standfirst for the new seed\n\n'
        "The first paragraph of a seed added while the server runs.\n\n"
        "The second paragraph.", encoding="utf-8")
    expect(page.locator("body")).to_contain_text("Seeded by the browser test", timeout=WAIT_MS)


def test_a_deleted_article_leaves_the_front_page_and_404s(server: ServeProcess,
                                                         page: Any) -> None:
    from playwright.sync_api import expect

    path = server.root / "content" / "articles" / "short-lived-story.md"
    path.write_text("---\ntitle: A short-lived story\ndate: 2026-11-20T10:00:00+00:00\n"
                    "summary: Here and gone\n---\n\nIt will be deleted.\n", encoding="utf-8")
    page.goto(server.url)
    expect(page.locator("body")).to_contain_text("A short-lived story", timeout=WAIT_MS)
    url = article_url(server, "short-lived-story")
    assert http_status(url) == 200
    path.unlink()
    expect(page.locator("body")).not_to_contain_text("A short-lived story", timeout=WAIT_MS)
    assert http_status(url) == 404


def test_a_css_edit_restyles_without_a_navigation(server: ServeProcess, page: Any) -> None:
    page.goto(article_url(server))
    page.evaluate("window.__marker = 1")
    old_href = page.locator('link[rel="stylesheet"]').first.get_attribute("href")
    style = server.root / "layouts" / "static" / "style.css"
    with style.open("a", encoding="utf-8") as handle:
        handle.write("\nbody { border-top: 5px solid rgb(1, 2, 3); }\n")
    page.wait_for_function("getComputedStyle(document.body).borderTopColor === 'rgb(1, 2, 3)'",
                           timeout=WAIT_MS)
    assert page.evaluate("window.__marker") == 1  # same document: no reload happened
    # The page still links the old fingerprint; the server answered it with the new file.
    new_href = page.locator('link[rel="stylesheet"]').first.get_attribute("href")
    assert urlsplit(new_href).path == old_href
    assert not list((server.root / "public" / "static").glob(Path(old_href).name))


def test_a_template_error_shows_in_the_browser_until_fixed(server: ServeProcess,
                                                          page: Any) -> None:
    from playwright.sync_api import expect

    template = server.root / "layouts" / "article.html"
    good = template.read_text(encoding="utf-8")
    page.goto(article_url(server))
    lines = good.splitlines(keepends=True)
    template.write_text("".join([lines[0], "<p>{% if %}</p>\n", *lines[1:]]), encoding="utf-8")
    try:
        error = page.locator("#newsgen-build-error")
        expect(error).to_contain_text("layouts/article.html:2", timeout=WAIT_MS)
        expect(error.locator("pre")).to_contain_text("<p>{% if %}</p>")  # escaped, as text
        assert "template syntax error" in error.inner_text()
        server.wait_for_text("layouts/article.html:2")  # the terminal says the same
    finally:  # the server is shared: a failure here must not fail the tests after it
        template.write_text(good, encoding="utf-8")
    expect(page.locator("h1").first).to_contain_text("Deploy American Troops", timeout=WAIT_MS)
    assert page.locator("#newsgen-build-error").count() == 0


def test_bad_front_matter_shows_the_error_and_keeps_the_last_site(server: ServeProcess) -> None:
    from htmlutil import parse

    broken = server.root / "content" / "articles" / "broken-story.md"
    broken.write_text("---\ntitle: Broken <story>\ndate: next tuesday\n---\n\nBody.\n",
                      encoding="utf-8")
    server.wait_idle(quiet=0.3)
    try:
        with pytest.raises(urllib.error.HTTPError) as failed:
            urllib.request.urlopen(server.url, timeout=10)
        with failed.value:  # its connection: left open, a ResourceWarning fails a later test
            page = parse(failed.value.read().decode())
        error = page.one("main", id="newsgen-build-error")
        assert "content/articles/broken-story.md:3" in error.text()
        assert "title: Broken <story>" in error.find("pre").raw_text()  # escaped, not markup
        assert page.find("story") is None
        assert any("livereload.js" in s.raw_text() for s in page.find_all("script"))
        stylesheet = next((server.root / "public" / "static").glob("style.*.css")).name
        assert http_status(f"{server.url}static/{stylesheet}") == 200  # the last good site
    finally:
        broken.unlink()
    server.wait_idle(quiet=0.3)
    assert http_status(server.url) == 200


def test_fifty_quick_saves_end_on_the_last_one(server: ServeProcess, page: Any) -> None:
    from playwright.sync_api import expect

    path = server.root / "content" / "articles" / f"{SLUG}.md"
    page.goto(article_url(server))
    gaps = (0.01, 0.04, 0.15, 0.02, 0.3, 0.005, 0.09, 0.06, 0.2, 0.03)  # half within 100 ms
    for burst in range(5):
        for step in range(10):
            number = burst * 10 + step
            save_body(path, f"Save number {number} of fifty: rapid-{number}-end.",
                      atomic=number % 2 == 1)
            time.sleep(gaps[step])
        last = f"rapid-{burst * 10 + 9}-end"
        expect(page.locator("body")).to_contain_text(last, timeout=WAIT_MS)
        server.wait_idle(quiet=0.3)
        shown = re.findall(r"rapid-(\d+)-end", body_text(page))
        assert shown == [str(burst * 10 + 9)]


def test_after_the_edits_the_output_equals_a_clean_build(server: ServeProcess,
                                                         tmp_path: Path) -> None:
    server.wait_idle()
    deadline = time.monotonic() + 60  # the search index is refreshed once saves pause
    while server.status()["search_pending"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.status()["search_pending"] is False
    server.wait_idle()
    clean = tmp_path / "clean"
    clean.mkdir()
    shutil.copy(server.root / "site.toml", clean / "site.toml")
    for folder in ("seeds", "content", "layouts"):
        shutil.copytree(server.root / folder, clean / folder)
    result = run_cli(clean, "build", *SERVE_ARGS)
    assert result.returncode == 0, result.stderr

    def files(public: Path) -> dict[str, bytes]:
        return {p.relative_to(public).as_posix(): p.read_bytes()
                for p in public.rglob("*") if p.is_file()}

    served, built = files(server.root / "public"), files(clean / "public")
    assert sorted(served) == sorted(built)
    assert [name for name in built if served[name] != built[name]] == []
    assert server.status()["failed"] is False

