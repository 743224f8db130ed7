"""Config stage: site.toml -> a frozen, validated `SiteConfig`.

Unknown keys, wrong types and impossible values are `ConfigError`s pointing at the key's line in
site.toml (tomllib only reports syntax errors with a position, so keys are located by a small
scanner). Never touches anything but the one file it is given.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError, SourceLocation, excerpt

PERMALINK_FIELDS = {"year", "month", "day", "slug", "section"}


@dataclass(frozen=True, slots=True)
class Section:
    slug: str
    title: str
    keywords: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FeedSettings:
    rss: bool = True
    atom: bool = True
    json: bool = True
    limit: int = 20
    full_content: bool = True


@dataclass(frozen=True, slots=True)
class SiteConfig:
    root: Path
    title: str
    description: str
    base_url: str
    language: str = "en"
    timezone: str = "UTC"
    permalink: str = "/{year}/{month}/{slug}/"
    paginate: int = 10
    archive_paginate: int = 50
    default_section: str = "news"
    sections: tuple[Section, ...] = ()
    feeds: FeedSettings = field(default_factory=FeedSettings)
    cname: str = ""
    output: str = "public"
    publisher: str = ""
    logo: str = ""
    words_per_minute: int = 230
    related: int = 4
    search: bool = True

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def output_dir(self) -> Path:
        return (self.root / self.output).resolve()

    @property
    def path(self) -> Path:
        return self.root / "site.toml"

    def section(self, slug: str) -> Section:
        for section in self.sections:
            if section.slug == slug:
                return section
        return Section(slug, slug.replace("-", " ").title(), ())


# key -> (expected python type(s), description used in error messages)
TOP_LEVEL: dict[str, tuple[type | tuple[type, ...], str]] = {
    "title": (str, "a string"),
    "description": (str, "a string"),
    "base_url": (str, "a URL string"),
    "language": (str, "a language tag such as 'en'"),
    "timezone": (str, "an IANA time zone such as 'Europe/London'"),
    "permalink": (str, "a pattern such as '/{year}/{month}/{slug}/'"),
    "paginate": (int, "a whole number"),
    "archive_paginate": (int, "a whole number"),
    "default_section": (str, "a section slug"),
    "sections": (dict, "a table of sections"),
    "feeds": (dict, "a table"),
    "cname": (str, "a domain name"),
    "output": (str, "a folder name"),
    "publisher": (str, "a string"),
    "logo": (str, "a path under layouts/static/"),
    "words_per_minute": (int, "a whole number"),
    "related": (int, "a whole number"),
    "search": (bool, "true or false"),
}
FEED_KEYS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "rss": (bool, "true or false"),
    "atom": (bool, "true or false"),
    "json": (bool, "true or false"),
    "limit": (int, "a whole number"),
    "full_content": (bool, "true or false"),
}
SECTION_KEYS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "title": (str, "a string"),
    "keywords": (list, "a list of strings"),
}
REQUIRED = ("title", "base_url")
# Project folders and files the build must never replace (output = "layouts/static" would).
PROTECTED = frozenset({"content", "layouts", "seeds", "generator", "tests", "site.toml", ".git",
                       ".venv", "node_modules", ".cache"})
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def load_config(root: Path) -> SiteConfig:
    path = root / "site.toml"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            "site.toml not found", SourceLocation(path),
            hint="run newsgen in the project folder (the one holding site.toml), "
            "or pass --root PATH",
        ) from None
    except UnicodeDecodeError as err:
        raise ConfigError("site.toml is not valid UTF-8", SourceLocation(path),
                          hint="save the file as UTF-8") from err
    except OSError as err:
        raise ConfigError(f"cannot read site.toml: {err.strerror}", SourceLocation(path),
                          hint="check the file's permissions") from None
    return parse_config(text, root)


def parse_config(text: str, root: Path) -> SiteConfig:
    path = root / "site.toml"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        line, column = _toml_error_position(str(err))
        hint = "check quotes, brackets and '=' on that line"
        if line is None and "at end of document" in str(err):
            # tomllib gives no line for the end of the file (`title = [` never closed): point
            # at the last one, and say the cause may be an opening earlier on.
            line = max(1, len(text.splitlines()))
            hint = "a quote or bracket opened on this line or earlier is never closed"
        raise ConfigError(
            f"invalid TOML: {str(err).split(' (at line')[0]}",
            SourceLocation(path, line, column),
            hint=hint,
            source_lines=excerpt(text, line) if line else (),
        ) from err
    locate = _KeyLocator(text, path)
    _check_table(data, TOP_LEVEL, "", locate)
    for key in REQUIRED:
        if key not in data:
            raise ConfigError(f"missing required key '{key}'", SourceLocation(path, 1),
                              hint=f"add a line such as {key} = \"...\"")
    feeds = data.get("feeds", {})
    _check_table(feeds, FEED_KEYS, "feeds", locate)
    sections = _parse_sections(data.get("sections", {}), locate)
    config = SiteConfig(
        root=root,
        title=data["title"],
        description=data.get("description", ""),
        base_url=_check_base_url(data["base_url"], locate),
        language=_check_language(data.get("language", "en"), locate),
        timezone=_check_timezone(data.get("timezone", "UTC"), locate),
        permalink=_check_permalink(data.get("permalink", "/{year}/{month}/{slug}/"), locate),
        paginate=_positive(data, "paginate", 10, locate),
        archive_paginate=_positive(data, "archive_paginate", 50, locate),
        default_section=_check_slug(data, "default_section", "news", locate),
        sections=sections,
        feeds=FeedSettings(**feeds),
        cname=_check_cname(data.get("cname", ""), locate),
        output=_check_output(data.get("output", "public"), root, locate),
        publisher=data.get("publisher", ""),
        logo=data.get("logo", ""),
        words_per_minute=_positive(data, "words_per_minute", 230, locate),
        related=_positive(data, "related", 4, locate, minimum=0),
        search=data.get("search", True),
    )
    if feeds.get("limit", 1) < 1:
        raise ConfigError("feeds.limit must be at least 1", locate("feeds", "limit"))
    return config


class _KeyLocator:
    """Finds the line of `key` inside `[table]` by scanning the text (tomllib keeps no positions)."""

    def __init__(self, text: str, path: Path) -> None:
        self.lines = text.splitlines()
        self.path = path
        self.text = text

    def __call__(self, table: str, key: str = "") -> SourceLocation:
        wanted = f"{table}.{key}" if table and key else (key or table)
        current = ""
        for number, raw in enumerate(self.lines, start=1):
            line = raw.strip()
            header = re.match(r"^\[+\s*([^\]]+?)\s*\]+", line)
            if header:
                current = re.sub(r"\s*\.\s*", ".", header.group(1).replace('"', ""))
                # `[sections.world]` is where the key `world` of table `sections` is written.
                if current == wanted:
                    return SourceLocation(self.path, number)
                continue
            match = re.match(r'^"?([A-Za-z0-9_.-]+)"?\s*=', line)
            if not match:
                continue
            dotted = match.group(1)
            full = f"{current}.{dotted}" if current else dotted
            # An inline table (`feeds = { rss = 1 }`) holds every key below it on its own line.
            if full == wanted or wanted.startswith(f"{full}.") or (
                    not key and full.startswith(f"{table}.")):
                return SourceLocation(self.path, number)
        return SourceLocation(self.path, 1)

    def excerpt(self, location: SourceLocation) -> tuple[str, ...]:
        return excerpt(self.text, location.line) if location.line else ()


def _check_table(
    data: dict[str, Any],
    schema: dict[str, tuple[type | tuple[type, ...], str]],
    table: str,
    locate: _KeyLocator,
) -> None:
    for key, value in data.items():
        where = locate(table, key)
        if key not in schema:
            import difflib  # only for this message

            close = difflib.get_close_matches(key, list(schema), n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(schema)}"
            name = f"{table}.{key}" if table else key
            raise ConfigError(f"unknown key '{name}'", where, hint=hint,
                              source_lines=locate.excerpt(where))
        expected, description = schema[key]
        # bool is a subclass of int: `paginate = true` must not pass as a number.
        wrong_bool = isinstance(value, bool) and expected is not bool
        if wrong_bool or not isinstance(value, expected):
            name = f"{table}.{key}" if table else key
            raise ConfigError(
                f"'{name}' must be {description}, not {type(value).__name__} {value!r}",
                where, hint=f"set {name} to {description}", source_lines=locate.excerpt(where))


def _parse_sections(data: dict[str, Any], locate: _KeyLocator) -> tuple[Section, ...]:
    sections = []
    for slug, table in data.items():
        where = locate("sections", slug)
        if not SLUG_RE.match(slug):
            raise ConfigError(f"section name '{slug}' is not a slug", where,
                              hint="use lowercase letters, digits and hyphens, e.g. [sections.world]")
        if not isinstance(table, dict):
            raise ConfigError(f"sections.{slug} must be a table", where,
                              hint=f'write [sections.{slug}] with title = "..." below it')
        _check_table(table, SECTION_KEYS, f"sections.{slug}", locate)
        keywords = table.get("keywords", [])
        if not all(isinstance(word, str) for word in keywords):
            raise ConfigError(f"sections.{slug}.keywords must be a list of strings",
                              locate(f"sections.{slug}", "keywords"))
        sections.append(Section(slug, table.get("title", slug.title()), tuple(keywords)))
    return tuple(sections)


def _check_base_url(value: str, locate: _KeyLocator) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(f"base_url {value!r} is not an absolute http(s) URL", locate("", "base_url"),
                          hint="write it like https://example.github.io/news/")
    return value if value.endswith("/") else value + "/"


def _check_timezone(value: str, locate: _KeyLocator) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown time zone {value!r}", locate("", "timezone"),
                          hint="use an IANA name such as 'UTC' or 'America/New_York'") from None
    return value


# A well-formed BCP 47 language tag (RFC 5646 section 2.1, without the grandfathered tags):
# language, script, region, variants, extensions, private use. The language is 2 or 3
# letters: the grammar's 4-8 letter form is reserved and unused, and would let "english" in.
_LANGUAGE_TAG = re.compile(
    r"[a-z]{2,3}(?:-[a-z]{3}){0,3}(?:-[a-z]{4})?(?:-(?:[a-z]{2}|[0-9]{3}))?"
    r"(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*(?:-[0-9a-wy-z](?:-[a-z0-9]{2,8})+)*"
    r"(?:-x(?:-[a-z0-9]{1,8})+)?", re.IGNORECASE | re.ASCII)


def _check_language(value: str, locate: _KeyLocator) -> str:
    if not _LANGUAGE_TAG.fullmatch(value):
        hyphenated = value.replace("_", "-")
        hint = (f"write {hyphenated!r}: language tags join their parts with '-'"
                if _LANGUAGE_TAG.fullmatch(hyphenated) else
                "use a BCP 47 tag such as 'en', 'en-GB', 'pt-BR' or 'zh-Hant-TW'")
        raise ConfigError(f"language {value!r} is not a language tag", locate("", "language"),
                          hint=hint)
    return value


def og_locale(language: str) -> str:
    """Open Graph's locale ("en_GB") for a language tag with a region; "" without one (Open
    Graph has no language-only form, and guessing a country would be wrong)."""
    language, *subtags = language.split("-")
    for subtag in subtags:
        if len(subtag) == 1:
            break  # an extension or private use ("en-u-ca-gregory", "en-x-gb"): no region
        if len(subtag) == 2:  # before them, only a region has two letters (extlang has three)
            return f"{language.lower()}_{subtag.upper()}"
    return ""


def _check_permalink(value: str, locate: _KeyLocator) -> str:
    names = set(re.findall(r"{([^{}]*)}", value))
    problems = []
    if not value.startswith("/") or not value.endswith("/"):
        problems.append("it must start and end with '/'")
    if "slug" not in names:
        problems.append("it must contain {slug}")
    if names - PERMALINK_FIELDS:
        problems.append(f"unknown field(s) {', '.join(sorted(names - PERMALINK_FIELDS))}")
    if ".." in value or "\\" in value or "//" in value:
        problems.append("it must not contain '..', '\\' or '//'")
    if not problems:
        try:
            value.format(year="2016", month="04", day="21", slug="x", section="news")
        except (ValueError, IndexError, KeyError, AttributeError):
            problems.append("braces must only wrap field names; write {{ or }} for a brace")
    if problems:
        raise ConfigError(f"bad permalink pattern {value!r}: {'; '.join(problems)}",
                          locate("", "permalink"),
                          hint=f"use fields {{{'}, {'.join(sorted(PERMALINK_FIELDS))}}}")
    return value


def _check_output(value: str, root: Path, locate: _KeyLocator) -> str:
    target = (root / value).resolve()
    project = root.resolve()
    dangerous = (
        target == project
        or target in project.parents
        or not target.is_relative_to(project)
        or (target / "content").exists()
        or (target / "site.toml").exists()
        or target.relative_to(project).parts[0] in PROTECTED
    )
    if dangerous:
        raise ConfigError(f"refusing output folder {value!r}: the build replaces it entirely",
                          locate("", "output"),
                          hint="use a dedicated folder inside the project, such as 'public'")
    return value


def _positive(data: dict[str, Any], key: str, default: int, locate: _KeyLocator,
              minimum: int = 1) -> int:
    value = data.get(key, default)
    if value < minimum:
        where = locate("", key)
        raise ConfigError(f"'{key}' must be at least {minimum}, not {value}", where,
                          hint=f"set {key} to a whole number of {minimum} or more",
                          source_lines=locate.excerpt(where))
    return int(value)


def _check_slug(data: dict[str, Any], key: str, default: str, locate: _KeyLocator) -> str:
    value = data.get(key, default)
    if not SLUG_RE.match(value):
        raise ConfigError(f"'{key}' {value!r} is not a slug", locate("", key),
                          hint="use lowercase letters, digits and hyphens, e.g. 'news'")
    return str(value)


def _check_cname(value: str, locate: _KeyLocator) -> str:
    # GitHub Pages reads CNAME as a bare host name: no scheme, path or port.
    if value and not re.fullmatch(r"(?=.{1,253}$)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+", value):
        raise ConfigError(f"cname {value!r} is not a bare domain name", locate("", "cname"),
                          hint="write only the host, e.g. cname = \"news.example.org\"")
    return value


def _toml_error_position(message: str) -> tuple[int | None, int | None]:
    match = re.search(r"at line (\d+), column (\d+)", message)
    return (int(match.group(1)), int(match.group(2))) if match else (None, None)
