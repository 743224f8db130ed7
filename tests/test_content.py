"""Unit tests for the load stage: content/**/*.md -> Documents, errors at the file's line."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import ROOT

from generator.config import SiteConfig, load_config
from generator.content import content_files, document_kind, key_line, load_document
from generator.errors import ContentError, SourceLocation
from generator.model import Document

ARTICLE = "content/articles/story.md"


def make_config(root: Path, timezone_name: str = "UTC") -> SiteConfig:
    root.mkdir(parents=True, exist_ok=True)
    text = (ROOT / "site.toml").read_text(encoding="utf-8")
    text = text.replace('timezone = "UTC"', f'timezone = "{timezone_name}"')
    (root / "site.toml").write_text(text, encoding="utf-8")
    return load_config(root)


@pytest.fixture
def config(tmp_path: Path) -> SiteConfig:
    return make_config(tmp_path / "site")


def load(config: SiteConfig, data: str | bytes, relative: str = ARTICLE) -> Document:
    path = config.root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return load_document(path, config)


def error(config: SiteConfig, data: str | bytes, relative: str = ARTICLE) -> ContentError:
    with pytest.raises(ContentError) as caught:
        load(config, data, relative)
    return caught.value


def front(*lines: str, body: str = "Body text.\n") -> str:
    return "---\n" + "".join(f"{line}\n" for line in lines) + "---\n\n" + body


TITLE, DATE = "title: A story", "date: 2016-04-21T09:30:00+00:00"


def assert_at(err: ContentError, line: int, relative: str = ARTICLE) -> None:
    assert err.location is not None
    assert (err.location.path, err.location.line) == (Path(relative), line), str(err)
    assert err.hint, str(err)


# --- a valid article ---------------------------------------------------------------------------


def test_full_article(config: SiteConfig) -> None:
    doc = load(config, front(
        'title: "Troops: the decision"',
        "date: 2016-04-21T09:30:00+02:00",
        "updated: 2016-04-22",
        "slug: troops-decision",
        "summary: The standfirst",
        "authors: [Jane Doe, John Roe]",
        "section: world",
        "tags: [Libya, NATO, Libya]",
        "image_credit: AP",
        "dateline: WASHINGTON",
        "source: seeds/000.txt",
        "source_sha256: abc",
        "ingest_checksum: def",
        "colour: blue",
        body="First *paragraph*.\n\nSecond one.\n",
    ))
    assert doc.path == Path(ARTICLE)
    assert doc.kind == "article"
    assert doc.slug == "troops-decision"
    meta = doc.meta
    assert meta.title == "Troops: the decision"
    assert meta.date == datetime(2016, 4, 21, 7, 30, tzinfo=UTC)
    assert meta.updated == datetime(2016, 4, 22, tzinfo=UTC)
    assert (meta.summary, meta.section, meta.image_credit) == ("The standfirst", "world", "AP")
    assert meta.authors == ("Jane Doe", "John Roe")
    assert meta.tags == ("Libya", "NATO")  # duplicates dropped, order kept
    assert (meta.dateline, meta.source, meta.draft) == ("WASHINGTON", "seeds/000.txt", False)
    # Free keys reach templates through `extra`; ingest's bookkeeping keys do not.
    assert meta.extra == (("colour", "blue"),)
    assert doc.html == "<p>First <em>paragraph</em>.</p>\n<p>Second one.</p>"
    assert doc.word_count == 4
    assert doc.reading_minutes == 1
    assert len(doc.sha256) == 64


def test_slug_defaults_to_the_file_name(config: SiteConfig) -> None:
    doc = load(config, front(TITLE, DATE), "content/articles/Libya Talks.md")
    assert doc.slug == "libya-talks"


def test_section_defaults_to_the_configured_default(config: SiteConfig) -> None:
    assert load(config, front(TITLE, DATE)).meta.section == "news"


def test_a_layout_is_named_with_or_without_html(config: SiteConfig) -> None:
    layouts = config.root / "layouts"
    layouts.mkdir()
    (layouts / "special.html").write_text("{{ page.title }}", encoding="utf-8")
    assert load(config, front(TITLE, DATE, "layout: special")).meta.layout == "special.html"
    assert load(config, front(TITLE, DATE, "layout: special.html")).meta.layout == "special.html"
    assert load(config, front(TITLE, DATE)).meta.layout == ""
    err = error(config, front(TITLE, DATE, "layout: feature"))
    assert_at(err, 4)
    assert "layout 'feature' not found: there is no layouts/feature.html" in str(err)
    assert err.hint == "create it, or use one of: special.html"


def test_a_key_written_twice_is_an_error_at_the_second(config: SiteConfig) -> None:
    err = error(config, front("title: Corrected headline", DATE, "title: Old headline"))
    assert_at(err, 4)
    assert "'title' is written twice (the first 'title' at line 2)" in str(err)
    assert err.hint == "delete one of the two lines"
    # Different keys, and the same key in two different mappings, are fine.
    doc = load(config, front(TITLE, DATE, "extra:", "  a: {x: 1}", "  b: {x: 2}"))
    assert dict(doc.meta.extra)["extra"] == {"a": {"x": 1}, "b": {"x": 2}}


def test_sample_article_loads() -> None:
    config = load_config(ROOT)
    [path] = (ROOT / "content" / "articles").glob("*.md")
    doc = load_document(path, config)
    assert doc.meta.title == "We will soon decide whether to Deploy American Troops in Libya"
    assert doc.meta.section == "world"
    assert doc.html.count("<p>") == 6
    # Escaped parentheses render as text.
    assert "Government of National Accord (GNA)" in doc.html


# --- front matter errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (front(TITLE, DATE, "summary: a: b"), 4),
        (front(TITLE, "summary: ok", DATE, "tags: [a, b", "dateline: x"), 6),
        (front(TITLE, "\tdate: 2016-04-21"), 3),
        (front('title: "unclosed', DATE), 2),
        ("\n\n" + front(TITLE, DATE, "summary: a: b"), 6),  # blank lines before the fence
        (front("", "", TITLE, "summary: a: b"), 5),  # blank lines inside the front matter
        (front(TITLE, DATE, "summary: a: b").replace("\n", "\r\n"), 4),
        ("\ufeff" + front(TITLE, DATE, "summary: a: b"), 4),
    ],
    ids=["colon", "unclosed-list", "tab", "unclosed-quote", "leading-blank-lines",
         "inner-blank-lines", "crlf", "bom"],
)
def test_malformed_yaml_names_the_markdown_line(config: SiteConfig, text: str, line: int) -> None:
    err = error(config, text)
    assert_at(err, line)
    assert err.message.startswith("malformed front matter: ")
    assert any(excerpt.startswith(">") and f" {line} |" in excerpt for excerpt in err.source_lines)
    assert str(err).startswith(f"{ARTICLE}:{line}:")


def test_unclosed_list_names_where_it_opened(config: SiteConfig) -> None:
    err = error(config, front(TITLE, DATE, "tags: [a, b", "summary: x"))
    assert "at line 4" in err.message  # the line holding the '['


def test_impossible_yaml_date_is_an_error_not_a_crash(config: SiteConfig) -> None:
    err = error(config, front(TITLE, "date: 2016-13-45"))
    assert_at(err, 3)
    assert "2016-13-45" in err.message


def test_front_matter_must_be_a_mapping(config: SiteConfig) -> None:
    err = error(config, front("- a", "- b"))
    assert_at(err, 2)
    assert err.message == "front matter must be a mapping of keys to values"


@pytest.mark.parametrize(
    "text",
    [
        front(DATE),
        front('title: ""', DATE),
        front("title:   ", DATE),
        front("title: [a]", DATE),
        "No front matter at all.\n",
        "---\n---\nBody\n",
    ],
)
def test_missing_title(config: SiteConfig, text: str) -> None:
    err = error(config, text)
    assert err.message == "missing or empty 'title'"
    assert err.location is not None and err.location.path == Path(ARTICLE)
    assert err.hint is not None and "title:" in err.hint


def test_missing_title_points_at_its_line_when_present(config: SiteConfig) -> None:
    assert_at(error(config, front(DATE, 'title: ""')), 3)


def test_missing_title_never_points_into_the_body(config: SiteConfig) -> None:
    err = error(config, front(DATE, body="title: looks like a key\n"))
    assert_at(err, 1)


def test_numeric_title_is_text(config: SiteConfig) -> None:
    assert load(config, front("title: 1984", DATE)).meta.title == "1984"


def test_article_needs_a_date(config: SiteConfig) -> None:
    err = error(config, front(TITLE, "summary: x"))
    assert err.message == "missing 'date'"
    assert err.location == SourceLocation(Path(ARTICLE), 1)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("yesterday", "unparseable date 'yesterday'"),
        ("'2016-04-31'", "unparseable date '2016-04-31'"),
        ("'21/04/2016'", "unparseable date '21/04/2016'"),
        ("20160421", "a date must be text or a YAML date, not int"),
        ("[2016]", "a date must be text or a YAML date, not list"),
        ("'9999-12-31T23:59:59-12:00'", "out of range"),
    ],
)
def test_unparseable_date(config: SiteConfig, value: str, message: str) -> None:
    err = error(config, front(TITLE, "summary: x", f"date: {value}"))
    assert_at(err, 4)
    assert message in err.message
    assert err.hint is not None and "ISO 8601" in err.hint


def test_bad_updated_date(config: SiteConfig) -> None:
    assert_at(error(config, front(TITLE, DATE, "updated: soon")), 4)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("tags: 5", "expected a list of names, not int 5"),
        ("tags: {a: 1}", "expected a list of names, not dict"),
        ("tags: [Libya, [NATO]]", "list items must be non-empty text"),
        ("tags: [Libya, '']", "list items must be non-empty text"),
        ("tags: [true]", "list items must be non-empty text"),
    ],
)
def test_bad_tags_point_at_the_tags_line(config: SiteConfig, line: str, message: str) -> None:
    err = error(config, front(TITLE, DATE, "summary: x", line))
    assert_at(err, 5)
    assert err.message.startswith(message)
    assert err.hint is not None and "tags: [" in err.hint


def test_tags_error_with_crlf_line_endings(config: SiteConfig) -> None:
    assert_at(error(config, front(TITLE, DATE, "tags: 5").replace("\n", "\r\n")), 4)


def test_single_tag_and_author_strings_become_lists(config: SiteConfig) -> None:
    doc = load(config, front(TITLE, DATE, "tags: Libya", "authors: Jane Doe"))
    assert (doc.meta.tags, doc.meta.authors) == (("Libya",), ("Jane Doe",))


def test_bad_authors(config: SiteConfig) -> None:
    assert_at(error(config, front(TITLE, DATE, "authors: {name: x}")), 4)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("section: weather", "unknown section 'weather'"),
        ("section: World", "unknown section 'World'"),
        ("section: [world]", "'section' must be a section slug, not list"),
        ("section: 5", "'section' must be a section slug, not int"),
    ],
)
def test_bad_section(config: SiteConfig, line: str, message: str) -> None:
    err = error(config, front(TITLE, DATE, line))
    assert_at(err, 4)
    assert err.message == message


def test_unknown_section_hint_lists_the_sections(config: SiteConfig) -> None:
    err = error(config, front(TITLE, DATE, "section: weather"))
    assert err.hint is not None
    assert "business, news, politics, science, sport, world" in err.hint
    assert "[sections.weather]" in err.hint


@pytest.mark.parametrize(("line", "key"), [("summary: [a]", "summary"), ("image: {a: 1}", "image"),
                                           ("draft: maybe", "draft"), ("slug: [a]", "slug")])
def test_wrong_types(config: SiteConfig, line: str, key: str) -> None:
    err = error(config, front(TITLE, DATE, line))
    assert_at(err, 4)
    assert f"'{key}'" in err.message


def test_nested_key_of_the_same_name_is_not_blamed(config: SiteConfig) -> None:
    err = error(config, front(TITLE, DATE, "extra:", "  tags: fine", "tags: 5"))
    assert_at(err, 6)


# --- file-level problems -----------------------------------------------------------------------


def test_non_utf8_body(config: SiteConfig) -> None:
    err = error(config, front(TITLE, DATE, body="Caf").encode() + b"\xe9 noir\n")
    assert_at(err, 6)
    assert err.message.startswith("not valid UTF-8 (byte ")


@pytest.mark.parametrize("data", [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
                                  b"---\ntitle: x\x00\n---\n"])
def test_binary_file(config: SiteConfig, data: bytes) -> None:
    err = error(config, data)
    assert err.message == "binary file in content/"
    assert err.location == SourceLocation(Path(ARTICLE))
    assert err.hint


def test_unreadable_file(config: SiteConfig) -> None:
    path = config.root / ARTICLE
    path.parent.mkdir(parents=True)
    path.mkdir()  # a folder named *.md cannot be read as a file
    with pytest.raises(ContentError) as caught:
        load_document(path, config)
    assert caught.value.message.startswith("cannot read file")


def test_content_files_are_sorted_and_skip_hidden_and_folders(config: SiteConfig) -> None:
    for name in ("b.md", "a.md", ".draft.md", "notes.txt", "pages/about.md", "x/y/deep.md"):
        path = config.root / "content" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x", encoding="utf-8")
    (config.root / "content" / "folder.md").mkdir()
    found = [p.relative_to(config.root / "content").as_posix() for p in content_files(config.root)]
    assert found == ["a.md", "b.md", "pages/about.md", "x/y/deep.md"]


# --- slugs -------------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", ["a/b", "../escape", "..", "a\\\\b", "/etc/passwd"])
def test_slug_that_builds_a_path_is_refused(config: SiteConfig, slug: str) -> None:
    err = error(config, front(TITLE, DATE, "summary: x", f'slug: "{slug}"'))
    assert_at(err, 5)
    assert err.message.startswith("slug ") and "may not contain" in err.message


@pytest.mark.parametrize(("slug", "expected"), [("Hello World", "hello-world"), ("con", "con-1"),
                                                ("2016", "2016"), ("Ünïcödé", "unicode")])
def test_slug_is_normalised(config: SiteConfig, slug: str, expected: str) -> None:
    assert load(config, front(TITLE, DATE, f"slug: {slug}")).slug == expected


# --- drafts and dates --------------------------------------------------------------------------


def test_draft_flag(config: SiteConfig) -> None:
    assert load(config, front(TITLE, DATE, "draft: true")).meta.draft is True
    assert load(config, front(TITLE, DATE, "draft: false")).meta.draft is False
    assert load(config, front(TITLE, DATE)).meta.draft is False


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # YAML dates and date-times (unquoted) and strings (quoted) read the same.
        ("2016-04-21", datetime(2016, 4, 21, tzinfo=ZoneInfo("America/New_York"))),
        ("'2016-04-21'", datetime(2016, 4, 21, tzinfo=ZoneInfo("America/New_York"))),
        ("2016-04-21 09:30:00", datetime(2016, 4, 21, 9, 30, tzinfo=ZoneInfo("America/New_York"))),
        ("'2016-04-21T09:30'", datetime(2016, 4, 21, 9, 30, tzinfo=ZoneInfo("America/New_York"))),
        ("2016-04-21T09:30:00Z", datetime(2016, 4, 21, 9, 30, tzinfo=UTC)),
        ("'2016-04-21T09:30:00Z'", datetime(2016, 4, 21, 9, 30, tzinfo=UTC)),
        ("2016-04-21T09:30:00+02:00",
         datetime(2016, 4, 21, 9, 30, tzinfo=timezone(timedelta(hours=2)))),
        ("'2016-04-21T09:30:00+02:00'",
         datetime(2016, 4, 21, 9, 30, tzinfo=timezone(timedelta(hours=2)))),
    ],
)
def test_dates_get_the_site_time_zone(tmp_path: Path, value: str, expected: datetime) -> None:
    config = make_config(tmp_path / "ny", "America/New_York")
    date = load(config, front(TITLE, f"date: {value}")).meta.date
    assert date == expected  # the same instant...
    assert date is not None and date.tzinfo == ZoneInfo("America/New_York")  # ...in the site zone


def test_naive_date_in_summer_time(tmp_path: Path) -> None:
    config = make_config(tmp_path / "ny", "America/New_York")
    date = load(config, front(TITLE, "date: 2016-07-01 12:00:00")).meta.date
    assert date is not None and date.isoformat() == "2016-07-01T12:00:00-04:00"


# --- pages -------------------------------------------------------------------------------------


def test_pages_live_in_content_pages(config: SiteConfig) -> None:
    doc = load(config, front("title: About us", "summary: Who we are"), "content/pages/about.md")
    assert doc.kind == "page"
    assert doc.slug == "about"
    assert doc.meta.date is None  # pages need no date
    assert doc.meta.section == ""


def test_page_may_have_any_section_name(config: SiteConfig) -> None:
    doc = load(config, front("title: About", "section: nowhere"), "content/pages/about.md")
    assert doc.meta.section == "nowhere"


def test_project_about_page() -> None:
    doc = load_document(ROOT / "content" / "pages" / "about.md", load_config(ROOT))
    assert (doc.kind, doc.slug, doc.meta.title) == ("page", "about", "About us")
    assert "<strong>The Daily Seed</strong>" in doc.html


@pytest.mark.parametrize(
    ("relative", "kind"),
    [("content/pages/about.md", "page"), ("content/pages/team/jobs.md", "page"),
     ("content/articles/x.md", "article"), ("content/x.md", "article")],
)
def test_document_kind(relative: str, kind: str) -> None:
    assert document_kind(Path(relative)) == kind


def test_key_line() -> None:
    text = front(TITLE, DATE, "tags: [a]", body="tags: not this one\n")
    assert key_line(text, "tags") == 4
    assert key_line(text, "summary") == 1
    assert key_line("tags: 1\n", "tags") == 1


def test_copy_of_project_content_loads(tmp_path: Path) -> None:
    # Every file shipped in content/ is valid.
    config = make_config(tmp_path / "copy")
    shutil.copytree(ROOT / "content", config.root / "content")
    docs = [load_document(p, config) for p in content_files(config.root)]
    assert {d.kind for d in docs} == {"article", "page"}
