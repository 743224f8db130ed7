"""Seed stage, dates: the text of a seed's date line → a datetime, as wires and papers write it.

"April 21, 2016 10:30 AM EDT", "Thu 21 Apr 2016 14.30 BST", "2016-04-21 14:30:00 UTC",
"10:30 a.m. ET, Thu April 21, 2016", "21 April 2016 09:30 +0200". Pure and stateless. A date
without a zone comes back naive: the caller reads it in the site's time zone.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import cache

_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")
# Fixed offsets in minutes: an abbreviation names its offset whatever the date (a wire that
# writes "EST" in July means EST). Ambiguous ones (IST: Irish or Indian) are left out.
_FIXED_ZONES = {"UTC": 0, "GMT": 0, "Z": 0, "BST": 60, "CET": 60, "CEST": 120,
                "EET": 120, "EEST": 180, "WET": 0, "WEST": 60, "EST": -300, "EDT": -240,
                "CST": -360, "CDT": -300, "MST": -420, "MDT": -360, "PST": -480, "PDT": -420,
                "AKST": -540, "AKDT": -480, "HST": -600, "JST": 540, "AEST": 600, "AEDT": 660}
# "ET" is EST in winter and EDT in summer: the region's rules decide from the date.
_REGIONAL_ZONES = {"ET": "America/New_York", "CT": "America/Chicago", "MT": "America/Denver",
                   "PT": "America/Los_Angeles"}
_ZONE_NAMES = "|".join(sorted((*_FIXED_ZONES, *_REGIONAL_ZONES), key=len, reverse=True))

_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
_MONTH = r"[a-z]{3,9}\.?"
_DAY = r"[0-9]{1,2}(?:st|nd|rd|th)?"
_DATE = (rf"(?:(?P<iso_y>[0-9]{{4}})-(?P<iso_m>[0-9]{{1,2}})-(?P<iso_d>[0-9]{{1,2}})"
         rf"|(?P<mdy_m>{_MONTH})\s*(?P<mdy_d>{_DAY}),?\s+(?P<mdy_y>[0-9]{{4}})"
         rf"|(?P<dmy_d>{_DAY})\s+(?P<dmy_m>{_MONTH}),?\s+(?P<dmy_y>[0-9]{{4}}))")
# 14:30, 14.30, 14:30:05, 2:30 pm, 2:30p.m., 2 PM; minutes are required without am/pm.
_TIME = (r"(?P<hour>[0-9]{1,2})(?:[:.](?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2})"
         r"(?:\.[0-9]+)?)?)?\s*(?P<half>[ap]\.?\s?m\.?)?")
_ZONE = (rf"\(?(?P<zone>(?:utc|gmt)\s?[+-][0-9]{{1,2}}(?::?[0-9]{{2}})?|[+-][0-9]{{2}}:?[0-9]{{2}}"
         rf"|(?:{_ZONE_NAMES})\b)\)?")
# What stands between the parts: spaces, a comma, "at", a slash, a bar, a dash, or ISO's "T".
_SEP = r"(?:\s*[,/|–—-]\s*|\s+at\s+|\s+|(?<=[0-9])t(?=[0-9]))"
_DATE_FIRST = re.compile(rf"{_WEEKDAY}{_DATE}(?:{_SEP}{_TIME})?(?:{_SEP}?{_ZONE})?\.?",
                         re.IGNORECASE)
_TIME_FIRST = re.compile(rf"{_TIME}(?:{_SEP}?{_ZONE})?{_SEP}{_WEEKDAY}{_DATE}\.?", re.IGNORECASE)
_YEAR = re.compile(r"(?<![0-9])[0-9]{4}(?![0-9])")
_MAX_LENGTH = 80


def parse_date(text: str) -> datetime | None:
    """The date and time `text` gives (see the module docstring); None when it is not one."""
    text = " ".join(text.split())
    if len(text) > _MAX_LENGTH or not _YEAR.search(text):
        return None  # every accepted form has a four-digit year; most text lines have none
    match = _DATE_FIRST.fullmatch(text) or _TIME_FIRST.fullmatch(text)
    if match is None or (match["hour"] and not (match["minute"] or match["half"])):
        return None
    parts = match.groupdict()
    year, month, day = _date_parts(parts)
    hour, minute, second = _time_parts(parts)
    if month is None or hour is None:
        return None
    try:
        when = datetime(year, month, day, hour, minute, second)
    except (ValueError, OverflowError):
        return None
    return when.replace(tzinfo=_zone(parts["zone"])) if parts["zone"] else when


def _date_parts(parts: dict[str, str | None]) -> tuple[int, int | None, int]:
    if parts["iso_y"]:
        return int(parts["iso_y"]), int(parts["iso_m"] or 0), int(parts["iso_d"] or 0)
    prefix = "mdy" if parts["mdy_y"] else "dmy"
    day = (parts[f"{prefix}_d"] or "0").rstrip("stndrh")
    return int(parts[f"{prefix}_y"] or 0), _month(parts[f"{prefix}_m"] or ""), int(day)


def _month(name: str) -> int | None:
    """1-12 for a month's name or its abbreviation ("Apr", "Apr.", "Sept"), else None."""
    name = name.rstrip(".").lower()
    for number, full in enumerate(_MONTHS, 1):
        if len(name) >= 3 and full.startswith(name):
            return number
    return None


def _time_parts(parts: dict[str, str | None]) -> tuple[int | None, int, int]:
    hour, minute, second = (int(parts[key] or 0) for key in ("hour", "minute", "second"))
    half = (parts["half"] or "").lower()[:1]
    if half:
        if not 1 <= hour <= 12:
            return None, 0, 0  # "14:30 PM" is no time
        hour = hour % 12 + (12 if half == "p" else 0)
    return hour, minute, second


@cache
def _zone(name: str) -> tzinfo:
    name = name.upper().replace(" ", "")
    if name in _FIXED_ZONES:
        minutes = _FIXED_ZONES[name]
        return timezone(timedelta(minutes=minutes)) if minutes else UTC
    if name in _REGIONAL_ZONES:
        from zoneinfo import ZoneInfo

        return ZoneInfo(_REGIONAL_ZONES[name])
    offset = name.removeprefix("UTC").removeprefix("GMT")
    sign = -1 if offset[0] == "-" else 1
    hours_text, _, minutes_text = offset[1:].partition(":")
    if not minutes_text and len(hours_text) > 2:  # "+0200"
        hours_text, minutes_text = hours_text[:-2], hours_text[-2:]
    delta = timedelta(hours=int(hours_text), minutes=int(minutes_text or 0))
    return timezone(sign * delta) if delta else UTC
