"""Seed stage, line by line: one line of a seed's header area → a `HeaderLine` (photo credit,
caption, byline or date) or None when it is text; and a paragraph → its dateline and the rest.

Pure: never touches the disk and keeps no state; `seed.py` decides which lines are asked about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from .seeddates import parse_date

# Header lines are short; longer lines are always text, which also keeps every regex cheap.
_MAX_META_LINE = 300
_MAX_DATELINE = 120

_KEY_JUNK = re.compile(r"[\W_]+")
_CREDIT_LABEL = re.compile(r"(?i)(?:photo(?:graph)?|image|picture|credit)s?\s*:\s*(?P<value>\S.*)")
_CREDIT_BY = re.compile(r"(?:photo(?:graph)?|image|picture)\s+by\s+(?P<value>\S.*)", re.IGNORECASE)
_PHOTO_WORD = re.compile(r"\bphoto", re.IGNORECASE)
# A caption and its credit on one line, as the Guardian prints them: the caption's sentence
# ends, then a labelled credit of a few words.
_CAPTIONED_CREDIT = re.compile(
    r"(?P<caption>\S.{0,300}?)\s+(?P<label>(?:photo(?:graph)?|image|picture|credit)s?)\s*:\s*"
    r"(?P<value>[^.!?:]{1,60}?)\.?", re.IGNORECASE)
_SENTENCE_END = tuple(".!?\"”’')")
# Words a credit may hold besides names ("Jane Doe/AFP via Getty Images").
_CREDIT_CONNECTORS = frozenset({"of", "for", "via", "the", "and", "de", "del", "van", "von", "la",
                                "le", "handout", "&"})
_CAPTION = re.compile(r"caption\s*:\s*(?P<value>\S.*)", re.IGNORECASE)
_BYLINE = re.compile(r"by\s+(?P<value>\S.*)", re.IGNORECASE)
_NAME_SPLIT = re.compile(r"\s*[,;|]\s*|\s+(?:and|&)\s+|\s+[-–—]\s+", re.IGNORECASE)
_NAME_WORD = re.compile(r"[^\W\d_][\w.'’\-]*")
_NAME_PARTICLES = frozenset(("al", "bin", "da", "de", "del", "der", "di", "du", "la", "van", "von"))
_AGENCIES = frozenset(
    name.casefold()
    for name in (
        "AP", "Associated Press", "The Associated Press", "Reuters", "AFP", "Agence France-Presse",
        "Bloomberg", "dpa", "EFE", "Xinhua", "UPI", "TASS", "ANSA", "PA", "PA Media",
        "Press Association", "CNN", "BBC", "BBC News", "Al Jazeera", "VOA", "Voice of America",
        "Agencies", "Wire Services",
    )
)
_ROLE_WORDS = frozenset({"writer", "reporter", "correspondent", "editor", "contributor", "staff"})
# A date line's label, at its start or between two dates on one line ("Published April 21,
# 2016 Updated April 22, 2016"; the Guardian's "Thu 21 Apr 2016 15.00 BST First published on
# Thu 21 Apr 2016 13.00 BST").
_DATE_LABEL = re.compile(
    r"(?P<label>(?:first\s+|originally\s+)?published|posted|dated?"
    r"|(?:last\s+)?(?:updated|modified))\b(?:\s+(?:on|at))?\s*(?P<colon>:)?\s*", re.IGNORECASE)
_INNER_DATE_LABEL = re.compile(
    r"(?<!last)(?<!first)(?<!originally) ?[|·•,;]? (?=(?:first |originally )?published\b"
    r"|(?:last )?(?:updated|modified)\b)", re.IGNORECASE)  # on a line of single spaces
_UPDATE_LABELS = ("updated", "modified")
_DATELINE = re.compile(
    # Words of letters joined by one space, hyphen, dot or apostrophe ("ST. LOUIS", "U.S.").
    r"(?P<place>[^\W\d_]+(?:(?:[.'’]?[ \-]|[.'’])[^\W\d_]+){0,5}\.?)"
    r"(?P<extra>,[^,()—–\n]{1,40}?)?"
    r"(?P<agency>\s*\([^()\n]{1,40}\))?"
    r"(?:\s*[—–]\s*|\s+--?\s+)"
)


@dataclass(frozen=True, slots=True)
class HeaderLine:
    """One recognised header line."""

    kind: Literal["credit", "caption", "byline", "date"]
    line: int = 0
    value: str = ""
    caption: str = ""  # a caption line's text, or the text before a "(… Photo …)" credit
    authors: tuple[str, ...] = ()
    when: datetime | None = None  # a date line's publication date ...
    updated: datetime | None = None  # ... and the time it says the story was updated


def header_line(line: str, number: int) -> HeaderLine | None:
    if len(line) > _MAX_META_LINE:
        return None
    if match := _CAPTION.fullmatch(line):
        return HeaderLine("caption", number, caption=match["value"])
    if credit := _credit(line, number):
        return credit
    if match := _BYLINE.fullmatch(line):
        authors = _authors(match["value"], min_words=1)
        if authors is not None:
            return HeaderLine("byline", number, authors=authors)
    head, comma, tail = line.rpartition(",")
    if comma and _is_affiliation(tail.strip()):
        authors = _authors(head, min_words=2)
        if authors:
            return HeaderLine("byline", number, authors=authors)
    return _date_meta(line, number)


def _credit(line: str, number: int) -> HeaderLine | None:
    if match := _CREDIT_LABEL.fullmatch(line) or _CREDIT_BY.fullmatch(line):
        return HeaderLine("credit", number, match["value"])
    if (match := _CAPTIONED_CREDIT.fullmatch(line)) and _is_captioned_credit(match):
        return HeaderLine("credit", number, match["value"], caption=match["caption"])
    opening = line.rfind("(")
    if line.endswith(")") and opening >= 0:
        inner = line[opening + 1 : -1].strip()
        if _PHOTO_WORD.search(inner) and ")" not in inner:
            labelled = _CREDIT_LABEL.fullmatch(inner) or _CREDIT_BY.fullmatch(inner)
            value = labelled["value"] if labelled else inner
            return HeaderLine("credit", number, value, caption=line[:opening].strip())
    return None


def _is_captioned_credit(match: re.Match[str]) -> bool:
    """Whether "Caption. Photograph: Agency" really is one, not a sentence that happens to hold
    "photo:" ("He showed the photo: a crater."): the caption ends a sentence (or the label is
    capitalised), and the credit is names, as credits are."""
    if not (match["caption"].endswith(_SENTENCE_END) or match["label"][0].isupper()):
        return False
    value = match["value"]
    if value.casefold().startswith("courtesy "):
        return True  # "Courtesy of the family"
    words = value.replace("/", " ").split()
    return value[0].isupper() and all(
        word[0].isupper() or word[0].isdigit() or word.casefold() in _CREDIT_CONNECTORS
        for word in words)


def _is_affiliation(text: str) -> bool:
    folded = text.casefold()
    words = folded.split()
    return folded in _AGENCIES or (bool(words) and words[-1] in _ROLE_WORDS)


def _authors(text: str, min_words: int) -> tuple[str, ...] | None:
    """The names in a byline, agencies left out; None when `text` is not a list of names."""
    names: list[str] = []
    for part in _NAME_SPLIT.split(text):
        if not part.strip() or _is_affiliation(part):
            continue
        words = part.split()
        if not min_words <= len(words) <= 4 or not words[0][0].isupper():
            return None
        for word in words:
            if not _NAME_WORD.fullmatch(word):
                return None
            if not word[0].isupper() and word.casefold() not in _NAME_PARTICLES:
                return None
        names.append(part)
    return tuple(names)


def _date_meta(line: str, number: int) -> HeaderLine | None:
    """A date line: a date (and time) with an optional label, or two labelled ones."""
    segments: list[tuple[str, str, bool]] = []  # (label, date text, colon after the label)
    for index, part in enumerate(_INNER_DATE_LABEL.split(" ".join(line.split()))):
        labelled = _DATE_LABEL.match(part)
        if index and labelled is None:
            return None
        text = part[labelled.end():] if labelled else part
        segments.append((labelled["label"].lower() if labelled else "", text,
                         bool(labelled and labelled["colon"])))
    published: datetime | None = None
    updated: datetime | None = None
    undated: datetime | None = None  # a date without a label
    for index, (label, text, colon) in enumerate(segments):
        when = parse_date(text) if text else None
        if when is None:
            if index == 0 and not colon:
                return None  # "Updated figures show…" is a sentence, not a date line
            continue  # "Updated: 2 hours ago": nothing to date the article with
        if not label:
            undated = undated or when
        elif label.endswith(_UPDATE_LABELS):
            updated = updated or when
        else:
            published = published or when
    # A date standing beside "First published on …" is when the story was last changed.
    if published is None:
        published = undated
    elif updated is None:
        updated = undated
    return HeaderLine("date", number, line, when=published, updated=updated)


def split_dateline(paragraph: str) -> tuple[str | None, str]:
    """("WASHINGTON", "text") for "WASHINGTON — text"; (None, paragraph) without a dateline."""
    match = _DATELINE.match(paragraph[:_MAX_DATELINE])
    # Only a place in capitals counts, and what follows it opens a sentence: neither
    # "Washington — the capital" nor "NATO — the alliance" has a dateline.
    if match is None or not match["place"].isupper() or len(comparison_key(match["place"])) < 2:
        return None, paragraph
    rest = paragraph[match.end() :].strip()
    if not rest or rest[0].islower():
        return None, paragraph
    ends = [match.end(group) for group in ("place", "extra", "agency") if match[group]]
    return paragraph[: max(ends)].strip(), rest


def comparison_key(text: str) -> str:
    """Comparison key for spotting a repeated headline: letters and digits only, casefolded."""
    return _KEY_JUNK.sub("", text.casefold())
