"""Index stage: `Document`s -> `Site` (filtered, sorted, grouped, linked).

Drafts and future-dated articles are dropped unless asked for; articles are grouped by section,
tag, author and month; previous/next and related articles are computed from indexes built once,
so the work stays linear in the number of articles. Pure: no I/O (related articles may be
computed in forked processes, with the same result).
"""

from __future__ import annotations

import bisect
import functools
import heapq
import itertools
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from .config import SiteConfig
from .errors import ContentError, Diagnostic, RouteError, SourceLocation
from .model import Document, Entry, Site, Taxonomy
from .urls import Urls, output_path, slugify


def index_site(
    documents: Iterable[Document],
    config: SiteConfig,
    now: datetime,
    *,
    drafts: bool = False,
    future: bool = False,
    jobs: int = 1,
    warnings: list[Diagnostic] | None = None,
) -> Site:
    """The indexed site; `warnings` gets one for each tag or author page that different names
    share (see merged_names)."""
    urls = Urls(config.base_url, config.permalink)
    entries: dict[str, Entry] = {}
    for doc in documents:
        if doc.meta.draft and not drafts:
            continue
        if doc.kind == "article" and doc.meta.date and doc.meta.date > now and not future:
            continue
        entries[doc.key] = make_entry(doc, config, urls)
    _check_collisions(entries.values())
    articles = sorted((e for e in entries.values() if e.doc.kind == "article"),
                      key=lambda e: (e.date, e.doc.key), reverse=True)
    article_keys = tuple(e.doc.key for e in articles)
    pages = tuple(sorted(e.doc.key for e in entries.values() if e.doc.kind == "page"))
    older = {a: b for a, b in itertools.pairwise(article_keys)}
    newer = {b: a for a, b in itertools.pairwise(article_keys)}
    tag_names: dict[str, Counter[str]] = defaultdict(Counter)
    author_names: dict[str, Counter[str]] = defaultdict(Counter)
    tags = _group(articles, _tags_of, tag_names)
    authors = _group(articles, _authors_of, author_names)
    if warnings is not None:
        warnings += merged_names("tag", tag_names, articles, _tags_of, urls)
        warnings += merged_names("author", author_names, articles, _authors_of, urls)
    return Site(
        entries=entries,
        articles=article_keys,
        pages=pages,
        sections=_sections(articles, config),
        tags=tags,
        authors=authors,
        years=_group(articles, lambda e: [(f"{e.date.year:04d}", f"{e.date.year:04d}")]),
        months=_group(articles, lambda e: [(f"{e.date:%Y/%m}", f"{e.date:%B %Y}")]),
        previous=older,
        next=newer,
        related=_related(articles, config.related, jobs),
    )


def make_entry(doc: Document, config: SiteConfig, urls: Urls) -> Entry:
    tz = config.tz
    # In the site's zone whatever zone the document was given in: permalinks and months use it.
    date = (doc.meta.date or datetime(1970, 1, 1, tzinfo=tz)).astimezone(tz)
    if doc.kind == "page":
        site_path = f"/{doc.slug}/"
    else:
        site_path = urls.article_path(doc.slug, date, doc.meta.section)
    try:
        output = output_path(site_path)
    except RouteError as err:
        raise ContentError(err.message, SourceLocation(doc.path), hint=err.hint) from None
    return Entry(
        doc=doc,
        url=urls.rel(site_path),
        output=output,
        date=date,
        updated=max(doc.meta.updated or date, date),
        section=doc.meta.section,
        tag_slugs=tuple(map(name_slug, doc.meta.tags)),
        author_slugs=tuple(map(name_slug, doc.meta.authors)),
    )


# Tag and author names repeat across thousands of articles: slugify each name once.
name_slug = functools.lru_cache(maxsize=16384)(slugify)


def _check_collisions(entries: Iterable[Entry]) -> None:
    seen: dict[str, Entry] = {}
    for entry in sorted(entries, key=lambda e: e.doc.key):
        if entry.output in seen:
            first = seen[entry.output].doc.path
            raise ContentError(
                f"{entry.doc.path} and {first} both resolve to {entry.url}",
                SourceLocation(entry.doc.path),
                hint="give one of them a different 'slug' in its front matter",
            )
        seen[entry.output] = entry


def _sections(articles: list[Entry], config: SiteConfig) -> tuple[Taxonomy, ...]:
    by_section: dict[str, list[str]] = defaultdict(list)
    for entry in articles:
        by_section[entry.section].append(entry.doc.key)
    # Configured order first (it is the navigation order), then any others alphabetically.
    order = [s.slug for s in config.sections]
    order += sorted(set(by_section) - set(order))
    return tuple(Taxonomy(slug, config.section(slug).title, tuple(by_section[slug]))
                 for slug in order if by_section.get(slug))


Names = Callable[[Entry], Iterable[tuple[str, str]]]  # an entry's (slug, name) pairs


def _tags_of(entry: Entry) -> Iterable[tuple[str, str]]:
    return zip(entry.tag_slugs, entry.doc.meta.tags)


def _authors_of(entry: Entry) -> Iterable[tuple[str, str]]:
    return zip(entry.author_slugs, entry.doc.meta.authors)


def _group(articles: list[Entry], names: Names,
           display: dict[str, Counter[str]] | None = None) -> tuple[Taxonomy, ...]:
    """Groups by slug, each named by its most used spelling; `display` (if given) gets every
    spelling of each slug with its count."""
    keys: dict[str, list[str]] = defaultdict(list)
    if display is None:
        display = defaultdict(Counter)
    for entry in articles:
        for slug, name in names(entry):
            if not keys[slug] or keys[slug][-1] != entry.doc.key:
                keys[slug].append(entry.doc.key)
            display[slug][name] += 1
    # The most used spelling names the group ("NATO" beats "Nato"); ties go to the first seen.
    return tuple(Taxonomy(slug, display[slug].most_common(1)[0][0], tuple(keys[slug]))
                 for slug in sorted(keys))


def merged_names(kind: str, spellings: dict[str, Counter[str]], articles: list[Entry],
                 names: Names, urls: Urls) -> list[Diagnostic]:
    """A warning for each page that names differing in more than case, accents, spaces and
    word punctuation share ("AT&T" and "AT-T" are both /tags/at-t/), naming each name's first
    file. "NATO" and "Nato", "Al-Qaeda" and "Al Qaeda" share a page on purpose: no warning."""
    clashes: dict[str, list[str]] = {}
    for slug, counts in spellings.items():
        if len(counts) > 1:  # rare: a second spelling of one slug; decided per slug
            by_spelling: dict[str, str] = {}
            for name, _ in counts.most_common():  # the most used spelling represents its kind
                by_spelling.setdefault(_spelling(name), name)
            if len(by_spelling) > 1:
                clashes[slug] = list(by_spelling.values())
    if not clashes:
        return []
    first_file: dict[tuple[str, str], Entry] = {}
    for entry in reversed(articles):  # oldest first
        for slug, name in names(entry):
            if slug in clashes:
                first_file.setdefault((slug, name), entry)
    warnings = []
    # The page's path as a reader types it: not percent-encoded ("/news/tags/москва/").
    prefix = urls.base_path + {"tag": "tags/", "author": "authors/"}[kind]
    for slug in sorted(clashes):
        shown = clashes[slug]
        where = [first_file[slug, name].doc.path for name in shown]
        listing = " and ".join(f"{name!r} ({path.as_posix()})" for name, path in zip(shown, where))
        warnings.append(Diagnostic(
            "warning", f"{kind} names {listing} share one page, {prefix}{slug}/, "
            f"shown as {shown[0]!r}", SourceLocation(where[-1]),
            hint="addresses keep only letters and digits: if these are different "
                 f"{kind}s, make their names differ in letters or digits; if they are one, "
                 "spell it one way everywhere"))
    return warnings


def _spelling(name: str) -> str:
    """What tells names apart beyond case, accents, spaces and word punctuation."""
    folded = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in folded
                   if not (unicodedata.combining(c) or c.isspace() or c in "-‐–_.'’"))


def _related(articles: list[Entry], limit: int, jobs: int = 1) -> dict[str, tuple[str, ...]]:
    """Articles sharing the most tags, newest first; uses a tag -> articles index (no n^2 scan).

    For a tag on thousands of articles only the RELATED_WINDOW articles nearest in time are
    considered, so one very common tag cannot make this quadratic. The longest step of the
    index stage (half a second at 10,000 articles): with `jobs` > 1 the articles are split
    between processes (workers.fork_map).
    """
    keys = [entry.doc.key for entry in articles]
    # Each article's tags as the bits of one integer: a candidate's score is one AND and a
    # bit count on two small objects lying near each other (candidates are near in time, and
    # the masks are made in date order). Probing each tag's set of members instead touched
    # sets that outgrow the processor's caches: 7.5 s against 5.8 s at 100,000 articles.
    bit_of: dict[str, int] = {}
    masks: list[int] = []
    tag_lists: list[tuple[str, ...]] = []
    by_tag: dict[str, list[int]] = defaultdict(list)  # tag -> article positions, ascending
    for index, entry in enumerate(articles):
        mask = 0
        tags: list[str] = []
        for tag in entry.tag_slugs:
            bit = 1 << bit_of.setdefault(tag, len(bit_of))
            if not mask & bit:  # "NATO" and "Nato" on one article are one tag, counted once
                by_tag[tag].append(index)
                tags.append(tag)
                mask |= bit
        masks.append(mask)
        tag_lists.append(tuple(tags))

    def related_range(start: int, stop: int) -> list[tuple[str, ...]]:
        found = []
        for index in range(start, stop):
            best = _best_related(index, tag_lists[index], by_tag, masks, limit)
            found.append(tuple(keys[other] for other in best))
        return found

    from .workers import fork_map  # the index stage is otherwise pure; this only splits work

    parts = fork_map(related_range, len(articles), jobs)
    return dict(zip(keys, itertools.chain.from_iterable(parts), strict=True))


def _best_related(index: int, tags: tuple[str, ...], by_tag: dict[str, list[int]],
                  masks: list[int], limit: int) -> list[int]:
    candidates: set[int] = set()
    for tag in tags:
        candidates.update(_nearest(by_tag[tag], index, RELATED_WINDOW))
    candidates.discard(index)
    if len(tags) < 2:  # every candidate shares the one tag: newest first
        return heapq.nsmallest(limit, candidates)
    # Each candidate's score is the number of tags it shares with this article, counting
    # also tags whose list the window cut short (an old article sharing a rare tag and a
    # common one still shares two). Highest score first, then newest (lowest position):
    # one integer per candidate, -score above the position's 32 bits, orders both at once.
    mine = masks[index]
    ranked = heapq.nsmallest(limit, [(-(mine & masks[other]).bit_count() << 32) | other
                                     for other in candidates])
    return [key & 0xFFFF_FFFF for key in ranked]


RELATED_WINDOW = 50


def _nearest(positions: list[int], here: int, window: int) -> list[int]:
    """The `window` entries of an ascending position list closest to position `here`."""
    if len(positions) <= window:
        return positions
    middle = bisect.bisect_left(positions, here)
    start = max(0, min(middle - window // 2, len(positions) - window))
    return positions[start:start + window]


SECTION_BLOCK_SIZE = 4


def section_block_keys(site: Site, shown: Sequence[str],
                       size: int = SECTION_BLOCK_SIZE) -> list[tuple[str, int, tuple[str, ...]]]:
    """(section slug, article count, up to `size` newest keys not in `shown`) per section that
    has any left; the front page's job depends on these keys too."""
    seen = set(shown)
    blocks = []
    for section in site.sections:
        keys = tuple(k for k in section.keys[:size + len(seen)] if k not in seen)[:size]
        if keys:
            blocks.append((section.slug, len(section.keys), keys))
    return blocks
