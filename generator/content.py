"""Load stage: content/**/*.md -> `Document`s with validated front matter and rendered HTML.

Front-matter problems become `ContentError`s at the Markdown file's line (YAML marks are offset by
the opening '---'). Reads files; never writes anything.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from .config import SiteConfig
from .errors import ContentError, SourceLocation, excerpt
from .markup import reading_minutes, render_markdown, word_count
from .model import Document, DocumentKind, FrontMatter
from .urls import slugify

KNOWN_KEYS = {
    "title", "date", "updated", "slug", "summary", "authors", "section", "tags", "image",
    "image_alt", "image_caption", "image_credit", "dateline", "draft", "source", "layout",
}
# Written by ingest for bookkeeping; accepted but not shown to templates.
BOOKKEEPING_KEYS = {"source_sha256", "ingest_version", "ingest_checksum"}
STRING_KEYS = ("summary", "image", "image_alt", "image_caption", "image_credit", "dateline",
               "source", "layout")
# python-frontmatter's YAML fence: a line of three or more dashes.
_FENCE = re.compile(r"^-{3,}\s*$", re.MULTILINE)


# libyaml's loader when installed (as python-frontmatter uses): ~10x faster than pure Python.
_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _FrontMatterLoader(_SafeLoader):  # type: ignore[misc]
    """A safe loader whose impossible dates (2016-13-45) and keys written twice are YAML errors
    with a position."""


def _construct_timestamp(loader: Any, node: yaml.ScalarNode) -> Any:
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError) as err:
        raise yaml.constructor.ConstructorError(
            None, None, f"impossible date {node.value!r} ({err})", node.start_mark) from None


class _DuplicateKey(yaml.constructor.ConstructorError):
    pass


def _construct_map(loader: Any, node: yaml.MappingNode) -> Any:
    """A mapping, refusing a key written twice: YAML would keep the last one silently, and an
    editor who adds a corrected `title:` above the old one would publish the old one."""
    first: dict[str, yaml.Node] = {}
    for key, _ in node.value:
        if isinstance(key, yaml.ScalarNode) and key.value != "<<":
            if key.value in first:
                raise _DuplicateKey(f"the first {key.value!r}", first[key.value].start_mark,
                                    f"{key.value!r} is written twice", key.start_mark)
            first[key.value] = key
    yield from yaml.constructor.SafeConstructor.construct_yaml_map(loader, node)


_FrontMatterLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
_FrontMatterLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)


def content_files(root: Path, listing: Iterable[str] | None = None) -> list[Path]:
    """Every Markdown source under content/, sorted so the build order is stable.

    `listing` (project-relative paths of regular files, from the build's input scan) saves
    walking the folder a second time.
    """
    if listing is not None:
        return [root / key for key in sorted(listing) if is_content_file(key)]
    content = root / "content"
    return sorted(p for p in content.rglob("*.md") if p.is_file() and not p.name.startswith("."))


def is_content_file(key: str) -> bool:
    name = key.rsplit("/", 1)[-1]
    return key.startswith("content/") and key.endswith(".md") and not name.startswith(".")


def document_kind(relative: Path) -> DocumentKind:
    return "page" if relative.parts[1:2] == ("pages",) else "article"


def load_document(path: Path, config: SiteConfig) -> Document:
    relative = path.relative_to(config.root)
    raw = _read_bytes(path, relative)
    if b"\x00" in raw:  # checked first: a binary file is rarely valid UTF-8 either
        raise ContentError("binary file in content/", SourceLocation(relative),
                           hint="only Markdown files belong in content/; move it elsewhere")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise ContentError(f"not valid UTF-8 (byte {err.start})", SourceLocation(relative, line),
                           hint="re-save the file as UTF-8") from None
    metadata, body = split_front_matter(text, relative)
    kind = document_kind(relative)
    meta = validate_front_matter(metadata, text, relative, kind, config)
    html = render_markdown(body)
    words = word_count(html)
    return Document(
        path=relative,
        kind=kind,
        sha256=hashlib.sha256(raw).hexdigest(),
        meta=meta,
        slug=_slug(meta.slug or path.stem, text, relative),
        html=html,
        word_count=words,
        reading_minutes=reading_minutes(words, config.words_per_minute),
    )


def _read_bytes(path: Path, relative: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise ContentError(f"cannot read file: {err.strerror}", SourceLocation(relative),
                           hint="check the file's permissions") from None


def split_front_matter(text: str, relative: Path) -> tuple[dict[str, Any], str]:
    """(front matter, body), split like python-frontmatter does, with file-accurate YAML lines."""
    stripped = text.strip()
    opening = _FENCE.match(stripped)
    parts = _FENCE.split(stripped, 2) if opening else []
    if opening is None or len(parts) < 3:
        return {}, stripped  # no front matter: the missing title is reported by the caller
    # The YAML text starts on the opening fence's own line (just after its '---').
    first_line = text[: len(text) - len(text.lstrip())].count("\n") + 1
    first_line += stripped.count("\n", 0, opening.end())
    try:
        metadata = yaml.load(parts[1], Loader=_FrontMatterLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        problem = err.problem or err.context or "invalid YAML"
        opened = err.context_mark
        if opened and err.context and mark and opened.line != mark.line:
            # An unclosed quote or bracket is only noticed lines later: name where it opened.
            problem += f" ({err.context} at line {first_line + opened.line})"
            if "end of stream" in problem:
                mark = opened
        line = first_line + mark.line if mark else 1
        column = mark.column + 1 if mark else None
        raise ContentError(f"malformed front matter: {problem}",
                           SourceLocation(relative, line, column),
                           hint="delete one of the two lines" if isinstance(err, _DuplicateKey)
                           else "front matter is YAML between two '---' lines; quote values "
                           "containing ':' or '#'", source_lines=excerpt(text, line)) from None
    except yaml.YAMLError as err:
        raise ContentError(f"malformed front matter: {err}", SourceLocation(relative, 1)) from None
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise ContentError("front matter must be a mapping of keys to values",
                           SourceLocation(relative, first_line + 1),
                           hint="write one 'key: value' per line between the '---' lines")
    return dict(metadata), parts[2].strip()


def key_line(text: str, key: str) -> int:
    """1-based line of `key:` in the front matter, or 1 (the opening '---') when absent."""
    fences = _FENCE.finditer(text)
    opening, closing = next(fences, None), next(fences, None)
    if opening is None or closing is None or text[: opening.start()].strip():
        return 1  # no front matter: never point into the body
    pattern = re.compile(rf"^{re.escape(key)}\s*:", re.MULTILINE)
    match = pattern.search(text, opening.end(), closing.start())
    return text.count("\n", 0, match.start()) + 1 if match else 1


def validate_front_matter(
    data: dict[str, Any], text: str, relative: Path, kind: DocumentKind, config: SiteConfig
) -> FrontMatter:
    def fail(key: str, message: str, hint: str) -> ContentError:
        line = key_line(text, key)
        return ContentError(message, SourceLocation(relative, line), hint=hint,
                            source_lines=excerpt(text, line))

    title = data.get("title")
    if isinstance(title, (int, float)) and not isinstance(title, bool):
        title = str(title)  # `title: 1984` is YAML for a number
    if not isinstance(title, str) or not title.strip():
        raise fail("title", "missing or empty 'title'", 'add a line such as title: "Headline"')
    tz = config.tz
    published = _datetime(data.get("date"), tz, lambda m: fail("date", m, _DATE_HINT))
    if published is None and kind == "article":
        raise fail("date", "missing 'date'", _DATE_HINT)
    updated = _datetime(data.get("updated"), tz, lambda m: fail("updated", m, _DATE_HINT))
    values: dict[str, Any] = {}
    for key in STRING_KEYS:
        value = data.get(key, "")
        if value is None:
            value = ""
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise fail(key, f"'{key}' must be text, not {type(value).__name__}",
                       f'write {key}: "..."')
        values[key] = str(value)
    values["layout"] = _layout(values["layout"], config.root / "layouts",
                               lambda m, h: fail("layout", m, h))
    section = data.get("section") or (config.default_section if kind == "article" else "")
    if not isinstance(section, str):
        raise fail("section", f"'section' must be a section slug, not {type(section).__name__}",
                   "write section: world")
    known_sections = {s.slug for s in config.sections} | {config.default_section}
    if kind == "article" and section not in known_sections:
        raise fail("section", f"unknown section {section!r}",
                   f"use one of: {', '.join(sorted(known_sections))}, or add "
                   f"[sections.{slugify(str(section))}] to site.toml")
    draft = data.get("draft", False)
    if not isinstance(draft, bool):
        raise fail("draft", "'draft' must be true or false", "write draft: true")
    slug = data.get("slug", "")
    if not isinstance(slug, (str, int)) or isinstance(slug, bool):
        raise fail("slug", "'slug' must be text", "write slug: my-article")
    extra = tuple(sorted((k, v) for k, v in data.items() if k not in KNOWN_KEYS | BOOKKEEPING_KEYS))
    return FrontMatter(
        title=title.strip(),
        date=published,
        updated=updated,
        slug=str(slug),
        authors=_string_list(data.get("authors", ()), lambda m: fail("authors", m, _AUTHORS_HINT)),
        section=str(section),
        tags=_string_list(data.get("tags", ()), lambda m: fail("tags", m, _TAGS_HINT)),
        draft=draft,
        extra=extra,
        **values,
    )


def _layout(name: str, layouts: Path, fail: Any) -> str:
    """A `layout:` value as a template name under layouts/ ("special" means special.html),
    checked here so that a wrong one is reported at the article that names it."""
    written = name.strip()
    if not written:
        return ""
    name = written if written.endswith(".html") else f"{written}.html"
    parts = name.split("/")
    if "\\" in name or name.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise fail(f"layout {written!r} is not a file name under layouts/",
                   "write a name such as layout: special.html")
    if not (layouts / name).is_file():
        available = sorted(p.name for p in layouts.glob("*.html"))
        raise fail(f"layout {written!r} not found: there is no layouts/{name}",
                   f"create it, or use one of: {', '.join(available)}")
    return name


_DATE_HINT = "use ISO 8601, e.g. date: 2016-04-21T09:30:00+00:00 (or 2016-04-21)"
_TAGS_HINT = "write a YAML list, e.g. tags: [Libya, NATO]"
_AUTHORS_HINT = "write a YAML list, e.g. authors: [Jane Doe, John Roe]"


def _datetime(value: Any, tz: ZoneInfo, fail: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time())
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise fail(f"unparseable date {value!r}") from None
    else:
        raise fail(f"a date must be text or a YAML date, not {type(value).__name__}")
    try:
        return parsed.replace(tzinfo=tz) if parsed.tzinfo is None else parsed.astimezone(tz)
    except OverflowError:
        raise fail(f"date {value!s} is out of range in the site time zone") from None


def _string_list(value: Any, fail: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise fail(f"expected a list of names, not {type(value).__name__} {value!r}")
    items = []
    for item in value:
        text_like = isinstance(item, (str, int, float)) and not isinstance(item, bool)
        if not text_like or not str(item).strip():
            raise fail(f"list items must be non-empty text, not {item!r}")
        items.append(str(item).strip())
    return tuple(dict.fromkeys(items))


def _slug(candidate: str, text: str, relative: Path) -> str:
    slug = slugify(candidate)
    if slug != candidate and ("/" in candidate or ".." in candidate or "\\" in candidate):
        # A slug that tries to build a path is rejected rather than silently rewritten.
        line = key_line(text, "slug")
        raise ContentError(f"slug {candidate!r} may not contain '/', '\\' or '..'",
                           SourceLocation(relative, line), hint="use letters, digits and hyphens")
    return slug
