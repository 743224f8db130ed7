"""The data model shared by the build stages; no I/O here.

Three layers are kept apart for every document: what the file *is* (path, hash), what the author
*wrote* (validated front matter, free keys in `extra`) and what we *computed* (url, html, reading
time). Objects refer to each other by key (the document's source path), not by reference.
"""

from __future__ import annotations

import operator
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

DocumentKind = Literal["article", "page"]

# The format of the Markdown that ingest.py writes, part of the build cache's key (here, so the
# cache need not import the ingest stage). Bump when the seed parser, tag or section rules change
# what ingest writes: articles made by an older version are regenerated (unless edited by hand).
INGEST_VERSION = 1
# The one Markdown configuration (markup.py), also part of the cache key.
MARKDOWN_EXTENSIONS = ("extra", "sane_lists")

_Model = TypeVar("_Model")


def pickled_by_fields(cls: type[_Model]) -> type[_Model]:
    """Pickle instances as `cls(*init fields)`.

    The default for a slots dataclass calls dataclasses.fields() for every object pickled: 40%
    of saving a 10,000-article build cache (27,000 pickles), and of shipping each loaded
    document from a worker. Pickles made the default way still load (the class keeps the
    dataclass's __setstate__). Fields that are not __init__ arguments are recomputed there.
    """
    names = [f.name for f in fields(cls) if f.init]  # type: ignore[arg-type]
    values = operator.attrgetter(*names)
    if len(names) == 1:
        def __reduce__(self: Any) -> tuple[Any, ...]:
            return (cls, (values(self),))
    else:
        def __reduce__(self: Any) -> tuple[Any, ...]:
            return (cls, values(self))
    setattr(cls, "__reduce__", __reduce__)  # noqa: B010 (mypy rejects assigning a method)
    return cls


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class FrontMatter:
    """What the author wrote, validated."""

    title: str
    date: datetime | None
    updated: datetime | None = None
    slug: str = ""
    summary: str = ""
    authors: tuple[str, ...] = ()
    section: str = ""
    tags: tuple[str, ...] = ()
    image: str = ""
    image_alt: str = ""
    image_caption: str = ""
    image_credit: str = ""
    dateline: str = ""
    draft: bool = False
    source: str = ""
    layout: str = ""
    extra: tuple[tuple[str, Any], ...] = ()


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Document:
    """One Markdown file in content/, parsed and rendered to HTML (not yet placed in a page)."""

    path: Path  # relative to the project root, e.g. content/articles/x.md
    kind: DocumentKind
    sha256: str
    meta: FrontMatter
    slug: str
    html: str
    word_count: int
    reading_minutes: int
    # The document's identity everywhere else (Site, cache); stored because it is looked up
    # millions of times at 10,000 articles and Path.as_posix() is slow.
    key: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", self.path.as_posix())


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Entry:
    """A published document with everything the index computed for it."""

    doc: Document
    url: str  # site-relative with the base path, e.g. /news/2016/04/slug/
    output: str  # file inside public/, e.g. 2016/04/slug/index.html
    date: datetime  # aware, in the site time zone
    updated: datetime
    section: str
    tag_slugs: tuple[str, ...]
    author_slugs: tuple[str, ...]


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Taxonomy:
    """A section, tag, author or archive bucket: its name, URL slug and newest-first entry keys."""

    slug: str
    name: str
    keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Site:
    """Everything gathered and indexed; rendering needs nothing else."""

    entries: Mapping[str, Entry]  # key -> entry, articles and pages (memostore: read lazily)
    articles: tuple[str, ...]  # keys, newest first
    pages: tuple[str, ...]
    sections: tuple[Taxonomy, ...]
    tags: tuple[Taxonomy, ...]
    authors: tuple[Taxonomy, ...]
    years: tuple[Taxonomy, ...]  # slug "2016"
    months: tuple[Taxonomy, ...]  # slug "2016/04"
    previous: dict[str, str]  # key -> older neighbour key
    next: dict[str, str]  # key -> newer neighbour key
    related: dict[str, tuple[str, ...]]

    def entry(self, key: str) -> Entry:
        return self.entries[key]


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class RenderJob:
    """One file to produce: which template, which page kind, and the content keys it shows."""

    output: str  # path inside public/
    url: str
    kind: str  # front, article, page, section, tag, author, tags, authors, archive, ...
    template: str  # layout name, or "" for non-template outputs (feeds, sitemaps)
    params: tuple[tuple[str, Any], ...] = ()
    depends_on: tuple[str, ...] = ()  # entry keys whose content appears on the page
    source: str = ""  # what produced this route, for collision messages

    def param(self, name: str, default: Any = None) -> Any:
        # A scan, not dict(self.params): a page's context asks for a dozen parameters, and
        # building the dict each time cost a 10k build about 1 s of CPU.
        for key, value in self.params:
            if key == name:
                return value
        return default


@dataclass(frozen=True, slots=True)
class Output:
    path: str  # posix path inside public/
    data: bytes


@dataclass(slots=True)
class BuildStats:
    pages: int = 0
    feeds: int = 0
    assets: int = 0
    other: int = 0
    written: int = 0
    unchanged: int = 0
    removed: int = 0
    changed: list[str] = field(default_factory=list)  # output paths written with new bytes
    timings: dict[str, float] = field(default_factory=dict)


def reference_time() -> datetime:
    """The build's "now": SOURCE_DATE_EPOCH when set (reproducible builds), else the clock."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=UTC)
    return datetime.now(UTC)


@contextmanager
def timed(stats: BuildStats, stage: str) -> Iterator[None]:
    """Add the time the block takes to `stats.timings[stage]` (the -v summary)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        stats.timings[stage] = stats.timings.get(stage, 0.0) + time.perf_counter() - started
