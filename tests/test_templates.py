"""Layout errors reported at the right place, and fingerprinted static assets.

A broken partial is named with its own path and line (never the page that included it); a missing
template, an include loop and an unknown asset also exit 1 with a hint, and leave the previously
published site exactly as it was.
"""

from __future__ import annotations

import hashlib
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import run_cli
from htmlutil import parse
from sitefactory import NOW, Article, build, write_project

ARTICLES = [Article(f"story-{n}", f"Story {n}", NOW - timedelta(days=n + 1), section="world",
                    tags=("Libya",), authors=("Ann Reporter",)) for n in range(3)]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_project(tmp_path_factory.mktemp("templates") / "site", ARTICLES)
    build(root)
    return root


@pytest.fixture
def site(built: Path, tmp_path: Path) -> Path:
    """A copy of a small built project, so failures can be checked against the published site."""
    return Path(shutil.copytree(built, tmp_path / "site", symlinks=True))


def snapshot(public: Path) -> dict[str, bytes]:
    return {p.relative_to(public).as_posix(): p.read_bytes()
            for p in sorted(public.rglob("*")) if p.is_file()}


def insert_line(path: Path, number: int, text: str) -> None:
    """Make `text` line `number` (1-based) of `path`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(number - 1, text)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def failed_build(root: Path) -> list[str]:
    """Build, expect exit code 1 and the published site untouched; return stderr's lines."""
    before = snapshot(root / "public")
    result = run_cli(root, "build")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(root / "public") == before, "a failed build changed public/"
    lines = result.stderr.splitlines()
    assert any(line.strip().startswith("hint:") for line in lines), result.stderr
    return lines


def test_syntax_error_in_a_partial_names_the_partial_and_line(site: Path) -> None:
    insert_line(site / "layouts" / "partials" / "card.html", 4, "{% if %}")
    lines = failed_build(site)
    assert lines[0].startswith("layouts/partials/card.html:4: error: template syntax error"), lines
    assert any("> 4 | {% if %}" in line for line in lines)  # the offending source line


def test_undefined_variable_in_a_partial_names_the_partial_and_line(site: Path) -> None:
    insert_line(site / "layouts" / "partials" / "card.html", 3, "{{ no_such_variable }}")
    lines = failed_build(site)
    assert lines[0].startswith("layouts/partials/card.html:3: error:"), lines
    assert "undefined" in lines[0] and "no_such_variable" in lines[0]


def test_undefined_attribute_in_a_partial_included_by_the_base_layout(site: Path) -> None:
    insert_line(site / "layouts" / "partials" / "footer.html", 2, "{{ site.no_such_key.x }}")
    lines = failed_build(site)
    assert lines[0].startswith("layouts/partials/footer.html:2: error:"), lines
    assert "no_such_key" in lines[0]


def test_missing_partial_names_the_including_template(site: Path) -> None:
    insert_line(site / "layouts" / "index.html", 3, '{% include "partials/missing.html" %}')
    lines = failed_build(site)
    assert lines[0] == "layouts/index.html:3: error: template not found: partials/missing.html"
    assert any("partials/missing.html" in line for line in lines if "hint:" in line)


def test_missing_page_template(site: Path) -> None:
    (site / "layouts" / "tag.html").unlink()
    lines = failed_build(site)
    assert lines[0].startswith("layouts/tag.html: error: template not found: tag.html"), lines


def test_include_loop_is_reported_not_a_crash(site: Path) -> None:
    card = site / "layouts" / "partials" / "card.html"
    insert_line(card, 3, '{% include "partials/card.html" %}')
    lines = failed_build(site)
    assert lines[0].startswith("layouts/partials/card.html:3: error: include or extends loop"), lines
    assert "layouts/partials/card.html -> layouts/partials/card.html" in lines[0]


def test_include_loop_through_two_partials(site: Path) -> None:
    partials = site / "layouts" / "partials"
    (partials / "a.html").write_text('{% include "partials/b.html" %}\n', encoding="utf-8")
    (partials / "b.html").write_text('b\n{% include "partials/a.html" %}\n', encoding="utf-8")
    insert_line(partials / "footer.html", 1, '{% include "partials/a.html" %}')
    lines = failed_build(site)
    assert "loop" in lines[0] and "partials/a.html" in lines[0] and "partials/b.html" in lines[0]


def test_extends_loop_is_reported(site: Path) -> None:
    insert_line(site / "layouts" / "base.html", 1, '{% extends "index.html" %}')
    lines = failed_build(site)
    assert "loop" in lines[0] and "layouts/base.html" in lines[0], lines


def test_unknown_asset_names_the_template_line(site: Path) -> None:
    head = site / "layouts" / "partials" / "head.html"
    insert_line(head, 2, "<link rel=\"preload\" href=\"{{ asset_url('missing.woff2') }}\">")
    lines = failed_build(site)
    assert lines[0].startswith("layouts/partials/head.html:2: error:"), lines
    assert "missing.woff2" in lines[0]


def test_a_late_template_error_leaves_every_published_page_unchanged(site: Path) -> None:
    # A new site title changes every page; the search page (inside its main block) fails late.
    config = site / "site.toml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        'title = "The Daily Seed"', 'title = "Renamed Daily"'), encoding="utf-8")
    insert_line(site / "layouts" / "search.html", 5, "{{ no_such_variable }}")
    lines = failed_build(site)
    assert lines[0].startswith("layouts/search.html:5: error:"), lines
    assert not any(b"Renamed Daily" in data for data in snapshot(site / "public").values())


def test_a_fixed_template_builds_again(site: Path) -> None:
    card = site / "layouts" / "partials" / "card.html"
    good = card.read_text(encoding="utf-8")
    insert_line(card, 4, "{% if %}")
    failed_build(site)
    card.write_text(good, encoding="utf-8")
    build(site)


# --- static assets ----------------------------------------------------------------------------


def stylesheets(public: Path) -> set[str]:
    hrefs = set()
    for path in public.rglob("*.html"):
        doc = parse(path.read_text(encoding="utf-8"))
        hrefs |= {link.get("href") or "" for link in doc.find_all("link", rel="stylesheet")}
    return hrefs


def test_static_assets_get_content_hashed_names(site: Path) -> None:
    public = site / "public"
    for name in ("style.css", "favicon.svg"):
        data = (site / "layouts" / "static" / name).read_bytes()
        stem, suffix = name.rsplit(".", 1)
        hashed = f"static/{stem}.{hashlib.sha256(data).hexdigest()[:8]}.{suffix}"
        assert (public / hashed).read_bytes() == data
        assert not (public / "static" / name).exists()
    digest = hashlib.sha256((site / "layouts/static/style.css").read_bytes()).hexdigest()[:8]
    assert stylesheets(public) == {f"/news/static/style.{digest}.css"}


def test_changing_the_stylesheet_changes_its_name_everywhere(site: Path) -> None:
    public = site / "public"
    [old] = stylesheets(public)
    style = site / "layouts" / "static" / "style.css"
    style.write_text(style.read_text(encoding="utf-8") + "\n.extra { color: red; }\n",
                     encoding="utf-8")
    build(site)
    [new] = stylesheets(public)
    assert new != old
    assert (public / new.removeprefix("/news/")).read_bytes() == style.read_bytes()
    assert not (public / old.removeprefix("/news/")).exists()


def test_cached_date_filters_keep_equal_instants_in_different_zones_apart() -> None:
    """datefmt and iso cache their strings; equal aware datetimes in other zones (the two sides
    of a DST fold, two names for one offset) compare equal, and must still format as themselves."""
    from datetime import UTC, datetime, timedelta, timezone
    from zoneinfo import ZoneInfo

    from generator.templates import DateFormats

    dates = DateFormats()
    _datefmt, _iso = dates.datefmt, dates.iso
    utc = datetime(2020, 1, 1, 12, tzinfo=UTC)
    paris = utc.astimezone(ZoneInfo("Europe/Paris"))
    assert utc == paris
    assert [_datefmt(utc, "%H:%M %z"), _datefmt(paris, "%H:%M %z")] == ["12:00 +0000",
                                                                         "13:00 +0100"]
    assert _iso(paris) == "2020-01-01T13:00:00+01:00"
    summer = datetime(2020, 10, 25, 1, 30, tzinfo=ZoneInfo("Europe/London"))
    winter = summer.replace(fold=1)
    assert summer == winter
    assert [_datefmt(summer, "%H:%M %Z"), _datefmt(winter, "%H:%M %Z")] == ["01:30 BST",
                                                                            "01:30 GMT"]
    assert [_iso(summer), _iso(winter)] == ["2020-10-25T01:30:00+01:00",
                                            "2020-10-25T01:30:00+00:00"]
    named = datetime(2024, 1, 1, 12, tzinfo=timezone(timedelta(hours=1), "CET"))
    unnamed = named.replace(tzinfo=timezone(timedelta(hours=1)))
    assert named == unnamed and hash(named.tzinfo) == hash(unnamed.tzinfo)
    assert [_datefmt(named, "%H:%M %Z"), _datefmt(unnamed, "%H:%M %Z")] == ["12:00 CET",
                                                                            "12:00 UTC+01:00"]
    with pytest.raises(AttributeError):  # not a date: the error strftime itself gives
        _datefmt(["2024"])  # type: ignore[arg-type]


def test_date_cache_reuses_strings_and_starts_over_at_its_limit() -> None:
    """The date filters' cache returns the string it made (no new formatting per page), and
    past its limit starts over instead of growing: every answer stays right either way."""
    from datetime import UTC, datetime, timedelta

    from generator.templates import DateFormats

    dates = DateFormats(limit=3)
    first = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
    assert dates.iso(first) is dates.iso(first)  # isoformat() itself makes a new string
    days = [first + timedelta(days=n) for n in range(10)]
    assert [dates.datefmt(day) for day in days] == [f"{n} May 2024" for n in range(1, 11)]
    assert len(dates._strings) <= 3
    assert [dates.iso(day) for day in days] == [day.isoformat() for day in days]


def test_template_mappings_read_as_attributes_and_items_alike() -> None:
    """`site`, `page` and `pagination` are AttrDicts: a key set after creation (as the context
    builder sets page titles) reads the same as an attribute, an item, or through Jinja."""
    import jinja2

    from generator.context import AttrDict

    page = AttrDict({"title": "Front"})
    page["title"] = "Tag: NATO"
    page["feeds"] = AttrDict(rss="/rss.xml")
    assert page.title == page["title"] == "Tag: NATO"
    assert dict(page.items()) == {"title": "Tag: NATO", "feeds": {"rss": "/rss.xml"}}
    template = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(
        "{{ page.title }}|{{ page['title'] }}|{{ page.feeds.rss }}|"
        "{% for k, v in page.feeds.items() %}{{ k }}={{ v }}{% endfor %}|{{ page.get('x', 1) }}")
    assert template.render(page=page) == "Tag: NATO|Tag: NATO|/rss.xml|rss=/rss.xml|1"
    with pytest.raises(jinja2.UndefinedError):
        jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(
            "{{ page.missing }}").render(page=page)
    import copy
    import pickle

    for twin in (copy.copy(page), copy.deepcopy(page), pickle.loads(pickle.dumps(page))):
        twin["title"] = "changed"
        assert (type(twin), twin.title, twin.feeds.rss) == (AttrDict, "changed", "/rss.xml")
    assert page.title == "Tag: NATO"


def test_template_mappings_keep_attributes_equal_to_items_and_are_no_reference_cycle() -> None:
    """Every way of changing an AttrDict changes what reads as an attribute; and one that is
    no longer used is freed at once (a reference cycle would wait for the cyclic collector,
    which every page's `page` used to keep busy)."""
    import gc
    import weakref

    from generator.context import AttrDict

    page = AttrDict(a=1, b=2)
    page.update(c=3)
    page |= {"d": 4}
    page.e = 5  # an attribute set is a key set
    assert page.setdefault("f", 6) == 6 and page.pop("a") == 1
    del page["b"]
    assert dict(page) == {"c": 3, "d": 4, "e": 5, "f": 6}
    assert {k: getattr(page, k) for k in "cdef"} == dict(page)
    assert not any(hasattr(page, k) for k in "ab")
    key, value = page.popitem()
    assert not hasattr(page, key) and value == 6
    del page.e  # an attribute deleted is a key deleted
    assert "e" not in page and not hasattr(page, "e")
    with pytest.raises(AttributeError):
        del page.e
    with pytest.raises(ValueError):  # fails after adding "x": the mirror still follows
        page.update([("x", 1), "bad"])
    with pytest.raises(ValueError):
        page |= [("y", 2), ("z",)]  # type: ignore[list-item]
    assert {k: getattr(page, k) for k in page} == dict(page) and page.x == page.y - 1 == 1
    page.clear()
    assert not hasattr(page, "c") and page == {}
    enabled = gc.isenabled()
    gc.disable()
    try:
        made = AttrDict(title="x", pagination=AttrDict(page=1))
        gone = weakref.ref(made), weakref.ref(made["pagination"])
        del made
        assert [ref() for ref in gone] == [None, None]  # freed by reference counting alone
    finally:
        if enabled:
            gc.enable()
