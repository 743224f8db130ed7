"""Markup: Markdown -> HTML for bodies, and the reverse escape that makes news text literal.

`escape_paragraph` is what ingest uses so that a seed's `*`, `_`, `#`, `1.`, `<script>` or `&amp;`
renders exactly as written; `render_markdown` is the one Markdown configuration used for every
document (its settings are part of the build cache key).
"""

from __future__ import annotations

import importlib
import math
import re
from html import unescape
from html.parser import HTMLParser
from itertools import filterfalse
from typing import Any

import markdown
from markdown import blockprocessors, inlinepatterns
from markdown.extensions import Extension, abbr, def_list, fenced_code, footnotes, md_in_html, tables
from markdown.extensions.footnotes import FootnoteInlineProcessor
from markdown.treeprocessors import InlineProcessor

from .model import MARKDOWN_EXTENSIONS

EXTENSIONS = MARKDOWN_EXTENSIONS

_md: markdown.Markdown | None = None

# Characters Python-Markdown treats as markup anywhere in a line; backslash-escaping them is
# always safe because each is in Markdown's ESCAPED_CHARS.
_INLINE_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|])")
_ORDERED_START = re.compile(r"^(\d+)([.)])")
# Characters the HTML standard forbids in text: controls other than ASCII whitespace, and
# noncharacters. Python-Markdown also deletes U+0002/U+0003 (its placeholder markers), so they
# could not survive anyway; each becomes a visible U+FFFD instead of vanishing silently.
_FORBIDDEN = re.compile(
    "[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef"
    + "".join(f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}"
              for plane in range(17))
    + "]"
)
REPLACEMENT = "\ufffd"


def render_markdown(text: str) -> str:
    global _md  # one parser per process: building it costs more than rendering a short body
    if _md is None:
        _md = new_markdown()
    _md.reset()
    return _md.convert(text)


def new_markdown(*, skip_idle_patterns: bool = True) -> markdown.Markdown:
    """The Markdown converter; `skip_idle_patterns=False` gives stock Python-Markdown, its
    extensions named as a user would (tests compare the two)."""
    if not skip_idle_patterns:
        return markdown.Markdown(extensions=list(EXTENSIONS), output_format="html")
    return _gate_processors(markdown.Markdown(
        extensions=[*_extension_instances(), _SkipIdlePatterns()], output_format="html"))


def _extension_instances() -> list[Extension]:
    """EXTENSIONS as instances, "extra" expanded into the extensions it bundles (as it does
    itself). Named, each is looked up among the installed entry points, which imports
    importlib.metadata and reads every package's metadata: 25 ms, more than a one-article
    rebuild spends rendering. These are the classes those entry points name."""
    from markdown.extensions import extra

    names = [part for name in EXTENSIONS
             for part in (extra.extensions if name == "extra" else [name])]
    return [importlib.import_module(f"markdown.extensions.{name}").makeExtension()
            for name in names]


# Python-Markdown tries each of its ~15 inline patterns on every run of text, a regex search
# each: over half of a news article's conversion time, although most sentences hold no markup
# at all. Each pattern below cannot match unless its text holds one of these strings, so it is
# skipped where none occurs. Patterns not listed (from other extensions) always run. The
# output is unchanged: tests/test_markup.py compares it with stock Python-Markdown.
_TRIGGERS: dict[str, tuple[str, ...]] = {
    inlinepatterns.BACKTICK_RE: ("`",),
    inlinepatterns.ESCAPE_RE: ("\\",),
    inlinepatterns.LINK_RE: ("[",),  # also REFERENCE_RE, the same expression
    inlinepatterns.IMAGE_LINK_RE: ("![",),  # also IMAGE_REFERENCE_RE
    inlinepatterns.AUTOLINK_RE: ("<",),
    inlinepatterns.AUTOMAIL_RE: ("<",),
    inlinepatterns.HTML_RE: ("<",),
    inlinepatterns.ENTITY_RE: ("&",),
    inlinepatterns.LINE_BREAK_RE: ("  \n",),
}


def _triggers(pattern: Any) -> tuple[str, ...] | None:
    if isinstance(pattern, inlinepatterns.DelimiterProcessor):  # emphasis: *, _ ...
        return tuple(pattern.tokens)
    if isinstance(pattern, FootnoteInlineProcessor):
        return ("[^",)
    if type(pattern).__module__ != inlinepatterns.__name__:
        return None
    return _TRIGGERS.get(pattern.pattern)


class _TriggeredInlineProcessor(InlineProcessor):
    """Python-Markdown's inline processor, skipping patterns whose trigger is absent."""

    def run(self, tree: Any, ancestors: list[str] | None = None) -> Any:
        # One trigger (the usual case) is kept as a string: `in` is cheaper than any().
        self._patterns = [(pattern, triggers[0] if triggers and len(triggers) == 1 else triggers)
                          for pattern in self.inlinePatterns
                          for triggers in [_triggers(pattern)]]
        return super().run(tree, ancestors)

    # Replaces the base class's private loop (name-mangled); the same loop, plus the skip.
    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:
        if isinstance(data, markdown.util.AtomicString):
            return data
        start = 0
        patterns = self._patterns
        while patternIndex < len(patterns):
            pattern, triggers = patterns[patternIndex]
            if triggers is not None and (
                    triggers not in data if isinstance(triggers, str)
                    else not any(trigger in data for trigger in triggers)):
                patternIndex, start = patternIndex + 1, 0
                continue
            data, matched, start = self._InlineProcessor__applyPattern(  # type: ignore[attr-defined]
                pattern, data, patternIndex, start)
            if not matched:
                patternIndex += 1
        return data


INLINE_PRIORITY = 20  # Python-Markdown's own priority for its 'inline' treeprocessor


# The block parser likewise tests every block against each block processor in turn, most of
# them a regex search through the whole paragraph. Each processor below cannot match a block
# (its test fails, or its run hands the block back) unless the block holds one of these
# strings; a substring check is far cheaper than the search. Exact classes only: a subclass
# may match differently. The blockquote processor's test measures the stack depth (it stops
# nesting near the recursion limit), so a wrapper's extra frame would change where: its test
# is replaced by the same test with the check in front (`_quote_test`), at the same depth.
_BLOCK_TRIGGERS: dict[type, tuple[str, ...]] = {
    md_in_html.MarkdownInHtmlProcessor: ("\x02",),  # a raw-HTML placeholder starts with STX
    tables.TableProcessor: ("|",),
    blockprocessors.HashHeaderProcessor: ("#",),
    blockprocessors.SetextHeaderProcessor: ("\n=", "\n-"),
    blockprocessors.HRProcessor: ("-", "_", "*"),
    def_list.DefListProcessor: (": ",),
    footnotes.FootnoteBlockProcessor: ("[^",),
    abbr.AbbrBlockprocessor: ("*[",),
    blockprocessors.ReferenceProcessor: ("]:",),
}
# Preprocessors that scan the whole document and change nothing unless it holds one of these:
# a code fence, or raw HTML (md_in_html's runs an HTML parser over every document).
_PREPROCESSOR_TRIGGERS: dict[type, tuple[str, ...]] = {
    fenced_code.FencedBlockPreprocessor: ("```", "~~~"),
    md_in_html.HtmlBlockPreprocessor: ("<", "&"),
}


def _block_test(test: Any, triggers: tuple[str, ...]) -> Any:
    if len(triggers) == 1:  # the usual case: `in` without any()'s generator is twice as fast
        trigger = triggers[0]
        return lambda parent, block: trigger in block and test(parent, block)
    return lambda parent, block: any(t in block for t in triggers) and test(parent, block)


def _quote_test(processor: blockprocessors.BlockQuoteProcessor) -> Any:
    search = processor.RE.search  # upstream's test, verbatim, after the substring check
    return lambda parent, block: (">" in block and bool(search(block))
                                  and not markdown.util.nearing_recursion_limit())


def _preprocessor_run(run: Any, triggers: tuple[str, ...]) -> Any:
    def gated(lines: list[str]) -> list[str]:
        text = "\n".join(lines)
        return run(lines) if any(t in text for t in triggers) else lines
    return gated


class _SkipIdlePatterns(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:
        inline = md.treeprocessors["inline"]
        replacement = _TriggeredInlineProcessor(md)
        replacement.__dict__.update(inline.__dict__)
        md.treeprocessors.register(replacement, "inline", INLINE_PRIORITY)


def _gate_processors(md: markdown.Markdown) -> markdown.Markdown:
    """Skip the block processors and preprocessors whose trigger a block (a document) lacks."""
    for processor in md.parser.blockprocessors:
        triggers = _BLOCK_TRIGGERS.get(type(processor))
        if triggers:
            processor.test = _block_test(processor.test, triggers)  # type: ignore[method-assign]
        elif type(processor) is blockprocessors.BlockQuoteProcessor:
            processor.test = _quote_test(processor)  # type: ignore[method-assign]
    for preprocessor in md.preprocessors:
        triggers = _PREPROCESSOR_TRIGGERS.get(type(preprocessor))
        if triggers:
            preprocessor.run = _preprocessor_run(  # type: ignore[method-assign]
                preprocessor.run, triggers)
    return md


def escape_paragraph(text: str) -> str:
    """Turn one paragraph of plain news text into Markdown that renders to exactly that text.

    Spaces at either end are dropped (Markdown would read leading ones as a code block and two
    trailing ones as a line break); characters HTML forbids (see `_FORBIDDEN`) become U+FFFD.
    """
    text = visible_text(text).replace("\r", " ").replace("\n", " ").strip(" ")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _INLINE_SPECIAL.sub(r"\\\1", text)
    # Markdown expands tabs to spaces: a character reference keeps the tab itself.
    text = text.replace("\t", "&#9;")
    # Block-level markers only matter at the start of a line.
    text = _ORDERED_START.sub(lambda m: f"{m.group(1)}\\{m.group(2)}", text)
    if text[:1] in ("-", "."):
        text = "\\" + text
    elif text[:1] in ("=", ":", "~"):
        text = _reference(text[0]) + text[1:]
    # Markdown strips Unicode whitespace (NBSP, ideographic space...) around a paragraph;
    # character references survive that.
    if text[:1].isspace():
        text = _reference(text[0]) + text[1:]
    if text[-1:].isspace():
        text = text[:-1] + _reference(text[-1])
    return text


def visible_text(text: str) -> str:
    """`text` as a page shows it: each character HTML forbids replaced by U+FFFD."""
    return _FORBIDDEN.sub(REPLACEMENT, text)


def _reference(character: str) -> str:
    return f"&#{ord(character)};"


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(html: str) -> str:
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    return " ".join(collector.parts)


DESCRIPTION_LENGTH = 160  # what search engines show of a meta description


def opening_words(html: str, limit: int = DESCRIPTION_LENGTH) -> str:
    """A body's first paragraph with text, as plain text cut at a word within `limit`
    characters: the description of a document without a summary (rather than the site's,
    which every such document would then share)."""
    start = html.find("<p>")
    while start >= 0:
        end = html.find("</p>", start)
        if end < 0:
            break
        inner = html[start + 3:end]
        # Most first paragraphs are plain text: the parser (10 µs) only for markup.
        if "<" in inner:
            inner = html_to_text(inner)
        elif "&" in inner:
            inner = unescape(inner)
        text = " ".join(inner.split())
        if text:  # not a paragraph holding only a picture
            if len(text) <= limit:
                return text
            cut = text[:limit - 1]  # room for the ellipsis
            if not text[limit - 1].isspace():  # the cut fell inside a word: drop the word
                cut = cut.rpartition(" ")[0] or cut
            return cut.rstrip(",;:—- ") + "…"
        start = html.find("<p>", end)
    return ""


# A word: letters/digits joined by apostrophes, hyphens, dots ("U.S.") or digit commas ("1,000").
_WORD = re.compile(r"\w+(?:(?:[’'\-.]|(?<=\d),(?=\d))\w+)*")
_TAG = re.compile(r"<[^>]*>")
# Entities are decoded as the page shows them: "&amp;" is no word (not "amp"), "&#9;" a gap.
_ENTITY = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")


def word_count(html: str) -> int:
    # Tags are dropped with a regex: exact text extraction (html_to_text) costs 10x more.
    text = _TAG.sub(" ", html)
    if "&" in text:
        text = _ENTITY.sub(lambda entity: unescape(entity.group()), text)
    return count_words(text)


def count_words(text: str) -> int:
    """len(_WORD.findall(text)), in half the time (a sixth of loading an article was this).

    A word never spans whitespace, so the count is the sum over whitespace-separated tokens.
    A token of letters and digits only (str.isalnum: exactly the characters of the regex's
    \\w but "_") is one word, and most tokens are; the rest ("word,", "U.S.", "1,000",
    "rock/roll") are counted by the regex, joined by spaces into one string.
    """
    tokens = text.split()
    others = list(filterfalse(str.isalnum, tokens))
    return len(tokens) - len(others) + len(_WORD.findall(" ".join(others)))


def reading_minutes(words: int, words_per_minute: int) -> int:
    return max(1, math.ceil(words / words_per_minute))
