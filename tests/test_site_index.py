"""The index stage (`generator.site.index_site`) and route planning, on hand-made Documents:
ordering, filtering, grouping, previous/next, related articles and URL collisions.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli
from sitefactory import Article, write_article, write_project

from generator.config import SiteConfig, parse_config
from generator.errors import ContentError, Diagnostic, RouteError
from generator.model import Document, DocumentKind, FrontMatter, RenderJob
from generator.routes import plan
from generator.site import index_site

NOW = datetime(2026, 7, 25, 12, 0, tzinfo=UTC)
CONFIG = """
title = "Test"
base_url = "https://example.github.io/news/"
timezone = "{timezone}"
related = 3
[sections.world]
title = "World"
[sections.sport]
title = "Sport"
[sections.news]
title = "News"
"""


def config(tmp_path: Path, timezone: str = "UTC") -> SiteConfig:
    return parse_config(CONFIG.format(timezone=timezone), tmp_path)


def doc(name: str, date: datetime | None = None, *, kind: DocumentKind = "article", section: str = "world",
        tags: tuple[str, ...] = (), authors: tuple[str, ...] = (), draft: bool = False,
        slug: str = "") -> Document:
    folder = "articles" if kind == "article" else "pages"
    meta = FrontMatter(title=name.title(), date=date, slug=slug, section=section, tags=tags,
                       authors=authors, draft=draft)
    return Document(path=Path(f"content/{folder}/{name}.md"), kind=kind,
                    sha256=name, meta=meta, slug=slug or name, html=f"<p>{name}</p>",
                    word_count=1, reading_minutes=1)


def days_ago(n: float) -> datetime:
    return NOW - timedelta(days=n)


def key(name: str, kind: str = "articles") -> str:
    return f"content/{kind}/{name}.md"


# --- ordering and filtering -------------------------------------------------------------------


def test_articles_are_newest_first_whatever_the_input_order(tmp_path: Path) -> None:
    docs = [doc(f"a{n}", days_ago(n)) for n in range(10)]
    docs.append(doc("same-time-b", days_ago(3)))
    orders = set()
    for seed in range(5):
        random.Random(seed).shuffle(docs)
        site = index_site(docs, config(tmp_path), NOW)
        orders.add(site.articles)
    assert len(orders) == 1
    [order] = orders
    assert order[:3] == (key("a0"), key("a1"), key("a2"))
    assert set(order[3:5]) == {key("a3"), key("same-time-b")}
    assert order[-1] == key("a9")


def test_drafts_and_future_articles_are_dropped_unless_asked_for(tmp_path: Path) -> None:
    docs = [doc("past", days_ago(1)), doc("draft", days_ago(1), draft=True),
            doc("future", NOW + timedelta(seconds=1)), doc("exactly-now", NOW),
            doc("about", None, kind="page"), doc("secret", None, kind="page", draft=True)]
    cfg = config(tmp_path)
    assert index_site(docs, cfg, NOW).articles == (key("exactly-now"), key("past"))
    assert index_site(docs, cfg, NOW).pages == (key("about", "pages"),)
    assert set(index_site(docs, cfg, NOW, drafts=True).articles) == {
        key("exactly-now"), key("past"), key("draft")}
    assert key("secret", "pages") in index_site(docs, cfg, NOW, drafts=True).pages
    assert index_site(docs, cfg, NOW, future=True).articles[0] == key("future")


def test_a_page_dated_in_the_future_is_still_published(tmp_path: Path) -> None:
    site = index_site([doc("about", NOW + timedelta(days=9), kind="page")], config(tmp_path), NOW)
    assert site.pages == (key("about", "pages"),)


# --- grouping ---------------------------------------------------------------------------------


def test_sections_follow_the_configured_order_and_skip_empty_ones(tmp_path: Path) -> None:
    docs = [doc("s1", days_ago(1), section="sport"), doc("w1", days_ago(2), section="world"),
            doc("s2", days_ago(3), section="sport")]
    site = index_site(docs, config(tmp_path), NOW)
    assert [(s.slug, s.name, s.keys) for s in site.sections] == [
        ("world", "World", (key("w1"),)),
        ("sport", "Sport", (key("s1"), key("s2"))),
    ]


def test_tags_group_by_slug_named_by_the_most_used_spelling(tmp_path: Path) -> None:
    docs = [doc("a", days_ago(1), tags=("NATO", "Libya")), doc("b", days_ago(2), tags=("Nato",)),
            doc("c", days_ago(3), tags=("NATO", "Nato")), doc("d", days_ago(4), tags=("Libya",))]
    site = index_site(docs, config(tmp_path), NOW)
    groups = {t.slug: (t.name, t.keys) for t in site.tags}
    assert groups == {
        "libya": ("Libya", (key("a"), key("d"))),
        "nato": ("NATO", (key("a"), key("b"), key("c"))),  # c listed once despite two spellings
    }
    assert [t.slug for t in site.tags] == sorted(groups)


def test_authors_group_by_slug(tmp_path: Path) -> None:
    docs = [doc("a", days_ago(1), authors=("Chloé Durand", "Ann")), doc("b", days_ago(2),
                                                                         authors=("Ann",))]
    site = index_site(docs, config(tmp_path), NOW)
    assert {(t.slug, t.name, t.keys) for t in site.authors} == {
        ("ann", "Ann", (key("a"), key("b"))), ("chloe-durand", "Chloé Durand", (key("a"),))}


def test_months_and_years_use_the_site_time_zone(tmp_path: Path) -> None:
    # 02:00 UTC on 1 April is still 31 March in New York.
    docs = [doc("late", datetime(2026, 4, 1, 2, 0, tzinfo=UTC)),
            doc("new-year", datetime(2026, 1, 1, 3, 0, tzinfo=UTC)),
            doc("april", datetime(2026, 4, 2, 12, 0, tzinfo=UTC))]
    site = index_site(docs, config(tmp_path, "America/New_York"), NOW)
    assert {(m.slug, m.name, m.keys) for m in site.months} == {
        ("2026/04", "April 2026", (key("april"),)),
        ("2026/03", "March 2026", (key("late"),)),
        ("2025/12", "December 2025", (key("new-year"),)),
    }
    assert {(y.slug, y.keys) for y in site.years} == {
        ("2026", (key("april"), key("late"))), ("2025", (key("new-year"),))}
    assert site.entry(key("late")).url == "/news/2026/03/late/"


# --- previous / next / related ----------------------------------------------------------------


def test_previous_is_older_and_next_is_newer(tmp_path: Path) -> None:
    docs = [doc(f"a{n}", days_ago(n)) for n in range(4)]
    site = index_site(docs, config(tmp_path), NOW)
    assert site.previous == {key("a0"): key("a1"), key("a1"): key("a2"), key("a2"): key("a3")}
    assert site.next == {key("a1"): key("a0"), key("a2"): key("a1"), key("a3"): key("a2")}


def test_related_ranks_by_shared_tags_then_newest_and_excludes_itself(tmp_path: Path) -> None:
    docs = [doc("me", days_ago(5), tags=("A", "B", "C")),
            doc("two-old", days_ago(9), tags=("A", "B")),
            doc("two-new", days_ago(8), tags=("B", "C")),
            doc("one-newest", days_ago(1), tags=("C",)),
            doc("one-older", days_ago(7), tags=("a",)),  # same slug as "A"
            doc("none", days_ago(2), tags=("Z",)),
            doc("draft", days_ago(2), tags=("A", "B", "C"), draft=True)]
    site = index_site(docs, config(tmp_path), NOW)
    assert site.related[key("me")] == (key("two-new"), key("two-old"), key("one-newest"))
    assert site.related[key("none")] == ()
    assert key("none") not in site.related[key("one-newest")]


def test_related_counts_a_tag_spelled_twice_once(tmp_path: Path) -> None:
    docs = [doc("me", days_ago(5), tags=("NATO", "Libya")),
            doc("double", days_ago(6), tags=("NATO", "Nato")),
            doc("both", days_ago(7), tags=("NATO", "Libya"))]
    site = index_site(docs, config(tmp_path), NOW)
    assert site.related[key("me")][:2] == (key("both"), key("double"))


def test_related_still_finds_an_old_article_sharing_a_rare_tag(tmp_path: Path) -> None:
    # 150 articles share one common tag; the oldest also shares a rare tag with the newest.
    docs = [doc(f"a{n:03d}", days_ago(n), tags=("Common",)) for n in range(150)]
    docs[0] = doc("a000", days_ago(0), tags=("Common", "Rare"))
    docs[149] = doc("a149", days_ago(149), tags=("Common", "Rare"))
    site = index_site(docs, config(tmp_path), NOW)
    assert site.related[key("a000")] == (key("a149"), key("a001"), key("a002"))
    assert site.related[key("a149")][0] == key("a000")
    assert all(len(site.related[k]) == 3 for k in site.articles)


def test_related_split_across_processes_equals_the_serial_result(tmp_path: Path) -> None:
    # Enough articles for fork_map to fork (2,000+), with tags dense enough that many share
    # two or three, so scores and the newest-first order both matter.
    rng = random.Random(7)
    tags = [f"Tag {n}" for n in range(40)]
    docs = [doc(f"a{n:04d}", days_ago(n / 7), tags=tuple(rng.sample(tags, rng.randint(1, 4))))
            for n in range(2600)]
    serial = index_site(docs, config(tmp_path), NOW)
    forked = index_site(docs, config(tmp_path), NOW, jobs=3)
    assert forked.related == serial.related
    assert list(forked.related) == list(serial.related)  # same order too: output is byte-stable
    assert sum(len(v) for v in serial.related.values()) == 3 * 2600


def test_fork_map_runs_the_later_parts_in_other_processes() -> None:
    import os

    from generator.workers import fork_map

    def part(start: int, stop: int) -> tuple[int, int, int]:
        return start, stop, os.getpid()

    parts = fork_map(part, 10, 3, minimum=0)
    assert [(a, b) for a, b, _ in parts] == [(0, 4), (4, 8), (8, 10)]
    assert parts[0][2] == os.getpid()
    assert {pid for _, _, pid in parts[1:]}.isdisjoint({os.getpid()})
    assert fork_map(part, 10, 3)[0] == (0, 10, os.getpid())  # below the minimum: one call here
    assert fork_map(part, 0, 2, minimum=0) == [(0, 0, os.getpid())]  # nothing to split
    assert fork_map(part, 1, 2, minimum=0) == [(0, 1, os.getpid())]


# --- collisions -------------------------------------------------------------------------------


def test_two_articles_with_one_url_are_an_error_naming_both(tmp_path: Path) -> None:
    docs = [doc("first", days_ago(1), slug="same"), doc("second", days_ago(2), slug="same")]
    with pytest.raises(ContentError) as caught:
        index_site(docs, config(tmp_path), NOW)
    assert key("first") in caught.value.message and key("second") in caught.value.message
    assert "/news/2026/07/same/" in caught.value.message
    assert caught.value.hint


def test_same_slug_in_different_months_is_fine(tmp_path: Path) -> None:
    docs = [doc("first", days_ago(1), slug="same"), doc("second", days_ago(60), slug="same")]
    assert len(index_site(docs, config(tmp_path), NOW).articles) == 2


def test_a_page_taking_a_listing_url_is_a_route_error(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    site = index_site([doc("a", days_ago(1), tags=("x",)), doc("tags", None, kind="page")],
                      cfg, NOW)
    with pytest.raises(RouteError) as caught:
        plan(site, cfg)
    assert "tags/index.html" in caught.value.message
    assert key("tags", "pages") in caught.value.message


def test_cli_reports_a_url_collision_naming_both_files(tmp_path: Path) -> None:
    root = write_project(tmp_path / "site", [], about=False)
    date = NOW - timedelta(days=1)
    write_article(root, Article("one", "One", date, extra={"slug": "same"}))
    write_article(root, Article("two", "Two", date, extra={"slug": "same"}))
    result = run_cli(root, "build")
    assert result.returncode == 1
    assert "content/articles/one.md" in result.stderr
    assert "content/articles/two.md" in result.stderr
    assert "hint:" in result.stderr


def test_different_names_sharing_a_slug_are_a_warning_naming_both_files(tmp_path: Path) -> None:
    docs = [doc("old", days_ago(3), tags=("AT&T", "NATO", "Al-Qaeda", "C++"), authors=("Zoë",)),
            doc("new", days_ago(1), tags=("AT-T", "Nato", "Al Qaeda", "C#"), authors=("Zoe",))]
    warnings: list[Diagnostic] = []
    site = index_site(docs, config(tmp_path), NOW, warnings=warnings)
    assert [t.slug for t in site.tags] == ["al-qaeda", "at-t", "c-plus-plus", "c-sharp", "nato"]
    # Case, accents and word separators are one name's spellings: only AT&T / AT-T warns.
    [warning] = warnings
    assert warning.severity == "warning"
    assert warning.message == (
        f"tag names 'AT-T' ({key('new')}) and 'AT&T' ({key('old')}) share one page, "
        "/news/tags/at-t/, shown as 'AT-T'")
    assert warning.location is not None and warning.location.path == Path(key("old"))
    assert warning.hint and "differ in letters or digits" in warning.hint
    assert index_site(docs, config(tmp_path), NOW).tags == site.tags  # warnings are optional


def test_cli_warns_of_tag_names_sharing_a_page(tmp_path: Path) -> None:
    root = write_project(tmp_path / "site", [
        Article("one", "One", NOW - timedelta(days=2), tags=("AT&T",)),
        Article("two", "Two", NOW - timedelta(days=1), tags=("AT-T",))], about=False)
    result = run_cli(root, "build", "--no-search", env={"NEWSGEN_DAEMON": "off"})
    assert result.returncode == 0, result.stderr
    assert ("content/articles/one.md: warning: tag names 'AT-T' (content/articles/two.md) and "
            "'AT&T' (content/articles/one.md) share one page") in result.stderr


def test_model_objects_pickle_by_their_fields_and_come_back_equal(tmp_path: Path) -> None:
    import dataclasses
    import pickle

    from generator.model import RenderJob

    docs = [doc("a", days_ago(1), tags=("X", "Y"), authors=("Ann",)), doc("b", days_ago(2))]
    site = index_site(docs, config(tmp_path), NOW)
    entry = site.entry(key("a"))
    job = RenderJob("a/index.html", "/a/", "article", "article.html",
                    params=(("key", key("a")),), depends_on=(key("a"), key("b")))
    for original in (entry, entry.doc, entry.doc.meta, site.tags[0], job):
        copy = pickle.loads(pickle.dumps(original, pickle.HIGHEST_PROTOCOL))
        assert copy == original and type(copy) is type(original)
        # Every field, compared or not: Document.key is rebuilt by __post_init__.
        assert all(getattr(copy, f.name) == getattr(original, f.name)
                   for f in dataclasses.fields(original))
        # The object's own __reduce__: class and __init__ arguments, not the slow default.
        assert original.__reduce__()[0] is type(original)
    # A pickle made the default way (older caches) still loads.
    state = dataclasses.astuple(entry.doc.meta)
    legacy = object.__new__(type(entry.doc.meta))
    legacy.__setstate__(state)  # type: ignore[attr-defined]
    assert legacy == entry.doc.meta


def test_frozen_heap_scopes_nest_and_only_the_outermost_unfreezes() -> None:
    """The build freezes its long-lived objects for its whole length; render_pages and
    fork_map freeze again inside it. Leaving an inner scope must not unfreeze the build's."""
    import gc

    from generator.workers import freeze_more, frozen_heap

    assert gc.get_freeze_count() == 0
    kept = [object() for _ in range(10)]  # noqa: F841 (alive while frozen)
    with frozen_heap():
        outer = gc.get_freeze_count()
        assert outer > 0
        made = [[] for _ in range(1000)]  # tracked containers made inside the scope
        freeze_more()
        assert gc.get_freeze_count() >= outer + len(made)
        with frozen_heap():
            pass
        assert gc.get_freeze_count() >= outer + len(made)  # the inner scope left them frozen
    assert gc.get_freeze_count() == 0
    freeze_more()  # outside any scope: does nothing (nobody would unfreeze)
    assert gc.get_freeze_count() == 0


def test_a_paused_collector_freezes_what_the_stage_made_and_workers_still_collect() -> None:
    """collector_paused: no collection during an index-building stage, then its objects are
    frozen; a no-op outside frozen_heap (the dev server); a worker forked inside it runs with
    the collector on (it parses Markdown, which makes cycles)."""
    import gc

    from generator.workers import _pool, collector_paused, frozen_heap

    assert gc.isenabled()
    with collector_paused():  # outside frozen_heap: nothing changes
        assert gc.isenabled()
    assert gc.get_freeze_count() == 0
    with frozen_heap():
        before = gc.get_freeze_count()
        with collector_paused():
            assert not gc.isenabled()
            made = [[] for _ in range(1000)]
            with _pool(1) as pool:
                assert pool.submit(gc.isenabled).result() is True
        assert gc.isenabled()
        assert gc.get_freeze_count() >= before + len(made)
    assert gc.get_freeze_count() == 0
    # An error inside still turns it back on.
    with frozen_heap(), pytest.raises(KeyError), collector_paused():
        raise KeyError("x")
    assert gc.isenabled() and gc.get_freeze_count() == 0


def _render_ranges(jobs: list[RenderJob], ranges: list[tuple[int, int]],
                   cyclic: Callable[[RenderJob], bool]) -> dict[str, Any]:
    """workers._claim_ranges inside frozen_heap (as a parallel render runs it), with a fake
    renderer that keeps a list per page (a cache entry) and makes a reference cycle on the
    pages `cyclic` picks. -> what it yielded, its records, how many objects were frozen at
    each yield, the cycles still alive (frozen or not) and each collection's generation."""
    import gc
    import multiprocessing
    import weakref

    from generator.workers import _claim_ranges, frozen_heap

    class Garbage:
        pass

    made: weakref.WeakSet[Garbage] = weakref.WeakSet()  # frozen or not, until freed

    class Renderer:
        def __init__(self) -> None:
            self.deep: dict[str, int] = {}
            self.kept: list[list[str]] = []

        def render(self, job: RenderJob) -> str:
            self.deep[job.output] = 0
            self.kept.append([job.output])  # lives as long as the renderer
            if cyclic(job):
                loop = Garbage()
                loop.me = loop  # type: ignore[attr-defined]
                made.add(loop)
            return job.output

    class Writer:
        def write(self, output: str) -> None:
            pass

    collections: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "stop":
            collections.append(info["generation"])

    claimed = multiprocessing.get_context("fork").Value("i", 0)
    records: dict[str, str] = {}
    renderer = Renderer()  # kept until counted: its kept lists are what is frozen
    gc.collect()
    gc.callbacks.append(count)
    try:
        with frozen_heap():
            before = gc.get_freeze_count()
            done, frozen = [], []  # at each range's end, while the collector is still paused
            for stop in _claim_ranges(renderer, Writer(), jobs, ranges, claimed,
                                      lambda job, deep: job.output, records):
                done.append(stop)
                frozen.append(gc.get_freeze_count() - before)
            alive = len(made)
    finally:
        gc.callbacks.remove(count)
    assert gc.isenabled()
    return {"done": done, "records": records, "frozen": frozen, "alive": alive,
            "collections": collections}


def test_render_ranges_freeze_what_they_keep_and_still_free_cyclic_garbage() -> None:
    """workers._claim_ranges (inside frozen_heap, as a parallel render is): the pages' kept
    objects are frozen after each range, so young collections do not keep walking them; a
    layout that makes reference cycles still has them freed, range by range."""
    jobs = [RenderJob(f"{i}.html", f"/{i}", "page", "page.html", (), ()) for i in range(400)]
    ranges = [(start, start + 4) for start in range(0, 400, 4)]  # 100 ranges
    for cyclic in (False, True):
        run = _render_ranges(jobs, ranges, lambda job, cyclic=cyclic: cyclic)
        assert run["done"][-1] == 400 and len(run["records"]) == 400
        # Each range's kept lists frozen as it ends, not only when the render does.
        assert run["frozen"][0] >= 4 and run["frozen"][-1] >= 400
        if cyclic:  # collected after every range, the last one included
            assert run["alive"] == 0 and len(run["collections"]) >= 100
        else:  # after ranges 1, 3, 7, 15, 31 and 63: nothing found, so less and less often
            assert run["collections"] == [0] * 6


def test_render_ranges_check_again_when_the_layout_changes() -> None:
    """Jobs run kind by kind. When the layout changes after a long run of ranges without
    garbage (the check interval at its longest), the first ranges of the new layout are
    checked: cycles that only its pages make are freed, not frozen."""
    jobs = [RenderJob(f"{i}.html", f"/{i}", "page", "article.html" if i < 260 else "tag.html",
                      (), ()) for i in range(400)]
    ranges = [(start, start + 2) for start in range(0, 400, 2)]  # 130 article ranges, then tags
    run = _render_ranges(jobs, ranges, lambda job: job.template == "tag.html")
    assert run["alive"] == 0
