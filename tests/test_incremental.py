"""The build cache and incremental rebuilds give exactly what a clean build gives.

Property-based: after any sequence of edits to content, templates, CSS and site.toml, the
output of (a) fresh CLI-style builders reading the on-disk cache and (b) one long-lived builder
taking the dev server's fast path is byte-identical to a clean build of the same sources.
"""

from __future__ import annotations

import gc
import os
import re
import shutil
import sqlite3
import time
import weakref
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import age, copy_project, run_cli
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from generator import cachekey, workers
from generator.build import Builder, BuildOptions
from generator.errors import GeneratorError
from generator.routes import FEED_FILES

NOW = datetime(2026, 7, 25, tzinfo=UTC)
OPTIONS = BuildOptions(ingest=False, search=False, now=NOW, jobs=1)
TAGS = ("Libya", "NATO", "Markets", "Climate")
SECTIONS = ("world", "politics", "business", "news")


def article(slug: str, day: int, *, title: str = "", tags: tuple[str, ...] = (),
            section: str = "news", body: str = "Body text.", draft: bool = False) -> str:
    date = (NOW - timedelta(days=day)).isoformat()
    tag_list = ", ".join(tags)
    return (f"---\ntitle: \"{title or slug.title()}\"\ndate: '{date}'\nsection: {section}\n"
            f"tags: [{tag_list}]\nauthors: [Ann Reporter]\nsummary: About {slug}\n"
            f"draft: {'true' if draft else 'false'}\n---\n\n{body}\n")


def make_site(root: Path, count: int = 6) -> Path:
    copy_project(root, seeds=False)
    # Small pages, so that edits move articles between the pages of paginated listings.
    config = root / "site.toml"
    write(config, config.read_text(encoding="utf-8").replace(
        "paginate = 10\narchive_paginate = 50\n", "paginate = 3\narchive_paginate = 2\n", 1))
    assert "archive_paginate = 2" in config.read_text(encoding="utf-8")
    shutil.rmtree(root / "content" / "articles")
    (root / "content" / "articles").mkdir()
    for i in range(count):
        write(root / "content" / "articles" / f"story-{i}.md",
              article(f"story-{i}", i * 3, tags=TAGS[i % 4: i % 4 + 2], section=SECTIONS[i % 4]))
    return root


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def snapshot(public: Path) -> dict[str, bytes]:
    return {p.relative_to(public).as_posix(): p.read_bytes()
            for p in sorted(public.rglob("*")) if p.is_file()}


def clean_build_of(root: Path, scratch: Path) -> dict[str, bytes]:
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(root, scratch, ignore=shutil.ignore_patterns("public", ".cache", ".public*"))
    Builder(scratch, BuildOptions(**{**_fields(OPTIONS), "cache": False})).build()
    return snapshot(scratch / "public")


def _fields(options: BuildOptions) -> dict[str, object]:
    return {name: getattr(options, name) for name in options.__dataclass_fields__}


# One edit: (operation, which article, a small integer parameter).
OPERATIONS = ("body", "title", "tags", "date", "section", "add", "delete", "draft",
              "template", "css", "config", "same-size", "card-reads-body")
edits = st.lists(st.tuples(st.sampled_from(OPERATIONS), st.integers(0, 9), st.integers(0, 99)),
                 min_size=1, max_size=6)


def apply(root: Path, operation: str, which: int, value: int) -> Path:
    """Apply one edit; returns the path it touched."""
    articles = sorted((root / "content" / "articles").glob("*.md"))
    target = articles[which % len(articles)] if articles else None
    if operation == "add" or target is None:
        path = root / "content" / "articles" / f"new-{which}-{value}.md"
        write(path, article(path.stem, value % 40, tags=TAGS[value % 4:value % 4 + 1]))
        return path
    text = target.read_text(encoding="utf-8")
    if operation == "body":
        write(target, text + f"\nAn added paragraph {value}.\n")
    elif operation == "same-size":  # same length, different bytes, within one mtime tick
        write(target, text[:-2] + ("X" if text[-2] != "X" else "Y") + "\n")
    elif operation == "title":
        write(target, text.replace("title: \"", f"title: \"Edited {value} ", 1))
    elif operation == "tags":
        write(target, text.replace("tags: [", f"tags: [{TAGS[value % 4]}, ", 1))
    elif operation == "date":
        date = (NOW - timedelta(days=value * 5)).isoformat()
        write(target, re.sub(r"^date: .*$", f"date: '{date}'", text, count=1, flags=re.M))
    elif operation == "section":
        write(target, re.sub(r"^section: .*$", f"section: {SECTIONS[value % 4]}", text,
                             count=1, flags=re.M))
    elif operation == "delete":
        target.unlink()
    elif operation == "draft":
        flipped = "draft: false" if "draft: true" in text else "draft: true"
        write(target, re.sub(r"^draft: .*$", flipped, text, count=1, flags=re.M))
    elif operation == "template":
        card = root / "layouts" / "partials" / "card.html"
        # Inside the card macro, so the edit shows on every listing page.
        write(card, card.read_text(encoding="utf-8").replace(
            "</article>", f"<!-- edit {value} --></article>", 1))
        return card
    elif operation == "card-reads-body":
        # Listings start to read some bodies: the pages must follow those bodies' edits from
        # then on (incremental.job_fingerprint). First only for cards whose title was edited
        # (what a page reads depends on the data), then for every card.
        card = root / "layouts" / "partials" / "card.html"
        text = card.read_text(encoding="utf-8")
        shown = ("{% if item.title.startswith('Edited') %}<span>{{ item.word_count }} words"
                 "</span>{% endif %}" if "words</span>" not in text
                 else "<!-- {{ item.html | length }} characters -->")
        write(card, text.replace("</article>", f"{shown}</article>", 1))
        return card
    elif operation == "css":
        css = root / "layouts" / "static" / "style.css"
        write(css, css.read_text(encoding="utf-8") + f"\n.edit-{value} {{ color: red; }}\n")
        return css
    elif operation == "config":
        config = root / "site.toml"
        write(config, config.read_text(encoding="utf-8").replace("title = \"", f"title = \"{value} ", 1))
        return config
    return target


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=edits)
def test_incremental_output_equals_clean_build(sequence: list[tuple[str, int, int]],
                                               tmp_path_factory: pytest.TempPathFactory) -> None:
    base = tmp_path_factory.mktemp("incremental")
    root = make_site(base / "site")
    age(root)
    server = Builder(root, OPTIONS, keep_memo=True)  # the dev server's long-lived builder
    server.build()
    for operation, which, value in sequence:
        touched = apply(root, operation, which, value)
        server.build({touched})
    served = snapshot(root / "public")
    expected = clean_build_of(root, base / "clean")
    assert served.keys() == expected.keys()
    assert [k for k in served if served[k] != expected[k]] == []
    # A fresh builder (the CLI) reading the cache the server left behind agrees too.
    server.close()
    cli = Builder(root, OPTIONS)
    cli.build()
    assert snapshot(root / "public") == expected


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=edits)
def test_cli_rebuilds_after_each_edit_equal_clean_build(
        sequence: list[tuple[str, int, int]], tmp_path_factory: pytest.TempPathFactory) -> None:
    base = tmp_path_factory.mktemp("cli")
    root = make_site(base / "site")
    age(root)
    Builder(root, OPTIONS).build()
    for operation, which, value in sequence:
        apply(root, operation, which, value)
        result = Builder(root, OPTIONS).build()  # a new process each time: state from .cache/
        event(f"{operation}: {'fast path' if result.fast else 'full path'}")
    assert snapshot(root / "public") == clean_build_of(root, base / "clean")


def body_edit(root: Path, text: str = "\nOne more line.\n", name: str = "story-11") -> Path:
    target = root / "content" / "articles" / f"{name}.md"
    target.write_text(target.read_text(encoding="utf-8") + text, encoding="utf-8")
    return target


def test_cli_body_edit_takes_the_fast_path_from_the_cache(tmp_path: Path) -> None:
    """A new process finds the last build's memo in .cache/ and re-renders only the pages that
    show the edited article, without reading the whole site back."""
    root = make_site(tmp_path / "site", count=30)
    age(root)
    Builder(root, OPTIONS).build()
    body_edit(root, name="story-29")  # the oldest: on few listings
    result = Builder(root, OPTIONS).build()
    assert result.fast and not result.up_to_date
    total = result.stats.pages + result.stats.feeds + result.stats.other
    assert 0 < result.rendered < total / 4
    assert any("story-29" in path for path in result.stats.changed)
    assert snapshot(root / "public") == clean_build_of(root, tmp_path / "clean")
    # The summary still counts the whole site, as a full build would.
    full = Builder(root, BuildOptions(**{**_fields(OPTIONS), "cache": False})).build()
    assert (result.stats.pages, result.stats.feeds, result.stats.other, result.stats.assets) == (
        full.stats.pages, full.stats.feeds, full.stats.other, full.stats.assets)


def test_reverting_a_fast_edit_under_a_full_build_restores_the_page(tmp_path: Path) -> None:
    """The fast path records the fingerprints of what it wrote: a later full build that sees
    the old text again must not take the page for up to date."""
    root = make_site(tmp_path / "site", count=12)
    age(root)
    Builder(root, OPTIONS).build()
    target = root / "content" / "articles" / "story-3.md"
    original = target.read_text(encoding="utf-8")
    body_edit(root, "\nA sentence that will be taken back.\n", name="story-3")
    assert Builder(root, OPTIONS).build().fast
    target.write_text(original, encoding="utf-8")
    # A new (oldest) article forces the full path without touching story-3's own page.
    write(root / "content" / "articles" / "story-old.md", article("story-old", 400))
    result = Builder(root, OPTIONS).build()
    assert not result.fast
    assert snapshot(root / "public") == clean_build_of(root, tmp_path / "clean")


def test_fast_path_is_not_taken_with_other_options(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site", count=12)
    write(root / "content" / "articles" / "draft.md", article("draft", 1, draft=True))
    age(root)
    Builder(root, OPTIONS).build()
    body_edit(root)
    with_drafts = BuildOptions(**{**_fields(OPTIONS), "drafts": True})
    result = Builder(root, with_drafts).build()
    assert not result.fast
    assert any("draft" in path for path in result.stats.changed)


def test_fast_path_refuses_a_memo_after_an_interrupted_build(tmp_path: Path) -> None:
    """A build killed while writing into public/ leaves the memo untrusted: the next build
    takes the full path (and re-renders everything it cannot vouch for)."""
    root = make_site(tmp_path / "site", count=12)
    Builder(root, OPTIONS).build()
    db = sqlite3.connect(root / ".cache" / "newsgen.sqlite")
    with db:  # what invalidate_outputs() leaves behind when the build dies after it
        db.execute("UPDATE meta SET value = ? WHERE key = 'outputs_valid'", (b"0",))
    db.close()
    body_edit(root)
    result = Builder(root, OPTIONS).build()
    assert not result.fast
    assert snapshot(root / "public") == clean_build_of(root, tmp_path / "clean")


def test_no_change_rebuild_renders_and_writes_nothing(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site")
    Builder(root, OPTIONS).build()
    age(root)  # make every file old enough to be trusted
    Builder(root, OPTIONS).build()  # records the old mtimes
    before = {p: p.stat().st_mtime_ns for p in (root / "public").rglob("*") if p.is_file()}
    result = Builder(root, OPTIONS).build()
    assert result.up_to_date
    assert result.rendered == 0 and result.stats.written == 0
    assert {p: p.stat().st_mtime_ns for p in (root / "public").rglob("*") if p.is_file()} == before


def test_one_article_edit_rerenders_only_pages_showing_it(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site", count=30)
    Builder(root, OPTIONS).build()
    target = root / "content" / "articles" / "story-29.md"  # the oldest: on few listings
    target.write_text(target.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    result = Builder(root, OPTIONS).build()
    total = result.stats.pages + result.stats.feeds + result.stats.other
    assert 0 < result.rendered < total / 4
    assert any(path.startswith("2026/") and "story-29" in path for path in result.stats.changed)
    assert "index.html" not in result.stats.changed  # the front page shows only the newest 10


def test_template_edit_rerenders_pages_that_use_it(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site", count=8)
    Builder(root, OPTIONS).build()
    page = root / "layouts" / "page.html"  # used by content/pages/about.md only
    page.write_text(page.read_text(encoding="utf-8").replace("</article>", "<p>Edited</p></article>"),
                    encoding="utf-8")
    result = Builder(root, OPTIONS).build()
    assert result.rendered == 1
    assert result.stats.changed == ["about/index.html"]


def test_corrupt_cache_is_discarded_with_a_warning(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site")
    Builder(root, OPTIONS).build()
    expected = snapshot(root / "public")
    cache = root / ".cache" / "newsgen.sqlite"
    for suffix in ("-wal", "-shm"):
        Path(f"{cache}{suffix}").unlink(missing_ok=True)
    cache.write_bytes(b"this is not a database" * 100)
    (root / "content" / "articles" / "story-1.md").touch()
    result = Builder(root, OPTIONS).build()
    assert any("cache" in w.message and "rebuilding" in w.message for w in result.warnings)
    assert snapshot(root / "public") == expected


def test_cache_from_another_version_is_not_trusted(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site")
    Builder(root, OPTIONS).build()
    with sqlite3.connect(root / ".cache" / "newsgen.sqlite") as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'version'", (b"newsgen=0.0.0",))
    result = Builder(root, OPTIONS).build()
    assert not result.up_to_date
    assert any("another version" in w.message for w in result.warnings)


def test_new_generator_code_under_the_same_version_rebuilds(tmp_path: Path) -> None:
    """A `git pull` into an editable install keeps the version number but changes the code:
    the cache must not keep the old code's pages. A copy of the package, first on PYTHONPATH
    (ahead of the editable install's finder), stands for the pulled code."""
    root = make_site(tmp_path / "site")
    assert run_cli(root, "build", "--no-search").returncode == 0
    archive = root / "public" / "archive" / "index.html"
    assert "<h1>Archive</h1>" in archive.read_text(encoding="utf-8")
    pulled = tmp_path / "pulled" / "generator"
    shutil.copytree(Path(cachekey.__file__).parent, pulled,
                    ignore=shutil.ignore_patterns("__pycache__"))
    context = pulled / "context.py"
    code = context.read_text(encoding="utf-8")
    assert code.count('page["title"] = "Archive"') == 1
    context.write_text(code.replace('page["title"] = "Archive"', 'page["title"] = "Archives"'),
                       encoding="utf-8")
    assert cachekey.code_digest(pulled) != cachekey.code_digest()
    rebuilt = run_cli(root, "build", "--no-search", env={"PYTHONPATH": str(pulled.parent)})
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "another version" in rebuilt.stdout + rebuilt.stderr
    assert "<h1>Archives</h1>" in archive.read_text(encoding="utf-8")
    # Same code, another mtime (a fresh clone, a `touch`): the digest, and so the cache, stay.
    os.utime(context, ns=(0, 0))
    again = run_cli(root, "build", "--no-search", "-v", env={"PYTHONPATH": str(pulled.parent)})
    assert again.returncode == 0 and "another version" not in again.stdout + again.stderr
    assert "rendered 0 " in again.stdout, again.stdout


def test_the_code_digest_ignores_editor_lock_files_and_unreadable_entries(tmp_path: Path) -> None:
    package = tmp_path / "generator"
    package.mkdir()
    (package / "a.py").write_text("A = 1\n", encoding="utf-8")
    before = cachekey.code_digest(package)
    (package / ".#a.py").symlink_to("user@host.12345:1700000000")  # Emacs' lock: dangling
    (package / "odd.py").mkdir()  # not a file
    assert cachekey.code_digest(package) == before
    (package / "a.py").write_text("A = 2\n", encoding="utf-8")
    assert cachekey.code_digest(package) != before
    assert cachekey.code_digest(tmp_path / "missing") == ""


_NOTES: dict[str, Any] = {}


def _noted_share() -> Any:
    """workers._render_share, writing how many records it made (a forked helper runs it: it
    is pickled by name, so it lives at module level)."""
    share, made = _NOTES["share"]
    counts, records = share()
    made.write_text(str(len(records)))
    return counts, records



def test_parallel_build_equals_serial_build(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    serial = make_site(tmp_path / "serial", count=260)  # above the parallel thresholds
    parallel = tmp_path / "parallel"
    shutil.copytree(serial, parallel)
    # The pages' cache records are made where each page renders (workers.render_pages): the
    # forked helper notes how many it made, so this test knows it rendered some.
    made = tmp_path / "made-by-helper"
    monkeypatch.setitem(_NOTES, "share", (workers._render_share, made))
    monkeypatch.setattr(workers, "_render_share", _noted_share)
    Builder(serial, BuildOptions(**{**_fields(OPTIONS), "jobs": 1})).build()
    result = Builder(parallel, BuildOptions(**{**_fields(OPTIONS), "jobs": 2})).build()
    assert result.rendered >= workers.PARALLEL_MIN_PAGES
    assert snapshot(serial / "public") == snapshot(parallel / "public")
    # The workers' records reach the cache, equal to a serial build's.
    records = []
    for root in (serial, parallel):
        with sqlite3.connect(root / ".cache" / "newsgen.sqlite") as db:
            records.append(dict(db.execute("SELECT path, fingerprint FROM outputs")))
    assert int(made.read_text()) > 0 and records[0] == records[1]


def test_the_dev_server_builder_leaves_its_garbage_to_the_collector(tmp_path: Path) -> None:
    """A one-build process freezes what it keeps out of the collector's reach (frozen_heap);
    the dev server's builder must not: each freeze would reset the young collections' count
    and then move what it froze, garbage included, to the oldest generation."""
    root = make_site(tmp_path / "site", count=12)
    server = Builder(root, OPTIONS, keep_memo=True)
    server.build()

    class Node:
        pass

    base = root / "layouts" / "base.html"
    for edit in ("template", "body"):  # a full rebuild, then a fast one
        cycle = Node()
        cycle.loop = cycle  # type: ignore[attr-defined]
        alive = weakref.ref(cycle)
        del cycle  # garbage now, but only a collection can free a cycle
        age(root)  # no file saved within the last second: the watcher's hint is trusted
        if edit == "template":
            base.write_text(base.read_text(encoding="utf-8") + "<!-- edited -->\n",
                            encoding="utf-8")
            changed = base
        else:
            changed = body_edit(root, "\nOne more line.\n")
        assert server.build({changed}).fast == (edit == "body")
        gc.collect(1)  # the young and middle generations only: where new garbage belongs
        assert alive() is None
    server.close()


def test_dev_server_builds_an_edit_watchdog_missed_on_the_next_full_scan(tmp_path: Path) -> None:
    """The dev server trusts watchdog's list of changed files (no stat of every file); its
    full-scan check once saves pause (an empty change set) builds what an event missed."""
    root = make_site(tmp_path / "site", count=12)
    age(root)
    server = Builder(root, OPTIONS, keep_memo=True)
    server.build()
    reported = body_edit(root, "\nReported by watchdog.\n", name="story-3")
    body_edit(root, "\nNever reported.\n", name="story-7")
    assert server.build({reported}).fast
    pages = {path.parent.name: path.read_text(encoding="utf-8")
             for path in (root / "public").glob("2026/*/story-*/index.html")}
    assert "Reported by watchdog." in pages["story-3"]
    assert "Never reported." not in pages["story-7"]  # trusted the hint: not stat'ed
    result = server.build(set())
    assert result.fast and any("story-7" in path for path in result.stats.changed)
    assert snapshot(root / "public") == clean_build_of(root, tmp_path / "clean")
    again = server.build(set())  # nothing left to do (files this fresh are re-read: racy)
    assert again.rendered == 0 and not again.stats.changed
    server.close()


def test_a_fast_rebuild_failing_after_announcing_its_page_puts_that_page_back(
        tmp_path: Path) -> None:
    """The dev server writes (and announces) an edited article's page before the listings that
    show it; if a listing then fails, that page is restored: a failed build changes nothing."""
    root = make_site(tmp_path / "site", count=12)
    card = root / "layouts" / "partials" / "card.html"
    card.write_text(card.read_text(encoding="utf-8").replace(
        '<article class="card', '{% if "BOOM" in item.summary %}{{ no_such_variable }}{% endif %}'
        '<article class="card', 1), encoding="utf-8")
    age(root)
    server = Builder(root, OPTIONS, keep_memo=True)
    server.build()
    announced: list[list[str]] = []
    server.announce = announced.append
    before = snapshot(root / "public")
    target = root / "content" / "articles" / "story-3.md"
    target.write_text(target.read_text(encoding="utf-8").replace(
        "summary: About story-3", "summary: About story-3 BOOM"), encoding="utf-8")
    with pytest.raises(GeneratorError, match="no_such_variable"):
        server.build({target})
    assert any("story-3" in path for batch in announced for path in batch)  # it was written
    assert snapshot(root / "public") == before  # and put back


def test_a_body_edit_leaves_pages_that_show_only_its_headline(tmp_path: Path) -> None:
    """Listings show an article's card (headline, standfirst, byline, reading time), not its
    text: editing the text re-renders the article's page and the feeds that carry it."""
    root = make_site(tmp_path / "site", count=12)
    age(root)
    Builder(root, OPTIONS).build()
    front = root / "public" / "index.html"
    stamp = front.stat().st_mtime_ns
    body_edit(root, "\nOne more sentence.\n", name="story-0")  # the newest: on every listing
    result = Builder(root, OPTIONS).build()
    assert result.fast
    assert result.rendered == 1 + 2 * len(FEED_FILES)  # its page, the site's and section's feeds
    assert all("story-0" in path or path.endswith(("feed.xml", "atom.xml", "feed.json"))
               for path in result.stats.changed), result.stats.changed
    assert front.stat().st_mtime_ns == stamp
    assert snapshot(root / "public") == clean_build_of(root, tmp_path / "clean")


@pytest.mark.parametrize("dev_server", [False, True])
def test_a_listing_that_shows_word_counts_follows_body_edits(tmp_path: Path,
                                                             dev_server: bool) -> None:
    """A template may read what a card does not usually show (here the word count): the
    render notes it, and the page then follows that article's body."""
    root = make_site(tmp_path / "site", count=12)
    card = root / "layouts" / "partials" / "card.html"
    card.write_text(card.read_text(encoding="utf-8").replace(
        "</article>", "<span class=\"words\">{{ item.word_count }} words</span></article>", 1),
        encoding="utf-8")
    age(root)
    builder = Builder(root, OPTIONS, keep_memo=dev_server)
    builder.build()
    listing = root / "public" / "authors" / "ann-reporter" / "index.html"  # cards, story-0 first
    before = listing.read_text(encoding="utf-8")
    touched = body_edit(root, "\nSeven more words are in this line.\n", name="story-0")
    result = (builder if dev_server else Builder(root, OPTIONS)).build(
        {touched} if dev_server else None)
    assert result.fast
    after = listing.read_text(encoding="utf-8")
    assert "authors/ann-reporter/index.html" in result.stats.changed and after != before
    builder.close()
    assert snapshot(root / "public") == clean_build_of(root, tmp_path / "clean")


def test_a_parallel_cold_build_stores_bodies_from_the_workers(tmp_path: Path) -> None:
    # Enough articles for forked loaders (workers.PARALLEL_MIN_DOCUMENTS), and no cache file
    # yet: both workers write bodies into one new SQLite file, which must not collide.
    from generator.workers import PARALLEL_MIN_DOCUMENTS

    count = PARALLEL_MIN_DOCUMENTS + 50
    root = make_site(tmp_path / "site", count=count)
    assert not (root / ".cache").exists()
    builder = Builder(root, BuildOptions(ingest=False, search=False, now=NOW, jobs=2))
    builder.build()
    builder.close()
    with sqlite3.connect(root / ".cache" / "newsgen.sqlite") as db:
        stored = db.execute("SELECT COUNT(*) FROM html").fetchone()[0]
    assert stored >= count  # every article's body (and the pages')
    assert builder.state is not None
    assert all(doc.html == "" for *_, doc in builder.state.documents.values())
    assert snapshot(root / "public") == clean_build_of(root, tmp_path / "clean")


def test_after_a_cli_edit_an_unchanged_build_is_up_to_date(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site", count=12)
    age(root)
    Builder(root, OPTIONS).build()
    body_edit(root, name="story-3")
    time.sleep(1.1)  # past the racy-mtime second (scan.RACY_NS): the edit is then trusted
    edited = Builder(root, OPTIONS)
    assert edited.build().fast
    edited.close()
    again = Builder(root, OPTIONS)
    assert again.build().up_to_date  # nothing changed since the edit's build
    again.close()


def test_stored_jobs_come_back_equal_whether_marshalled_or_pickled(tmp_path: Path) -> None:
    from generator.memostore import _job_from_row, _job_row
    from generator.model import RenderJob

    plain = RenderJob("tags/x/page/2/index.html", "/news/tags/x/page/2/", "tag", "tag.html",
                      params=(("slug", "x"), ("page", 2), ("keys", ("a.md", "b.md"))),
                      depends_on=("a.md", "b.md"), source="tag x")
    dated = RenderJob("sitemap.xml", "/news/sitemap.xml", "sitemap", "",
                      params=(("urls", (("/news/", NOW),)),))
    raw = RenderJob("x/index.html", "/x/", "page", "page.html", params=(("b", bytearray(b"x")),))
    assert _job_row(plain)[:1] == b"m" and _job_row(dated)[:1] == b"p"  # datetime: pickled
    assert _job_row(raw)[:1] == b"p"  # marshal would give the bytearray back as bytes
    for job in (plain, dated, raw):
        back = _job_from_row(_job_row(job))
        assert back == job and repr(back.params) == repr(job.params)
    # And through a real build: a fast rebuild re-reads planned jobs from the cache.
    root = make_site(tmp_path / "site", count=8)
    age(root)
    Builder(root, OPTIONS).build()
    with sqlite3.connect(root / ".cache" / "newsgen.sqlite") as db:
        kinds = {bytes(row[0])[:1] for row in db.execute("SELECT job FROM memo_jobs")}
    assert kinds == {b"m", b"p"}  # most jobs marshalled; the sitemaps' dates pickled
    body_edit(root, name="story-2")
    assert Builder(root, OPTIONS).build().fast
    assert snapshot(root / "public") == clean_build_of(root, tmp_path / "clean")


def test_fast_edits_store_their_scan_and_hashes_as_rows(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A CLI edit writes back the edited documents' rows, not whole-site blobs; past
    INPUT_DELTAS changed stats the scan is written whole again. Read back, the memo must match
    what a full build makes of the same sources."""
    from generator import memostore
    from generator.cache import CacheStore
    from generator.scan import scan_now

    monkeypatch.setattr(memostore, "INPUT_DELTAS", 3)
    root = make_site(tmp_path / "site", count=12)
    age(root)
    Builder(root, OPTIONS).build()
    db = root / ".cache" / "newsgen.sqlite"
    deltas = []
    for story in (2, 5, 7, 2, 9, 11):
        body_edit(root, text=f"\nEdit of story {story}.\n", name=f"story-{story}")
        assert Builder(root, OPTIONS).build().fast
        with sqlite3.connect(db) as connection:
            deltas.append(connection.execute("SELECT COUNT(*) FROM memo_inputs").fetchone()[0])
        store = CacheStore(root)
        stored = store.load_memo()
        assert stored is not None and stored.inputs == scan_now(root)[1]
        store.close()
    assert deltas[0] == 1 and max(deltas) <= 3 and 0 in deltas[1:]  # rows, then compacted
    scratch = tmp_path / "fresh"
    shutil.copytree(root, scratch, ignore=shutil.ignore_patterns("public", ".cache"))
    fresh = Builder(scratch, OPTIONS, keep_memo=True)
    fresh.build()
    assert fresh.memo is not None
    store = CacheStore(root)
    stored = store.load_memo()
    assert stored is not None
    assert {key: stored.shas[key] for key in fresh.memo.shas} == fresh.memo.shas
    assert {key: stored.cards[key] for key in fresh.memo.cards} == fresh.memo.cards
    store.close()
    assert snapshot(root / "public") == clean_build_of(root, tmp_path / "clean")


def test_a_clean_build_counts_the_old_files_it_drops(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site", count=6)
    Builder(root, OPTIONS).build()
    public = root / "public"
    write(public / "stray" / "left-over.html", "<p>old</p>")
    write(public / "notes.txt", "old")
    clean = BuildOptions(**{**_fields(OPTIONS), "cache": False})
    assert Builder(root, clean).build().stats.removed == 2
    assert not (public / "notes.txt").exists() and (public / "index.html").is_file()
    (root / "content" / "articles" / "story-5.md").unlink()
    result = Builder(root, clean).build()
    assert result.stats.removed >= 1  # the dropped article's page, at least
    assert not list(public.glob("*/*/story-5/index.html"))


def test_a_seed_edit_taken_on_the_fast_path_stores_the_seeds_new_stat(tmp_path: Path) -> None:
    """Ingest turns a seed edit into an article edit; the fast rebuild that follows must store
    the seed's new stat as well as the article's, or the stored scan drifts from the files."""
    from generator.cache import CacheStore
    from generator.scan import scan_now

    root = copy_project(tmp_path / "site", content=False)
    age(root)
    with_ingest = BuildOptions(**{**_fields(OPTIONS), "ingest": True})
    Builder(root, with_ingest).build()
    seed = next((root / "seeds").glob("*.txt"))
    seed.write_text(seed.read_text(encoding="utf-8") + "\nOne more paragraph from the wire.\n",
                    encoding="utf-8")
    result = Builder(root, with_ingest).build()
    assert result.ingest is not None and result.ingest.written and result.fast
    store = CacheStore(root)
    stored = store.load_memo()
    assert stored is not None and stored.inputs == scan_now(root)[1]
    store.close()


def test_a_failed_full_build_in_the_dev_server_leaves_no_memo_behind(tmp_path: Path) -> None:
    """A dev server started on a built site reads the memo from the cache. When a full build
    then fails, that memo must go: the next fast rebuild would otherwise mix it with the state
    the failed build loaded, and saving both on exit wrote an empty memo."""
    root = make_site(tmp_path / "site", count=8)
    age(root)
    Builder(root, OPTIONS).build()
    server = Builder(root, OPTIONS, keep_memo=True)
    assert server.build().up_to_date and server.memo is not None
    bad = root / "content" / "articles" / "broken.md"
    bad.write_text("---\ntitle: [unclosed\n---\nBody\n", encoding="utf-8")
    with pytest.raises(GeneratorError):
        server.build()
    bad.unlink()
    body_edit(root, name="story-3")
    server.build()
    server.close()
    body_edit(root, text="\nAnd a second edit.\n", name="story-4")
    assert Builder(root, OPTIONS).build().fast  # a new process, from the memo saved on exit
    assert snapshot(root / "public") == clean_build_of(root, tmp_path / "clean")


def test_saving_a_memo_read_from_the_cache_keeps_every_row(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from generator.cache import CacheStore

    root = make_site(tmp_path / "site", count=8)
    age(root)
    Builder(root, OPTIONS).build()
    tables = ("memo_entries", "memo_jobs", "memo_dependents", "memo_hashes")

    def counts() -> list[int]:
        with sqlite3.connect(root / ".cache" / "newsgen.sqlite") as db:
            return [db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in tables]

    before = counts()
    store = CacheStore(root)
    memo, state = store.load_memo(), store.load()
    assert memo is not None and state is not None and memo.renderer_inputs is not None
    manifest, images = memo.renderer_inputs
    memo.renderer = SimpleNamespace(manifest=manifest, contexts=SimpleNamespace(_images=images))
    store.save(state, memo)  # its rows are read lazily, from the tables the save replaces
    store.close()
    assert counts() == before and min(before) > 0
    body_edit(root, name="story-2")
    assert Builder(root, OPTIONS).build().fast
    assert snapshot(root / "public") == clean_build_of(root, tmp_path / "clean")


@pytest.mark.parametrize("table", ["memo_hashes", "memo_entries", "memo_jobs", "memo_dependents"])
def test_a_memo_missing_rows_is_discarded_with_a_warning(tmp_path: Path, table: str) -> None:
    """The fast path reads the memo row by row, so damage shows only when an edit reaches a lost
    row: the cache is then discarded with a warning and the normal build redoes it."""
    root = make_site(tmp_path / "site", count=12)
    age(root)
    Builder(root, OPTIONS).build()
    with sqlite3.connect(root / ".cache" / "newsgen.sqlite") as db:
        db.execute(f"DELETE FROM {table}")
    story = root / "content" / "articles" / "story-4.md"
    story.write_text(story.read_text(encoding="utf-8").replace('title: "Story-4"',
                                                               'title: "Story four, renamed"'),
                     encoding="utf-8")
    result = Builder(root, OPTIONS).build()
    assert not result.fast
    warned = any("lacks a row" in d.message and d.severity == "warning"
                 for d in result.diagnostics)
    # A lost entry reads as "not in the site", so the fast path declines before any damage
    # shows, and the normal build it falls back to saves a whole memo again.
    assert warned == (table != "memo_entries"), result.diagnostics
    assert snapshot(root / "public") == clean_build_of(root, tmp_path / "clean")
    body_edit(root, name="story-5")
    assert Builder(root, OPTIONS).build().fast  # the rebuilt cache serves the next edit


def test_a_loaded_chunk_asks_the_kernel_to_read_all_its_files_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """workers.prefetch: every file of a chunk gets POSIX_FADV_WILLNEED before the first is
    parsed; a file that cannot be opened is left to the load, which reports it."""
    root = make_site(tmp_path / "site", count=5)
    paths = sorted((root / "content" / "articles").glob("*.md"))
    missing = root / "content" / "articles" / "gone.md"
    advised: list[tuple[str, int]] = []
    parsed: list[Path] = []
    real_load = workers._load_one

    def spy_advise(fd: int, offset: int, length: int, advice: int) -> None:
        advised.append((os.readlink(f"/proc/self/fd/{fd}"), advice))

    def spy_load(path: Path, config: Any) -> Any:
        parsed.append(path)
        assert len(advised) == len(paths), "every file is advised before the first is parsed"
        return real_load(path, config)

    monkeypatch.setattr(os, "posix_fadvise", spy_advise)
    monkeypatch.setattr(workers, "_load_one", spy_load)
    from generator.config import load_config

    loaded = workers._load_chunk([*paths, missing], load_config(root))
    assert advised == [(str(path), os.POSIX_FADV_WILLNEED) for path in paths]
    assert parsed == [*paths, missing]
    assert [isinstance(item, GeneratorError) for item in loaded] == [False] * 5 + [True]
    assert "content/articles/gone.md: error: cannot read file" in str(loaded[-1])
