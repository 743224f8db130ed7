"""Load stage: content/**/*.md -> `Document`s with validated front matter and rendered HTML.

Front-matter problems become `ContentError`s at the Markdown file's line (YAML marks are offset by
the opening '---'). Reads files; never writes anything.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import frontmatter
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
BOOKKEEPING_KEYS = {"source_sha256", "ingest_checksum"}
STRING_KEYS = ("summary", "image", "image_alt", "image_caption", "image_credit", "dateline",
               "source", "layout")


def content_files(root: Path) -> list[Path]:
    """Every Markdown source under content/, sorted so the build order is stable."""
    content = root / "content"
    return sorted(p for p in content.rglob("*.md") if p.is_file() and not p.name.startswith("."))


def document_kind(relative: Path) -> DocumentKind:
    return "page" if relative.parts[1:2] == ("pages",) else "article"


def load_document(path: Path, config: SiteConfig) -> Document:
    relative = path.relative_to(config.root)
    raw = _read_bytes(path, relative)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise ContentError(f"not valid UTF-8 (byte {err.start})", SourceLocation(relative, line),
                           hint="re-save the file as UTF-8") from None
    if "\x00" in text:
        raise ContentError("binary file in content/", SourceLocation(relative),
                           hint="only Markdown files belong in content/; move it elsewhere")
    metadata, body = _split(text, relative)
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


def _split(text: str, relative: Path) -> tuple[dict[str, Any], str]:
    try:
        post = frontmatter.loads(text)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        # +2: the YAML starts on the line after the opening '---', and marks are 0-based.
        line = mark.line + 2 if mark else 1
        column = mark.column + 1 if mark else None
        problem = err.problem or err.context or "invalid YAML"
        raise ContentError(f"malformed front matter: {problem}",
                           SourceLocation(relative, line, column),
                           hint="front matter is YAML between two '---' lines; quote values "
                           "containing ':' or '#'", source_lines=excerpt(text, line)) from None
    except yaml.YAMLError as err:
        raise ContentError(f"malformed front matter: {err}", SourceLocation(relative, 1)) from None
    if not isinstance(post.metadata, dict):
        raise ContentError("front matter must be a mapping of keys to values",
                           SourceLocation(relative, 2))
    return dict(post.metadata), post.content


def key_line(text: str, key: str) -> int:
    """1-based line of `key:` in the front matter, or 1 (the opening '---') when absent."""
    match = re.search(rf"^{re.escape(key)}\s*:", text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else 1


def validate_front_matter(
    data: dict[str, Any], text: str, relative: Path, kind: DocumentKind, config: SiteConfig
) -> FrontMatter:
    def fail(key: str, message: str, hint: str) -> ContentError:
        line = key_line(text, key)
        return ContentError(message, SourceLocation(relative, line), hint=hint,
                            source_lines=excerpt(text, line))

    title = data.get("title")
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
    section = data.get("section") or (config.default_section if kind == "article" else "")
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
        authors=_string_list(data.get("authors", ()), lambda m: fail("authors", m, _LIST_HINT)),
        section=str(section),
        tags=_string_list(data.get("tags", ()), lambda m: fail("tags", m, _LIST_HINT)),
        draft=draft,
        extra=extra,
        **values,
    )


_DATE_HINT = "use ISO 8601, e.g. date: 2016-04-21T09:30:00+00:00 (or 2016-04-21)"
_LIST_HINT = "write a YAML list, e.g. tags: [Libya, NATO]"


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
    return parsed.replace(tzinfo=tz) if parsed.tzinfo is None else parsed.astimezone(tz)


def _string_list(value: Any, fail: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise fail(f"expected a list of names, not {type(value).__name__} {value!r}")
    items = []
    for item in value:
        if not isinstance(item, (str, int, float)) or isinstance(item, bool) or not str(item).strip():
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
