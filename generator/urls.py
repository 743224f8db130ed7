"""URLs: slugs, permalinks and the base_url sub-path; the only place that builds URLs.

Every internal link goes through `Urls.rel()` so a site under https://x.github.io/news/ links to
/news/..., and every output file name comes from `output_path()`, which refuses anything that
could escape the output folder.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from urllib.parse import quote, urlsplit

from .errors import RouteError

# Windows device names: a file called CON or aux.html breaks checkouts of the site on Windows.
RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
# What separates words once slugify has kept only letters, digits and their marks (non-ASCII)
# and replaced everything else with spaces: ASCII other than letters and digits.
_NON_SLUG = re.compile(r"[^a-z0-9\u0080-\U0010ffff]+")
# Latin letters that NFKD does not decompose into ASCII ("Straße" would become "strae").
_LATIN = str.maketrans({"ß": "ss", "ẞ": "SS", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE",
                        "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "þ": "th",
                        "Þ": "TH", "ð": "d", "Ð": "D", "ı": "i"})
# "C++" and "C#" are not "C": a plus or hash ending a word is spelled out.
_PLUSES = re.compile(r"(?<=\w)(\+\+|\+|#)(?![\w+#])")
_SPELLED = {"++": " plus plus ", "+": " plus ", "#": " sharp "}
# A slug is a file name (content/articles/<slug>.md, public/.../<slug>/): most file systems
# allow 255 bytes, less ".md" and a "-2" for a second article of the same headline.
MAX_SLUG_BYTES = 240


def slugify(text: str, max_length: int = 80) -> str:
    """Lowercase words joined by hyphens; never empty, never a reserved device name.

    Latin letters lose their accents ("Héllo" -> "hello"); letters of other scripts are kept
    as they are ("Москва" -> "москва", "東京" -> "東京"), as Hugo does: transliteration
    guesses, and dropping them gave every such headline and tag the same slug. URLs
    percent-encode them (Urls.rel)."""
    text = _PLUSES.sub(lambda m: _SPELLED[m.group(1)], text.translate(_LATIN))
    if not text.isascii():
        text = _fold(text)
    slug = _NON_SLUG.sub("-", text.lower()).strip("-")
    if len(slug) > max_length or (not slug.isascii() and len(slug.encode()) > MAX_SLUG_BYTES):
        slug = _shortened(slug, max_length)
    if not slug:
        slug = "untitled"
    if slug in RESERVED:
        slug += "-1"
    return slug


def _shortened(slug: str, max_length: int) -> str:
    """`slug` cut at a word to at most `max_length` characters and MAX_SLUG_BYTES bytes (80
    characters of a script outside the Basic Multilingual Plane are 320 bytes)."""
    head = slug[:max_length]
    if not head.isascii():
        head = head.encode()[:MAX_SLUG_BYTES].decode("utf-8", "ignore")
    return (head.rsplit("-", 1)[0] or head).strip("-")


def _fold(text: str) -> str:
    """Accents off Latin letters; other scripts' letters, digits and marks kept; anything
    else a space. (Character by character: only for text that is not ASCII.)"""
    letters = []
    for char in unicodedata.normalize("NFKC", text):
        if char.isascii():
            letters.append(char)
            continue
        decomposed = unicodedata.normalize("NFKD", char)
        if decomposed[0].isascii():  # a Latin letter with marks ("é"), or a ligature ("ﬁ")
            letters.append(decomposed.encode("ascii", "ignore").decode("ascii"))
        elif unicodedata.category(char)[0] in "LN" or unicodedata.category(char) in ("Mn", "Mc"):
            letters.append(char)  # a letter or digit, or a mark (a vowel sign) of one
        else:
            letters.append(" ")
    return "".join(letters)


class Urls:
    """Builds site-relative and absolute URLs under base_url's path."""

    def __init__(self, base_url: str, permalink: str) -> None:
        parts = urlsplit(base_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.base_path = parts.path if parts.path.endswith("/") else parts.path + "/"
        self.permalink = permalink

    def rel(self, path: str) -> str:
        """'/2016/04/x/' -> '/news/2016/04/x/' (percent-encoded, sub-path prefixed)."""
        return quote(self.base_path + path.lstrip("/"), safe="/#?=&%.-_~")

    def absolute(self, path: str) -> str:
        return self.origin + self.rel(path)

    def article_path(self, slug: str, date: datetime, section: str) -> str:
        fields = {
            "year": f"{date.year:04d}",
            "month": f"{date.month:02d}",
            "day": f"{date.day:02d}",
            "slug": slug,
            "section": section,
        }
        return self.permalink.format(**fields)


def output_path(site_path: str) -> str:
    """Map a site path ('/2016/04/x/', '/feed.xml') to a file inside the output folder.

    Raises RouteError for anything that is absolute after normalisation, climbs with '..',
    contains a backslash, NUL or a reserved device name: such a path must never be written.
    """
    # ':' too: "C:" is a drive and "a:b" a stream on Windows, where the site may be checked out.
    if "\x00" in site_path or "\\" in site_path or ":" in site_path:
        raise RouteError(f"unsafe URL path {site_path!r}",
                         hint="remove '\\', ':' and NUL from slugs")
    relative = site_path.lstrip("/")
    if relative == "" or relative.endswith("/"):
        relative += "index.html"
    # Plain string work, like PurePosixPath (empty and "." segments dropped) but 10x cheaper:
    # this runs for every page of the site.
    parts = [part for part in relative.split("/") if part not in ("", ".")]
    if relative.startswith("/") or ".." in parts:
        raise RouteError(f"URL path {site_path!r} would escape the output folder",
                         hint="slugs and permalinks may not contain '..' or empty segments")
    if any(part.split(".")[0].lower() in RESERVED for part in parts):
        raise RouteError(f"URL path {site_path!r} uses a reserved device name",
                         hint="rename the slug (CON, NUL, AUX, COM1... break on Windows)")
    return "/".join(parts)


def paginated(path: str, page: int) -> str:
    """'/tags/x/' page 1 -> '/tags/x/'; page 3 -> '/tags/x/page/3/'."""
    return path if page == 1 else f"{path}page/{page}/"
