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
from hypothesis import given, settings
from hypothesis import strategies as st
from sitefactory import BASE_URL, corpus, url_of, write_project

from generator import search
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


def offers_search(public: Path) -> dict[str, bool]:
    """Whether the front page has a search box, and the search page its form and script."""
    front = parse((public / "index.html").read_text(encoding="utf-8"))
    page = parse((public / "search" / "index.html").read_text(encoding="utf-8"))
    return {"masthead": front.find("form", role="search") is not None,
            "form": page.find("form", id="search-form") is not None,
            "script": page.find("script", type="module") is not None}


def test_no_search_pages_offer_no_search_and_keep_the_last_index(project: Path) -> None:
    assert run_cli(project, "build").returncode == 0
    public = project / "public"
    before = bundle(public)
    assert offers_search(public) == {"masthead": True, "form": True, "script": True}
    result = run_cli(project, "build", "--no-search")
    assert result.returncode == 0, result.stderr
    # A search box would lead to an index this build did not make: no page offers one.
    assert offers_search(public) == {"masthead": False, "form": False, "script": False}
    search = parse((public / "search" / "index.html").read_text(encoding="utf-8"))
    assert "Search is turned off" in search.one("p", class_="notice").text()
    assert bundle(public) == before  # kept for the next build with search to reuse
    assert run_cli(project, "build").returncode == 0
    assert offers_search(public) == {"masthead": True, "form": True, "script": True}
    assert bundle(public) == before


def turn_search_off(project: Path) -> None:
    config = project / "site.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('output = "public"', 'output = "public"\nsearch = false'),
                      encoding="utf-8")


def test_turning_search_off_in_site_toml_removes_the_last_index(project: Path) -> None:
    assert run_cli(project, "build").returncode == 0
    public = project / "public"
    assert (public / "pagefind" / "pagefind.js").is_file()
    turn_search_off(project)
    result = run_cli(project, "build")
    assert result.returncode == 0, result.stderr
    assert not (public / "pagefind").exists()
    assert offers_search(public) == {"masthead": False, "form": False, "script": False}


def test_search_false_in_site_toml_removes_search_from_the_site(project: Path) -> None:
    turn_search_off(project)
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
    # Pagefind failed: the pages offer search (they were rendered first) but have no index.
    # (A --no-search build offers none: test_no_search_pages_offer_no_search...)
    assert run_cli(root, "build", env={"PAGEFIND_BINARY_PATH": "/bin/false"}).returncode == 0
    assert not (root / "public" / "pagefind").exists()
    try:
        with serve_under_prefix(root / "public", "news", tmp_path / "www") as url:
            page.goto(url + "search/?q=Dunford")
            page.wait_for_function(
                "document.querySelector('#search-status').textContent.includes('not available')")
            assert results(page) == []
    finally:
        shutil.rmtree(tmp_path / "www", ignore_errors=True)


# --- what each index run costs: the glob and the reused fragments -----------------------------

REAL_RUN = search._run  # before any test replaces it with a spy


def clean_index(public: Path, scratch: Path) -> dict[str, bytes]:
    """The bundle Pagefind makes from nothing, over the whole site (its default glob)."""
    binary = pagefind_binary()
    assert binary is not None
    out = scratch / "clean"
    shutil.rmtree(out, ignore_errors=True)
    assert REAL_RUN(binary, public, out) == ""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file()}


def indexed_now(public: Path, cache: Path, spied: list[list[str]]) -> dict[str, bytes]:
    """search_outputs over `public`, as an in-place build calls it; the bundle it yields,
    which then replaces public/pagefind (as the build's writer would)."""
    diagnostics: list[Any] = []
    found = {o.path.removeprefix("pagefind/"): o.data
             for o in search.search_outputs(public, diagnostics, cache_dir=cache)}
    assert diagnostics == []
    assert not (public.parent / ".public.search").exists()  # its work folder is gone
    shutil.rmtree(public / "pagefind")
    for name, data in found.items():
        (public / "pagefind" / name).parent.mkdir(parents=True, exist_ok=True)
        (public / "pagefind" / name).write_bytes(data)
    return found


@pytest.fixture
def spied_runs(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The fragment files already in Pagefind's output folder at each run (the reused ones)."""
    runs: list[list[str]] = []
    monkeypatch.setattr(search, "_run", spied_runs_wrapper(runs))
    return runs


def test_an_edit_reuses_the_fragments_of_unchanged_pages_and_equals_a_clean_index(
        tmp_path: Path, spied_runs: list[list[str]]) -> None:
    root = write_project(tmp_path / "site", corpus(12))
    assert run_cli(root, "build").returncode == 0
    public, cache = root / "public", root / ".cache"
    assert bundle(public) == clean_index(public, tmp_path)
    manifest = json.loads((cache / search.MANIFEST_NAME).read_bytes())
    assert len(manifest["pages"]) == 13 == len(body_pages(public))  # 12 articles and about
    # Through the command line: an edited body, then the bundle is the one a clean run makes.
    edited = root / "content" / "articles" / "story-03.md"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nQuokkas were seen.\n", "utf-8")
    assert run_cli(root, "build").returncode == 0
    assert bundle(public) == clean_index(public, tmp_path)
    assert "Quokkas" in fragments(public)["/" + url_of(corpus(12)[3]).removeprefix(BASE_URL)]
    # In this process, to see what Pagefind is handed: nothing changed, so the previous index
    # is the index, and Pagefind does not run.
    assert indexed_now(public, cache, spied_runs) == clean_index(public, tmp_path)
    assert spied_runs == []
    # One page's HTML changed: its fragment is made again, the other 12 are reused.
    page = next(public.glob("20*/*/story-05/index.html"))
    page.write_text(page.read_text(encoding="utf-8").replace("Body of story 05.", "Wombats."),
                    encoding="utf-8")
    spied_runs.clear()
    assert indexed_now(public, cache, spied_runs) == clean_index(public, tmp_path)
    assert len(spied_runs) == 1 and len(spied_runs[0]) == 12


def test_a_new_stylesheet_keeps_the_index_and_equals_a_clean_one(
        tmp_path: Path, spied_runs: list[list[str]]) -> None:
    """Every page links the stylesheet by its fingerprint; Pagefind never reads a head's <link>,
    so a CSS edit keeps the whole index (it made one from nothing before: 32 s at 10,000)."""
    root = write_project(tmp_path / "site", corpus(6))
    assert run_cli(root, "build").returncode == 0
    public, cache = root / "public", root / ".cache"
    page = next(public.glob("20*/*/story-02/index.html"))
    before = page.read_text(encoding="utf-8")
    style = root / "layouts" / "static" / "style.css"
    style.write_text(style.read_text(encoding="utf-8") + "\n.kicker { letter-spacing: 1px; }\n",
                     encoding="utf-8")
    assert run_cli(root, "build").returncode == 0
    after = page.read_text(encoding="utf-8")
    old_css, new_css = (re.search(r'href="([^"]*style\.[0-9a-f]+\.css)"', text)[1]  # type: ignore[index]
                        for text in (before, after))
    assert old_css != new_css and after == before.replace(old_css, new_css)
    assert bundle(public) == clean_index(public, tmp_path)
    # In this process, to see what Pagefind is handed: another fingerprint again, and
    # Pagefind does not run at all.
    pages = sorted(public.rglob("*.html"))
    for path in pages:
        path.write_text(path.read_text(encoding="utf-8").replace(new_css, "/news/static/x.css"),
                        encoding="utf-8")
    assert indexed_now(public, cache, spied_runs) == clean_index(public, tmp_path)
    assert spied_runs == []
    # What Pagefind does read in a head makes the page's fragment again: its title (the
    # fallback for a page without an h1), or a <link> carrying data-pagefind-* attributes.
    head_edits = [("<title>", "<title>Renamed "),
                  ("<link rel=\"canonical\"", "<link data-pagefind-meta=\"x:y\" rel=\"canonical\"")]
    for old, new in head_edits:
        text = page.read_text(encoding="utf-8")
        assert old in text
        page.write_text(text.replace(old, new, 1), encoding="utf-8")
        spied_runs.clear()
        assert indexed_now(public, cache, spied_runs) == clean_index(public, tmp_path)
        assert len(spied_runs) == 1 and len(spied_runs[0]) == len(body_pages(public)) - 1


def test_the_search_digest_ignores_only_head_links_pagefind_never_reads() -> None:
    page = (b'<!DOCTYPE html><html lang="en"><head><title>T &lt;link&gt; <link a></title>'
            b'<link rel="stylesheet" href="/s.1.css"><LINK REL=icon HREF=/i.1.svg>'
            b'</head><body data-pagefind-body><link href="/b.1.css"><p>Text</p></body></html>')
    digest = search.search_digest
    same = page.replace(b"/s.1.css", b"/s.2.css").replace(b"/i.1.svg", b"/i.2.svg")
    assert digest(same) == digest(page) != digest(page.replace(b"Text", b"Other"))
    for changed in (page.replace(b"<link a>", b"<link b>"),  # inside the title: its text
                    page.replace(b'href="/s.1.css"', b'href="/_pagefind/s.css"'),
                    page.replace(b'rel="stylesheet"', b'data-pagefind-filter="x:y"'),
                    page.replace(b"/b.1.css", b"/b.2.css"),  # in the body
                    page.replace(b"<body", b"<body class=x")):
        assert digest(changed) != digest(page)
    assert digest(b"<p>no body tag <link x></p>") != digest(b"<p>no body tag <link y></p>")
    # Heads a regex cannot read (found in review; each pair indexes differently in Pagefind
    # 1.5.2) are hashed whole: a <link> inside an attribute value, in the <html> tag, one whose
    # removal would open a comment, and an unclosed title.
    body = b"<body data-pagefind-body><p>Text</p></body>"
    for head in (b'<head><meta data-pagefind-meta="summary[content]" content="see <link rel=a>">',
                 b'<html data-x="<link rel=a " lang="en"><head>',
                 b'<head><!-<link rel=a>- <meta data-pagefind-meta="author:Zed"> -->',
                 b"<head><title>Unclosed <link rel=a>"):
        assert digest(head + body) != digest(head.replace(b"rel=a", b"rel=b") + body), head


def test_a_name_collision_or_an_untrusted_manifest_means_an_index_from_nothing(
        tmp_path: Path, spied_runs: list[list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_project(tmp_path / "site", corpus(6))
    assert run_cli(root, "build").returncode == 0
    public, cache = root / "public", root / ".cache"
    expected = clean_index(public, tmp_path)
    manifest = cache / search.MANIFEST_NAME
    recorded = json.loads(manifest.read_bytes())
    page = next(public.glob("20*/*/story-05/index.html"))
    page.write_text(page.read_text(encoding="utf-8").replace("Body of story 05.", "Emus."),
                    encoding="utf-8")
    expected = clean_index(public, tmp_path)
    # A suspect run (simulated: see test_suspect_runs) is discarded and redone from nothing.
    monkeypatch.setattr(search, "_suspect", lambda bundle, reused: True)
    assert indexed_now(public, cache, spied_runs) == expected
    assert [len(run) for run in spied_runs] == [6, 0]
    monkeypatch.undo()
    monkeypatch.setattr(search, "_run", spied_runs_wrapper(spied_runs))
    manifest.write_text(json.dumps(recorded), encoding="utf-8")
    for damage in (b"not json", json.dumps({**recorded, "meta": "pagefind.other.pf_meta"}).encode(),
                   json.dumps({**recorded, "version": "0.0.1"}).encode(),
                   json.dumps({**recorded, "pages": {"/x/": ["0", "../../x.pf_fragment"]}}).encode()):
        manifest.write_bytes(damage)
        spied_runs.clear()
        assert indexed_now(public, cache, spied_runs) == expected
        assert spied_runs == [[]]  # nothing reused
        assert json.loads(manifest.read_bytes())["meta"] != recorded["meta"]  # a new manifest
    current = json.loads(manifest.read_bytes())
    # A page whose recorded HTML hash differs (edited while search was off): not reused.
    url = sorted(current["pages"])[0]
    stale = {**current, "pages": {**current["pages"], url: ["0" * 40, current["pages"][url][1]]}}
    manifest.write_text(json.dumps(stale), encoding="utf-8")
    spied_runs.clear()
    assert indexed_now(public, cache, spied_runs) == expected
    assert len(spied_runs) == 1 and len(spied_runs[0]) == 6
    assert current["pages"][url][1] not in spied_runs[0]
    # A reused file that no page names any more (as when Pagefind's settings changed what a
    # fragment holds): more fragment files than pages, so the run is redone from nothing.
    current = json.loads(manifest.read_bytes())
    url = sorted(current["pages"])[1]
    planted = public / "pagefind" / "fragment" / "en_0000000.pf_fragment"
    planted.write_bytes(gzip.compress(b'pagefind_dcd{"url":"/elsewhere/"}'))
    stale = {**current, "pages": {**current["pages"],
                                  url: [current["pages"][url][0], planted.name]}}
    manifest.write_text(json.dumps(stale), encoding="utf-8")
    page = next(public.glob("20*/*/story-04/index.html"))  # so that Pagefind runs
    page.write_text(page.read_text(encoding="utf-8").replace("Body of story 04.", "Kiwis."),
                    encoding="utf-8")
    expected = clean_index(public, tmp_path)
    spied_runs.clear()
    assert indexed_now(public, cache, spied_runs) == expected
    assert [len(run) for run in spied_runs] == [6, 0] and planted.name in spied_runs[0]


def _fake_bundle(folder: Path, names: list[str], pages: int, version: str = "1.5.2") -> Path:
    (folder / "fragment").mkdir(parents=True)
    for name in names:
        (folder / "fragment" / f"{name}.pf_fragment").write_bytes(b"")
    (folder / "pagefind-entry.json").write_text(json.dumps(
        {"version": version, "languages": {"en": {"hash": "h", "page_count": pages}}}))
    return folder


def test_suspect_runs(tmp_path: Path) -> None:
    """A run handed reused fragments is redone when a reused name is the prefix of a new one,
    when a reused file is left over, or when Pagefind's version changed; not for a collision
    both of whose files were reused (Pagefind itself made that pair, the run before)."""
    reused = search.Reused({"/a/": "en_abcdef1.pf_fragment", "/b/": "en_abcdef12.pf_fragment"})
    reused.version = "1.5.2"
    names = ["en_abcdef1", "en_abcdef12", "en_1234567"]
    assert not search._suspect(_fake_bundle(tmp_path / "a", names, 3), reused)
    assert search._suspect(_fake_bundle(tmp_path / "b", names, 2), reused)  # a leftover
    assert search._suspect(_fake_bundle(tmp_path / "c", names, 3, "1.6.0"), reused)
    only_short = search.Reused({"/a/": "en_abcdef1.pf_fragment"})
    only_short.version = "1.5.2"
    assert search._suspect(_fake_bundle(tmp_path / "d", names, 3), only_short)
    only_long = search.Reused({"/b/": "en_abcdef12.pf_fragment"})
    only_long.version = "1.5.2"
    assert not search._suspect(_fake_bundle(tmp_path / "e", names, 3), only_long)


def test_a_page_only_mentioning_the_body_attribute_does_not_narrow_the_index(
        tmp_path: Path) -> None:
    root = write_project(tmp_path / "site", corpus(4))
    for layout in ("article.html", "page.html"):
        path = root / "layouts" / layout
        text = path.read_text(encoding="utf-8")
        assert " data-pagefind-body" in text
        path.write_text(text.replace(" data-pagefind-body", ""), encoding="utf-8")
    about = root / "content" / "pages" / "about.md"
    about.write_text(about.read_text(encoding="utf-8")
                     + "\nTo limit indexing, add `data-pagefind-body` to an element.\n", "utf-8")
    assert run_cli(root, "build").returncode == 0
    public = root / "public"
    assert bundle(public) == clean_index(public, tmp_path)
    assert indexed_pages(public / "pagefind") == len(list(public.rglob("*.html"))) > 4


def test_an_edit_made_while_search_was_off_reaches_the_index_of_a_clean_build(
        tmp_path: Path) -> None:
    root = write_project(tmp_path / "site", corpus(6))
    assert run_cli(root, "build").returncode == 0
    edited = root / "content" / "articles" / "story-02.md"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nPangolins arrived.\n", "utf-8")
    assert run_cli(root, "build", "--no-search").returncode == 0
    for args in (("--clean",), ()):
        assert run_cli(root, "build", *args).returncode == 0
        public = root / "public"
        assert bundle(public) == clean_index(public, tmp_path)
        assert any("Pangolins" in text for text in fragments(public).values())


def spied_runs_wrapper(runs: list[list[str]]) -> Any:
    real = REAL_RUN

    def spy(binary: Path, site_dir: Path, bundle: Path, glob: str | None = None) -> str:
        folder = bundle / "fragment"
        runs.append(sorted(p.name for p in folder.iterdir()) if folder.is_dir() else [])
        return real(binary, site_dir, bundle, glob)

    return spy


_SEGMENT = st.sampled_from(["2024", "05", "a", "b", "tags", "x", "index.html", "page.html",
                            "(news)", "a,b"])


@settings(max_examples=200, deadline=None)
@given(paths=st.sets(st.lists(_SEGMENT, min_size=1, max_size=4).map("/".join)
                     .filter(lambda p: p.endswith(".html")), min_size=1, max_size=30),
       data=st.data())
def test_the_glob_names_exactly_the_pages_to_index(paths: set[str], data: Any) -> None:
    html = sorted(paths)
    wanted = data.draw(st.sets(st.sampled_from(html), min_size=1))
    glob = search.html_glob(wanted, html)
    patterns = glob[1:-1].split(",") if glob.startswith("{") else [glob]

    def matches(path: str) -> bool:  # the two shapes html_glob writes, as Pagefind reads them
        return any(path == p or (p.endswith("/**/*.html") and p != "**/*.html"
                                 and path.startswith(p.removesuffix("**/*.html")))
                   or p == "**/*.html" for p in patterns)

    if glob != "**/*.html":
        assert {p for p in html if matches(p)} == wanted
        assert not any(c in glob for c in "(),"[:2]) and "a,b" not in glob
    else:  # everything is wanted, or a path holds a character a glob would not take literally
        assert wanted == set(html) or any("(" in p or "," in p for p in html)
