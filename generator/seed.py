"""Seed stage: the raw bytes of one seed file → a `Seed` (headline, standfirst, photo credit and
caption, byline, dateline, date, body paragraphs) plus a warning for every fallback taken.

Pure: never touches the disk, never escapes or rewrites the news text, never raises anything
but `IngestError`.
"""

# How a seed is read (the README copies these rules):
# - Decoding: a UTF-8 BOM is dropped; UTF-8 is tried first, then Windows-1252, then Latin-1
#   (with a warning). NUL bytes or more than 10% control bytes mean "not a text file".
# - Blocks are separated by blank lines; the lines of one block are joined with single spaces.
# - Line 1 is the headline; straight or curly quotes wrapping all of it are dropped. Copies of
#   the headline among the first 6 blocks (compared ignoring case, quotes, punctuation, spaces)
#   are dropped.
# - The header area runs from the headline to the first body paragraph. Only there are credit,
#   caption, byline and date lines recognised (whole lines, at the start or end of a block), and
#   they never reach the body.
# - Standfirst: the block right after the headline, when it opens with text (not a header line
#   or a dateline) and another text block follows it. Otherwise there is none (warning).
# - Caption: a `Caption: …` line; the text before a trailing `(… Photo …)` credit on the same
#   line, or before a "Photograph: …" credit (of names) ending a sentence on it; or one text
#   line of up to 200 characters directly below or above a credit line in the same block (no
#   blank line between them: a line glued to the credit belongs to it).
# - Dateline: uppercase place words opening the first body paragraph, optionally followed by
#   ", date" and "(Agency)", then a dash: "WASHINGTON —", "NEW YORK, April 21 (AP) —".

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from .errors import Diagnostic, IngestError, SourceLocation
from .seedlines import HeaderLine, comparison_key, header_line, split_dateline


@dataclass(frozen=True, slots=True)
class Seed:
    """One seed file, read: the parts of the article as written, and what had to fall back."""

    path: Path
    headline: str
    standfirst: str | None
    image_credit: str | None
    image_caption: str | None
    authors: tuple[str, ...]
    dateline: str | None
    # Naive when the seed names no zone: the caller applies the site's time zone.
    date: datetime | None
    paragraphs: tuple[str, ...]
    warnings: tuple[Diagnostic, ...]
    updated: datetime | None = None  # from an "Updated: …" line, as `date`


_BOM = b"\xef\xbb\xbf"
# C0 controls other than tab, LF, VT, FF, CR and ESC, plus DEL: prose never contains them.
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 11, 12, 13, 27)) + b"\x7f"
_BINARY_SAMPLE = 65536
_BINARY_SHARE = 0.1
_HEADLINE_COPY_WINDOW = 6
# Real header areas are a handful of lines. The caps keep a scrape of a million "Photo:" or
# date lines linear and cheap: beyond them everything is body text.
_HEADER_BLOCKS = 12
_PEEL = 10
_LONG_HEADLINE = 300

_QUOTE = re.compile('["“”]')


class _Block(NamedTuple):
    """A run of non-blank lines, each stripped; `start` is the 1-based line of the first."""

    # A NamedTuple, not a frozen dataclass: a 10 MB seed can make a million of them.

    start: int
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.lines)


@dataclass(frozen=True, slots=True)
class _Header:
    credit: str | None
    caption: str | None
    authors: tuple[str, ...]
    date: datetime | None
    updated: datetime | None


def parse_seed(raw: bytes, path: Path) -> Seed:
    """Read one seed file's bytes; raise `IngestError` only when there is no article at all."""
    text, warnings = _decode(raw, path)
    blocks = _blocks(text)
    if not blocks:
        raise IngestError(f"{path} is empty", SourceLocation(path), hint="a seed needs its "
                          "headline on the first line, then a blank line and the body")
    head, rest = blocks[0], blocks[1:]
    if len(head.lines) > 1:
        warnings.append(_warn(path, head.start + 1, "the headline line is followed by more "
                              "text without a blank line; that text was read as the next block"))
        rest.insert(0, _Block(head.start + 1, head.lines[1:]))
    headline = _unwrap_quotes(head.lines[0])
    if len(headline) > _LONG_HEADLINE:
        warnings.append(_warn(path, head.start, f"the headline is {len(headline)} characters "
                              "long; is line 1 really a headline?"))
    standfirst, body, metas = _layout(rest, headline)
    header = _fold_header(metas, path, warnings)
    paragraphs = tuple(block.text for block in body)
    dateline, first = split_dateline(paragraphs[0]) if paragraphs else (None, "")
    paragraphs = (first, *paragraphs[1:]) if dateline else paragraphs
    if not paragraphs:
        warnings.append(_warn(path, head.start, "no body: the seed has only a headline; "
                              "its article is a draft (draft: true), left out of the site",
                              "add the story below the headline, after a blank line, and the "
                              "next build publishes it; or write it in the article and delete "
                              "its draft: true line (newsgen build --drafts previews drafts)"))
    elif standfirst is None:
        warnings.append(_warn(path, body[0].start, "no standfirst: the block after the "
                              "headline is not a summary followed by more body",
                              "put a one-paragraph summary right below the headline"))
    return Seed(
        path=path, headline=headline, standfirst=standfirst.text if standfirst else None,
        image_credit=header.credit, image_caption=header.caption, authors=header.authors,
        dateline=dateline, date=header.date, paragraphs=paragraphs, warnings=tuple(warnings),
        updated=header.updated,
    )


def _warn(path: Path, line: int | None, message: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic("warning", message, SourceLocation(path, line), hint)


def _decode(raw: bytes, path: Path) -> tuple[str, list[Diagnostic]]:
    raw = raw.removeprefix(_BOM)
    sample = raw[:_BINARY_SAMPLE]
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if b"\0" in raw or controls > _BINARY_SHARE * len(sample):
        raise IngestError(f"{path} is not a text file", SourceLocation(path), hint="a seed "
                          "must be plain text (UTF-8); re-save UTF-16 files as UTF-8")
    try:
        return raw.decode("utf-8"), []
    except UnicodeDecodeError as err:
        bad = err.start
    try:
        text, encoding = raw.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        # Latin-1 maps every byte, so this cannot fail.
        text, encoding = raw.decode("latin-1"), "Latin-1"
    before = raw[:bad].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    where = SourceLocation(path, before.count(b"\n") + 1, len(before) - before.rfind(b"\n"))
    message = f"not valid UTF-8 (first bad byte at offset {bad}); decoded as {encoding}"
    return text, [Diagnostic("warning", message, where, hint="re-save the seed as UTF-8")]


def _blocks(text: str) -> list[_Block]:
    """Split text into blocks at blank lines (whitespace-only lines are blank)."""
    blocks: list[_Block] = []
    current: list[str] = []
    start = 0
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped:
            if not current:
                start = number
            current.append(stripped)
        elif current:
            blocks.append(_Block(start, tuple(current)))
            current = []
    if current:
        blocks.append(_Block(start, tuple(current)))
    return blocks


def _unwrap_quotes(headline: str) -> str:
    """Drop quotes that wrap the whole headline, but not those of `"Yes," he said, "no"`."""
    inner = headline[1:-1]
    if len(headline) < 3 or headline[0] not in '"“' or headline[-1] not in '"”' or not inner.strip():
        return headline
    depth = 0
    for match in _QUOTE.finditer(inner):
        quote, at = match.group(), match.start()
        # A straight quote opens after a space or an opening bracket, and closes otherwise.
        opens = quote == "“" or (quote == '"' and (at == 0 or inner[at - 1] in " \t([{—–-"))
        depth += 1 if opens else -1
        if depth < 0:
            return headline  # an inner quote closed the opening one
    return inner.strip()


def _layout(
    blocks: list[_Block], headline: str
) -> tuple[_Block | None, list[_Block], list[HeaderLine]]:
    """Split the blocks after the headline into standfirst, body and header lines."""
    key = comparison_key(headline)
    metas: list[HeaderLine] = []
    texts: list[_Block] = []
    candidate = False  # texts[0] may be the standfirst
    right_after_headline = True
    rest = len(blocks)
    for index, block in enumerate(blocks):
        if index >= _HEADER_BLOCKS or len(texts) == 2 or (texts and not candidate):
            rest = index
            break
        if _is_copy(index, block, key, headline):
            continue
        # Right below the headline, a line glued above a credit is the standfirst.
        found, text = _read_block(block, caption_above=not right_after_headline)
        metas.extend(found)
        if text is not None:
            if not texts:
                # A header line above the text (a byline, say) means the body has begun.
                dated = split_dateline(text.lines[0])[0] is not None
                candidate = right_after_headline and text.start == block.start and not dated
            texts.append(text)
        right_after_headline = False
    window = max(rest, _HEADLINE_COPY_WINDOW)
    body = texts + [b for i, b in enumerate(blocks[rest:window], rest)
                    if not _is_copy(i, b, key, headline)] + blocks[window:]
    # A lone text block is the body's only paragraph, not a standfirst.
    if candidate and len(body) > 1:
        return body[0], body[1:], metas
    return None, body, metas


def _is_copy(index: int, block: _Block, key: str, headline: str) -> bool:
    if index >= _HEADLINE_COPY_WINDOW or not key:
        return False
    # Cheap length test first, so a huge block is never normalised for nothing.
    if sum(len(line) + 1 for line in block.lines) > 2 * len(headline) + 10:
        return False
    return comparison_key(block.text) == key


_MAX_CAPTION = 200  # characters: a longer line glued to a credit is body text, not a caption


def _read_block(block: _Block, caption_above: bool = True
                ) -> tuple[list[HeaderLine], _Block | None]:
    """Peel header lines off both ends of a header-area block; return them and the text left."""
    lines, count = block.lines, len(block.lines)
    lead: list[HeaderLine] = []
    while len(lead) < min(count, _PEEL):
        if (meta := header_line(lines[len(lead)], block.start + len(lead))) is None:
            break
        lead.append(meta)
    end = count
    tail: list[HeaderLine] = []
    while end > max(len(lead), count - _PEEL):
        if (meta := header_line(lines[end - 1], block.start + end - 1)) is None:
            break
        tail.insert(0, meta)  # at most _PEEL lines, so inserting at the front stays cheap
        end -= 1
    text, start = lines[len(lead) : end], block.start + len(lead)
    glued = (len(text) == 1 and lead and lead[-1].kind == "credit" and not lead[-1].caption
             and len(text[0]) <= _MAX_CAPTION)
    if glued and split_dateline(text[0])[0] is None:
        return [*lead, HeaderLine("caption", start, caption=text[0]), *tail], None
    # The same, above the credit: one short line glued on top of a credit line.
    above = (caption_above and len(text) == 1 and not lead and tail and tail[0].kind == "credit"
             and not tail[0].caption and len(text[0]) <= _MAX_CAPTION)
    if above and split_dateline(text[0])[0] is None:
        return [HeaderLine("caption", start, caption=text[0]), *tail], None
    return lead + tail, (_Block(start, text) if text else None)


def _fold_header(metas: list[HeaderLine], path: Path, warnings: list[Diagnostic]) -> _Header:
    """The first credit, caption and readable date win; every one dropped gets a warning."""
    credits = [meta for meta in metas if meta.kind == "credit"]
    captions = [meta for meta in metas if meta.caption]
    dates = [meta for meta in metas if meta.when is not None]
    updates = [meta for meta in metas if meta.updated is not None]
    for meta in metas:
        if meta.kind == "date" and meta.when is None and meta.updated is None:
            warnings.append(_warn(path, meta.line, f"cannot read the date {meta.value!r}",
                                  _DATE_HINT))
    for what, extra in (("photo credit", credits[1:]), ("caption", captions[1:]),
                        ("date line", dates[1:])):
        if extra:  # one warning per kind, however many extras a scrape repeats
            more = f" (and {len(extra) - 1} more)" if len(extra) > 1 else ""
            warnings.append(_warn(path, extra[0].line, f"a second {what} was ignored{more}"))
    date = dates[0].when if dates else None
    updated = updates[0].updated if updates else None
    if date is None and updated is not None:
        # Better than the file's date, but not what the seed calls its publication date.
        warnings.append(_warn(path, updates[0].line, "no publication date; dated from this "
                              "line's update time", _DATE_HINT))
        date, updated = updated, None
    authors = (name for meta in metas for name in meta.authors)
    return _Header(
        credit=credits[0].value if credits else None,
        caption=captions[0].caption if captions else None,
        authors=tuple(dict.fromkeys(authors)),
        date=date,
        updated=updated,
    )


_DATE_HINT = ("write the date line as 'Published: 2016-04-21 10:30 EDT', 'April 21, 2016 10:30 AM "
              "EDT' or 'Thu 21 Apr 2016 14.30 BST' (the README lists the forms read)")
