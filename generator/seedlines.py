"""Seed stage, line by line: one line of a seed's header area → a `HeaderLine` (photo credit,
caption, byline or date) or None when it is text; and a paragraph → its dateline and the rest.

Pure: never touches the disk and keeps no state; `seed.py` decides which lines are asked about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Literal

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
    r"(?P<caption>\S.{0,300}?[.!?])\s+(?:photo(?:graph)?|image|picture)s?\s*:\s*"
    r"(?P<value>[^.!?:]{1,60}?)\.?", re.IGNORECASE)
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
_DATE_LABEL = re.compile(
    r"(?i)(?P<label>published|posted|dated?|last updated|updated|modified)(?:\s+on)?\s*"
    r"(?P<colon>:)?\s*(?P<value>\S.*)"
)
_WEEKDAY = re.compile(r"(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+", re.IGNORECASE)
_MONTH_ABBREVIATION = re.compile(r"(?i)\b(jan|feb|mar|apr|jun|jul|aug|sep|oct|nov|dec)(?:t\b)?\.?")
_ISO = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?"
)
_YEAR = re.compile(r"(?<![0-9])[0-9]{4}(?![0-9])")
# A time zone closing a date line: an abbreviation wires use, or a numeric offset.
_ZONE_SUFFIX = re.compile(
    r"\s+(?P<zone>UTC|GMT|BST|CEST|CET|EDT|EST|CDT|CST|MDT|MST|PDT|PST|ET|CT|MT|PT"
    r"|[+-][0-9]{2}:?[0-9]{2})$", re.IGNORECASE)
_FIXED_ZONES = {"UTC": 0, "GMT": 0, "BST": 60, "CET": 60, "CEST": 120, "EST": -300, "EDT": -240,
                "CST": -360, "CDT": -300, "MST": -420, "MDT": -360, "PST": -480, "PDT": -420}
# "ET" is EST or EDT depending on the date: the zone's rules decide.
_REGIONAL_ZONES = {"ET": "America/New_York", "CT": "America/Chicago", "MT": "America/Denver",
                   "PT": "America/Los_Angeles"}
_DATE_FORMATS = (
    "%B %d, %Y", "%B %d %Y", "%d %B %Y", "%d %B, %Y", "%B %d, %Y %H:%M", "%B %d, %Y %I:%M %p",
    "%B %d, %Y, %I:%M %p", "%d %B %Y %H:%M", "%d %B %Y %H.%M", "%B %d, %Y %I.%M %p",
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M",
)
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

    kind: Literal["credit", "caption", "byline", "date", "ignored"]
    line: int = 0
    value: str = ""
    caption: str = ""  # a caption line's text, or the text before a "(… Photo …)" credit
    authors: tuple[str, ...] = ()
    when: datetime | None = None


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
    if match := _CAPTIONED_CREDIT.fullmatch(line):  # "Caption. Photograph: Agency"
        return HeaderLine("credit", number, match["value"], caption=match["caption"])
    opening = line.rfind("(")
    if line.endswith(")") and opening >= 0:
        inner = line[opening + 1 : -1].strip()
        if _PHOTO_WORD.search(inner) and ")" not in inner:
            labelled = _CREDIT_LABEL.fullmatch(inner) or _CREDIT_BY.fullmatch(inner)
            value = labelled["value"] if labelled else inner
            return HeaderLine("credit", number, value, caption=line[:opening].strip())
    return None


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
    if match := _DATE_LABEL.fullmatch(line):
        when = _parse_date(match["value"])
        if not match["colon"] and when is None:
            return None  # "Updated figures show…" is a sentence, not a date line
        if match["label"].casefold() in ("updated", "last updated", "modified"):
            return HeaderLine("ignored", number)
        return HeaderLine("date", number, match["value"], when=when)
    if len(line) <= 40 and any(char.isdigit() for char in line):
        when = _parse_date(line)
        if when is not None:
            return HeaderLine("date", number, line, when=when)
    return None


def _parse_date(text: str) -> datetime | None:
    """A date in one of the documented forms; naive unless the text names a zone or offset."""
    text = text.strip()
    if not _YEAR.search(text):
        return None  # strptime is slow to fail; every accepted form has a four-digit year
    if weekday := _WEEKDAY.match(text):
        text = text[weekday.end():]
    if _ISO.fullmatch(text):
        try:
            return datetime.fromisoformat(text)
        except (ValueError, OverflowError):
            return None
    zone = None
    if suffix := _ZONE_SUFFIX.search(text):
        text, zone = text[: suffix.start()], suffix["zone"].upper()
    text = _MONTH_ABBREVIATION.sub(lambda m: m[1], text)
    for fmt in _DATE_FORMATS:
        for month in ("%B", "%b"):
            try:
                parsed = datetime.strptime(text, fmt.replace("%B", month))
            except (ValueError, OverflowError):
                continue
            return parsed.replace(tzinfo=_zone(zone)) if zone else parsed
    return None


def _zone(name: str) -> tzinfo:
    if name in _FIXED_ZONES:
        return timezone(timedelta(minutes=_FIXED_ZONES[name])) if _FIXED_ZONES[name] else UTC
    if name in _REGIONAL_ZONES:
        from zoneinfo import ZoneInfo

        return ZoneInfo(_REGIONAL_ZONES[name])
    sign = -1 if name[0] == "-" else 1
    digits = name[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


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
