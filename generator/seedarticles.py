"""Ingest stage, the look-up: content/articles/*.md → the article each seed already became.

Read tolerantly, because a miss here makes ingest write a second article for the seed: an
article whose front matter does not parse, lost its closing '---', starts with a byte-order mark
or is not UTF-8 still names its seed, and one whose `source:` line was deleted is still found
(build cache records, its `source_sha256`, its file name). Never writes or deletes a file.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHECKSUM_LINE = re.compile(r"^ingest_checksum: .*\n", re.MULTILINE)
SeedRecord = tuple[int, int, str]  # (size, mtime_ns, article path): lets unchanged seeds skip
_FENCE = re.compile(r"^-{3,}[ \t\r]*$", re.MULTILINE)
_BLANK_LINE = re.compile(r"^[ \t\r]*$", re.MULTILINE)
# Ingest's bookkeeping keys (and the title it wrote), read line by line so that a typo elsewhere
# in the front matter (or a lost fence) cannot hide them. A quoted value is read as YAML.
_BOOKKEEPING_LINE = re.compile(
    r"^(source|source_sha256|ingest_version|ingest_checksum|title)[ \t]*:[ \t]*"
    r"(\S[^\n]*?)[ \t]*\r?$", re.MULTILINE)
# Only ingest writes these: an article carrying one but no `source:` had its source line deleted.
_INGEST_MARKS = ("source_sha256", "ingest_version", "ingest_checksum")


@dataclass(frozen=True, slots=True)
class ExistingArticle:
    """An article found for a seed, as far as its file can be read."""

    path: Path  # relative to the project root
    metadata: dict[str, Any]  # its front matter; only the bookkeeping keys when `problem` is set
    hand_edited: bool
    problem: str | None = None  # why its front matter cannot be read ...
    line: int | None = None  # ... and where
    detached: bool = False  # written by ingest, but no longer names its seed (source: deleted)


@dataclass(frozen=True, slots=True)
class _Scanned:
    path: Path  # relative to the project root
    bookkeeping: dict[str, str]


class ArticleIndex:
    """The articles in content/articles/: those naming a seed, and those naming none, which a
    seed may still claim (the last build's record says so, or ingest's bookkeeping matches)."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._by_source: dict[str, _Scanned] = {}
        self._unnamed: dict[Path, _Scanned] = {}  # no `source:`, not yet claimed by a seed
        self._detached: dict[Path, _Scanned] = {}  # those of them that ingest wrote
        for path in sorted(p for p in (root / "content" / "articles").glob("*.md")
                           if p.is_file()):  # never a FIFO
            try:
                raw = path.read_bytes()
            except OSError:
                continue  # the load stage reports it
            scanned = _Scanned(path.relative_to(root), _bookkeeping(_decode(raw)[0]))
            source = scanned.bookkeeping.get("source")
            if source:
                self._by_source.setdefault(source, scanned)
            else:
                self._unnamed[scanned.path] = scanned
                if any(mark in scanned.bookkeeping for mark in _INGEST_MARKS):
                    self._detached[scanned.path] = scanned

    def named(self, seed: str) -> ExistingArticle | None:
        """The article whose `source:` names `seed` (a seed path relative to the root)."""
        scanned = self._by_source.get(seed)
        return self._examine(scanned.path) if scanned else None

    def recorded(self, record: SeedRecord | None) -> ExistingArticle | None:
        """The article the build cache says the seed became, if it now names no seed."""
        scanned = self._unnamed.pop(Path(record[2]), None) if record else None
        if scanned is None:
            return None
        self._detached.pop(scanned.path, None)  # one seed per article
        return self._examine(scanned.path, detached=True)

    def detached_with_sha(self, sha: str) -> ExistingArticle | None:
        """An article ingest wrote from exactly these seed bytes, whose `source:` was deleted."""
        return self._claim_detached(lambda scanned: scanned.bookkeeping.get("source_sha256")
                                    == sha)

    def detached_for(self, slugs: re.Pattern[str], headline_key: str
                     ) -> ExistingArticle | None:
        """An article ingest wrote, whose `source:` was deleted, named as the seed's article
        would be (`slugs` matches its file name) or titled with the seed's headline."""
        return self._claim_detached(lambda scanned: bool(slugs.fullmatch(scanned.path.stem))
                                    or _title_key(scanned.bookkeeping.get("title")) == headline_key)

    def _claim_detached(self, matches: Callable[[_Scanned], bool]) -> ExistingArticle | None:
        for path, scanned in self._detached.items():
            if matches(scanned):
                del self._detached[path], self._unnamed[path]  # one seed per article
                return self._examine(path, detached=True)
        return None

    def _examine(self, path: Path, detached: bool = False) -> ExistingArticle:
        """Read one article fully: its front matter, whether it parses, whether it was edited."""
        try:
            raw = (self._root / path).read_bytes()
        except OSError as err:
            return ExistingArticle(path, {}, True, f"cannot read it: {err.strerror}", None,
                                   detached)
        text, decode_problem = _decode(raw)
        metadata: dict[str, Any] = dict(_bookkeeping(text))
        problem, line = decode_problem or (None, None)
        if problem is None:
            parsed, problem, line = parse_front_matter(text)
            metadata = parsed if problem is None else metadata
        return ExistingArticle(path, metadata, problem is not None or detached
                               or is_hand_edited(text), problem, line, detached)


def is_hand_edited(text: str) -> bool:
    match = CHECKSUM_LINE.search(text)
    if not match:
        return True  # no checksum: written by a person, never ours to overwrite
    recorded = match.group(0).split(":", 1)[1].strip()
    without = text[: match.start()] + text[match.end():]
    return hashlib.sha256(without.encode("utf-8")).hexdigest() != recorded


def parse_front_matter(text: str) -> tuple[dict[str, Any], str | None, int | None]:
    """(front matter, None, None), or ({}, what is wrong, its 1-based line): the load stage's
    own parse (content.split_front_matter), so ingest and the build agree on what is broken."""
    from .content import split_front_matter  # only for articles of changed seeds
    from .errors import ContentError

    opening = _FENCE.match(text)
    closing = _FENCE.search(text, opening.end()) if opening else None
    if opening is None:
        return {}, "it does not start with a '---' line", 1
    if closing is None:
        return {}, "its front matter has no closing '---' line", 1
    try:
        metadata, _ = split_front_matter(text, Path())
    except ContentError as err:
        line = err.location.line if err.location and err.location.line else 1
        return {}, err.message.removeprefix("malformed front matter: "), line
    return metadata, None, None


def _decode(raw: bytes) -> tuple[str, tuple[str, int] | None]:
    """The text (without a byte-order mark), and what is wrong with its encoding, if anything."""
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        # The bookkeeping lines are ASCII: still readable around the bad bytes.
        return raw.decode("utf-8", errors="replace"), ("it is not valid UTF-8", line)


def _bookkeeping(text: str) -> dict[str, str]:
    """Ingest's bookkeeping lines in the front matter, read line by line (first of each wins)."""
    opening = _FENCE.match(text)
    start = opening.end() if opening else 0
    # The front matter ends at its closing fence; without one, at the first blank line (ingest
    # writes none inside it), so that a lost fence does not turn the body into front matter.
    end_match = _FENCE.search(text, start) or _BLANK_LINE.search(text, start + 1)
    head = text[start : end_match.start() if end_match else len(text)]
    found: dict[str, str] = {}
    for key, value in _BOOKKEEPING_LINE.findall(head):
        found.setdefault(key, _scalar(value))
    return found


def _title_key(title: str | None) -> str | None:
    from .seedlines import comparison_key

    return comparison_key(title) or None if title else None


def _scalar(value: str) -> str:
    if value[:1] not in ("'", '"'):
        return value.split(" #", 1)[0].rstrip()
    import yaml

    try:
        loaded = yaml.safe_load(value)
    except yaml.YAMLError:
        return value.strip("'\"")
    return loaded if isinstance(loaded, str) else value.strip("'\"")
