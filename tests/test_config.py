"""Unit tests for the config stage: site.toml -> SiteConfig, and every error at the key's line."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import ROOT

from generator.config import (
    FeedSettings,
    Section,
    SiteConfig,
    load_config,
    og_locale,
    parse_config,
)
from generator.errors import ConfigError, SourceLocation

BASE = 'title = "T"\nbase_url = "https://example.org/news/"\n'  # lines 1-2; tests add line 3+


def config_of(text: str, root: Path = Path("/site")) -> SiteConfig:
    return parse_config(text, root)


def error_of(text: str, root: Path = Path("/site")) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, root)
    return caught.value


def assert_at(err: ConfigError, line: int, root: Path = Path("/site")) -> None:
    assert err.location is not None
    assert (err.location.path, err.location.line) == (root / "site.toml", line), str(err)


# --- valid files -------------------------------------------------------------------------------


def test_project_site_toml_values() -> None:
    config = load_config(ROOT)
    assert config.title == "The Daily Seed"
    assert config.base_url == "https://example.github.io/news/"
    assert config.language == "en"
    assert config.timezone == "UTC"
    assert config.permalink == "/{year}/{month}/{slug}/"
    assert config.paginate == 10
    assert config.archive_paginate == 50
    assert config.default_section == "news"
    assert config.output == "public"
    assert config.output_dir == ROOT / "public"
    assert config.path == ROOT / "site.toml"
    assert config.feeds == FeedSettings(rss=True, atom=True, json=True, limit=20)
    assert [s.slug for s in config.sections] == [
        "world", "politics", "business", "science", "sport", "news"]
    assert config.section("science") == Section(
        "science", "Science & Tech",
        ("research", "scientists", "study", "technology", "software", "space", "climate"))


def test_every_key_is_read() -> None:
    config = config_of(
        'title = "Daily"\n'
        'description = "All the news"\n'
        'base_url = "https://example.org/"\n'
        'language = "fr"\n'
        'timezone = "Europe/Paris"\n'
        'permalink = "/{section}/{year}/{month}/{day}/{slug}/"\n'
        "paginate = 25\n"
        'default_section = "general"\n'
        'cname = "news.example.org"\n'
        'output = "dist/site"\n'
        'publisher = "Daily Ltd"\n'
        'logo = "logo.svg"\n'
        "words_per_minute = 200\n"
        "related = 0\n"
        "search = false\n"
        "[feeds]\nrss = false\natom = true\njson = false\nlimit = 5\nfull_content = false\n"
        '[sections.world]\ntitle = "World"\nkeywords = ["Libya", "NATO"]\n'
        "[sections.general]\n"
    )
    assert config == SiteConfig(
        root=Path("/site"), title="Daily", description="All the news",
        base_url="https://example.org/", language="fr", timezone="Europe/Paris",
        permalink="/{section}/{year}/{month}/{day}/{slug}/", paginate=25,
        default_section="general",
        sections=(Section("world", "World", ("Libya", "NATO")), Section("general", "General", ())),
        feeds=FeedSettings(rss=False, atom=True, json=False, limit=5, full_content=False),
        cname="news.example.org", output="dist/site", publisher="Daily Ltd", logo="logo.svg",
        words_per_minute=200, related=0, search=False,
    )
    assert config.tz == ZoneInfo("Europe/Paris")


def test_defaults() -> None:
    config = config_of('title = "T"\nbase_url = "https://example.org/"\n')
    assert (config.description, config.language, config.timezone) == ("", "en", "UTC")
    assert config.permalink == "/{year}/{month}/{slug}/"
    assert (config.paginate, config.words_per_minute, config.related) == (10, 230, 4)
    assert (config.default_section, config.output, config.cname) == ("news", "public", "")
    assert config.sections == ()
    assert config.feeds == FeedSettings()
    # A section that is not configured still has a name for templates.
    assert config.section("foreign-news") == Section("foreign-news", "Foreign News", ())


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("https://example.github.io/news", "https://example.github.io/news/"),
        ("https://example.github.io/news/", "https://example.github.io/news/"),
        ("https://example.org", "https://example.org/"),
        ("http://127.0.0.1:8000/a/b", "http://127.0.0.1:8000/a/b/"),
    ],
)
def test_base_url_gets_a_trailing_slash(written: str, normalised: str) -> None:
    assert config_of(f'title = "T"\nbase_url = "{written}"\n').base_url == normalised


def test_quoted_and_dotted_keys_are_accepted() -> None:
    config = config_of('"title" = "T"\nbase_url = "https://example.org/"\nfeeds.rss = false\n')
    assert config.title == "T"
    assert config.feeds.rss is False


# --- syntax errors -----------------------------------------------------------------------------


def test_invalid_toml_names_line_and_column() -> None:
    err = error_of(BASE + "paginate = \n")
    assert err.location == SourceLocation(Path("/site/site.toml"), 3, 12)
    assert err.message.startswith("invalid TOML: ")
    assert "at line" not in err.message  # the position is in the location, not repeated
    assert err.hint
    assert "> 3 | paginate = " in err.source_lines
    assert str(err).startswith("/site/site.toml:3:12: error: invalid TOML")


def test_invalid_toml_at_the_end_of_the_file_names_its_last_line() -> None:
    """tomllib reports no position for an error at the end of the document (an array never
    closed): the last line is named, with a hint about what was opened earlier."""
    err = error_of(BASE + "tags = [\n  \"a\",\n")
    last = len((BASE + "tags = [\n  \"a\",\n").splitlines())
    assert err.location == SourceLocation(Path("/site/site.toml"), last, None)
    assert "never closed" in err.hint
    assert f"> {last} |" in "\n".join(err.source_lines)
    assert str(err).startswith(f"/site/site.toml:{last}: error: invalid TOML")


def test_invalid_toml_unclosed_string() -> None:
    err = error_of('title = "T"\n\nbase_url = "https://example.org/\n')
    assert err.location is not None and err.location.line == 3
    assert err.location.column is not None


def test_duplicate_key_is_a_syntax_error() -> None:
    err = error_of(BASE + 'title = "Again"\n')
    assert err.location is not None and err.location.line == 3


def test_missing_site_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert caught.value.message == "site.toml not found"
    assert caught.value.location == SourceLocation(tmp_path / "site.toml")
    assert caught.value.hint is not None and "--root" in caught.value.hint


def test_site_toml_that_is_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "site.toml").write_bytes(b'title = "Caf\xe9"\nbase_url = "https://x.org/"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert "UTF-8" in caught.value.message


@pytest.mark.parametrize("key", ["title", "base_url"])
def test_required_keys(key: str) -> None:
    text = "\n".join(line for line in BASE.splitlines() if not line.startswith(key))
    err = error_of(text)
    assert err.message == f"missing required key '{key}'"
    assert err.hint is not None and key in err.hint


# --- unknown keys and wrong types --------------------------------------------------------------


def test_unknown_key_points_at_its_line_with_a_suggestion() -> None:
    err = error_of(BASE + "\n# comment\npagniate = 3\n")
    assert_at(err, 5)
    assert err.message == "unknown key 'pagniate'"
    assert err.hint == "did you mean 'paginate'?"
    assert "> 5 | pagniate = 3" in err.source_lines


def test_unknown_key_without_a_close_match_lists_known_keys() -> None:
    err = error_of(BASE + "colour = 3\n")
    assert_at(err, 3)
    assert err.hint is not None and err.hint.startswith("known keys: title, description")


@pytest.mark.parametrize(
    ("text", "line", "name", "suggestion"),
    [
        (BASE + "[feeds]\nrss = true\nrsss = true\n", 5, "feeds.rsss", "rss"),
        (BASE + '[sections.world]\ntitle = "World"\nkeyword = []\n', 5,
         "sections.world.keyword", "keywords"),
        (BASE + "[feeds]\nlimmit = 3\n", 4, "feeds.limmit", "limit"),
    ],
)
def test_unknown_key_in_a_table(text: str, line: int, name: str, suggestion: str) -> None:
    err = error_of(text)
    assert_at(err, line)
    assert err.message == f"unknown key '{name}'"
    assert err.hint == f"did you mean '{suggestion}'?"


@pytest.mark.parametrize(
    ("lines", "line", "message"),
    [
        ('paginate = "ten"', 3, "'paginate' must be a whole number, not str 'ten'"),
        ("paginate = true", 3, "'paginate' must be a whole number, not bool True"),
        ("paginate = 2.5", 3, "'paginate' must be a whole number, not float 2.5"),
        ("related = false", 3, "'related' must be a whole number, not bool False"),
        ("search = 1", 3, "'search' must be true or false, not int 1"),
        ("title2 = 1\n", 3, "unknown key 'title2'"),
        ('language = ["en"]', 3, "'language' must be a language tag such as 'en', not list"),
        ('language = "english please"', 3, "language 'english please' is not a language tag"),
        ('language = "en_GB"', 3, "language 'en_GB' is not a language tag"),
        ('language = "english"', 3, "language 'english' is not a language tag"),
        ('language = "\u017Fv"', 3, "language '\u017fv' is not a language tag"),  # long s
        ("[feeds]\nrss = 1", 4, "'feeds.rss' must be true or false, not int 1"),
        ("feeds.rss = 1", 3, "'feeds.rss' must be true or false, not int 1"),
        ("\nfeeds = { atom = true, rss = 1 }", 4, "'feeds.rss' must be true or false, not int 1"),
        ('[feeds]\nlimit = "20"', 4, "'feeds.limit' must be a whole number, not str '20'"),
        ('sections = "world"', 3, "'sections' must be a table of sections, not str"),
        ("[sections.world]\ntitle = 3", 4, "'sections.world.title' must be a string, not int 3"),
    ],
)
def test_wrong_types_point_at_the_key(lines: str, line: int, message: str) -> None:
    err = error_of(BASE + lines + "\n")
    assert_at(err, line)
    assert err.message.startswith(message)
    assert err.hint


@pytest.mark.parametrize(
    ("lines", "line", "message"),
    [
        ("paginate = 0", 3, "'paginate' must be at least 1, not 0"),
        ("archive_paginate = 0", 3, "'archive_paginate' must be at least 1, not 0"),
        ("words_per_minute = -5", 3, "'words_per_minute' must be at least 1, not -5"),
        ("related = -1", 3, "'related' must be at least 0, not -1"),
        ("[feeds]\nlimit = 0", 4, "feeds.limit must be at least 1"),
    ],
)
def test_numbers_out_of_range(lines: str, line: int, message: str) -> None:
    err = error_of(BASE + lines + "\n")
    assert_at(err, line)
    assert err.message == message


# --- values ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["example.org", "ftp://example.org/", "https://", "/news/", "https://example.org/?q=1",
     "https://example.org/#top", ""],
)
def test_bad_base_url(url: str) -> None:
    err = error_of(f'title = "T"\n\nbase_url = "{url}"\n')
    assert_at(err, 3)
    assert err.message == f"base_url {url!r} is not an absolute http(s) URL"
    assert err.hint is not None and "https://" in err.hint


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "../../etc/passwd", "utc+2", "/UTC"])
def test_bad_timezone(zone: str) -> None:
    err = error_of(BASE + f'timezone = "{zone}"\n')
    assert_at(err, 3)
    assert err.message == f"unknown time zone {zone!r}"
    assert err.hint is not None and "IANA" in err.hint


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("/{year}/{month}/", "it must contain {slug}"),
        ("/{year}/{foo}/{slug}/", "unknown field(s) foo"),
        ("/{slug}/{0}/", "unknown field(s) 0"),
        ("/../{slug}/", "it must not contain '..'"),
        ("/{year}/..{slug}/", "it must not contain '..'"),
        ("/{year}//{slug}/", "it must not contain '..', '\\' or '//'"),
        ("{year}/{slug}", "it must start and end with '/'"),
        ("/{slug}", "it must start and end with '/'"),
        ("/{slug}/}/", "braces must only wrap field names"),
        ("/{slug!r}/", "it must contain {slug}"),
    ],
)
def test_bad_permalink(pattern: str, problem: str) -> None:
    err = error_of(BASE + "\n" + f'permalink = "{pattern.replace(chr(92), chr(92) * 2)}"\n')
    assert_at(err, 4)
    assert err.message.startswith(f"bad permalink pattern {pattern!r}: ")
    assert problem in err.message
    assert err.hint is not None and "{slug}" in err.hint


@pytest.mark.parametrize("pattern", ["/{slug}/", "/{section}/{slug}/",
                                     "/{year}/{month}/{day}/{slug}/", "/news/{year}/{slug}/"])
def test_good_permalinks(pattern: str) -> None:
    assert config_of(BASE + f'permalink = "{pattern}"\n').permalink == pattern


@pytest.mark.parametrize(
    "output",
    [".", "..", "/", "", "content", "content/", "./content", "public/../content", "layouts",
     "layouts/static", "seeds", "site.toml", ".git", "/tmp/public", "../public"],
)
def test_dangerous_output_folders_are_refused(output: str, tmp_path: Path) -> None:
    (tmp_path / "content").mkdir()
    err = error_of(BASE + f'output = "{output}"\n', tmp_path)
    assert_at(err, 3, tmp_path)
    assert err.message == f"refusing output folder {output!r}: the build replaces it entirely"
    assert err.hint is not None and "public" in err.hint


def test_output_folder_holding_a_project_is_refused(tmp_path: Path) -> None:
    (tmp_path / "sub" / "content").mkdir(parents=True)
    err = error_of(BASE + 'output = "sub"\n', tmp_path)
    assert "refusing output folder 'sub'" in err.message


@pytest.mark.parametrize("output", ["public", "dist", "build/site", "_site"])
def test_safe_output_folders(output: str, tmp_path: Path) -> None:
    config = config_of(BASE + f'output = "{output}"\n', tmp_path)
    assert config.output_dir == (tmp_path / output).resolve()


def test_default_section_must_be_a_slug() -> None:
    err = error_of(BASE + 'default_section = "Top Stories"\n')
    assert_at(err, 3)
    assert err.message == "'default_section' 'Top Stories' is not a slug"


@pytest.mark.parametrize("cname", ["https://news.example.org", "news.example.org/", "localhost",
                                   "news example.org"])
def test_cname_must_be_a_bare_domain(cname: str) -> None:
    err = error_of(BASE + f'cname = "{cname}"\n')
    assert_at(err, 3)
    assert err.message == f"cname {cname!r} is not a bare domain name"


# --- sections ----------------------------------------------------------------------------------


def test_sections_keep_file_order_and_default_titles() -> None:
    config = config_of(BASE + '[sections.sport]\nkeywords = ["match"]\n'
                       '[sections.world-news]\ntitle = "World"\n')
    assert config.sections == (Section("sport", "Sport", ("match",)),
                               Section("world-news", "World", ()))


@pytest.mark.parametrize(
    ("lines", "line", "message"),
    [
        ('[sections.World]\ntitle = "W"', 3, "section name 'World' is not a slug"),
        ('\n[sections."world news"]\ntitle = "W"', 4, "section name 'world news' is not a slug"),
        ("[sections]\nworld = 1", 4, "sections.world must be a table"),
        ("sections = { world = 1 }", 3, "sections.world must be a table"),
        ('[sections.world]\ntitle = "W"\nkeywords = ["Libya", 3]', 5,
         "sections.world.keywords must be a list of strings"),
        ('[sections.world]\nkeywords = "Libya"', 4,
         "'sections.world.keywords' must be a list of strings, not str"),
    ],
)
def test_bad_sections(lines: str, line: int, message: str) -> None:
    err = error_of(BASE + lines + "\n")
    assert_at(err, line)
    assert err.message.startswith(message)


@pytest.mark.parametrize(("language", "locale"), [
    ("en", ""), ("en-GB", "en_GB"), ("pt-br", "pt_BR"), ("zh-Hant-TW", "zh_TW"), ("es-419", ""),
    ("sr-Latn", ""), ("de-CH-1996", "de_CH"), ("en-u-ca-gregory", ""), ("en-x-gb", ""),
    ("zh-yue-HK", "zh_HK")])
def test_language_tags_and_their_open_graph_locale(language: str, locale: str) -> None:
    config = config_of(BASE + f'language = "{language}"\n')
    assert config.language == language
    assert og_locale(language) == locale



def test_a_language_written_with_an_underscore_gets_the_hyphenated_tag_as_hint() -> None:
    err = error_of(BASE + 'language = "en_GB"\n')
    assert_at(err, 3)
    assert err.hint == "write 'en-GB': language tags join their parts with '-'"
