"""Unit tests for markup: the news-text escape round trip, Markdown rendering, word counts."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from generator.markup import (
    _WORD,
    REPLACEMENT,
    count_words,
    escape_paragraph,
    html_to_text,
    new_markdown,
    opening_words,
    reading_minutes,
    render_markdown,
    visible_text,
    word_count,
)

# Characters the HTML standard forbids in text (controls other than ASCII whitespace, and
# noncharacters), written out independently of markup.py's own pattern.
FORBIDDEN = (
    {chr(c) for c in range(0x20) if chr(c) not in "\t\n\x0c\r "}
    | {chr(c) for c in range(0x7F, 0xA0)}
    | {chr(c) for c in range(0xFDD0, 0xFDF0)}
    | {chr(plane * 0x10000 + low) for plane in range(17) for low in (0xFFFE, 0xFFFF)}
)
# Text a page can carry exactly: anything but those (and surrogates, which str can't encode).
PRINTABLE = st.text(st.characters(exclude_categories=("Cs",),
                                  exclude_characters="".join(FORBIDDEN) + "\n\r"))
ONE_LINE = st.text().map(lambda t: t.replace("\n", "").replace("\r", ""))


class _Blocks(HTMLParser):
    """Records every element and the text of each top-level <p>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.paragraphs: list[str] = []
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.tags.append(tag)
        if tag == "p" and self.depth == 0:
            self.paragraphs.append("")
        self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth and self.paragraphs:
            self.paragraphs[-1] += data


def blocks(html: str) -> _Blocks:
    parser = _Blocks()
    parser.feed(html)
    parser.close()
    return parser


def roundtrip(text: str) -> str:
    return html_to_text(render_markdown(escape_paragraph(text)))


# --- the escape round trip ---------------------------------------------------------------------


@settings(max_examples=1500, deadline=None)
@given(PRINTABLE)
@example("  - a list?")
@example(" 1. numbered?")
@example("\u00a0leading no-break space")
@example("trailing ideographic space\u3000")
@example("&#169; &copy &amp; <b>x</b> <!-- c --> <http://a.b>")
def test_any_printable_line_renders_exactly(text: str) -> None:
    assert roundtrip(text) == text.strip(" ")


@settings(max_examples=1500, deadline=None)
@given(ONE_LINE)
@example("\x02STX\x03 and \x07 bell, \x0b VT, \x85 NEL, \x9d, \ufdd0, \U0010ffff")
def test_any_line_renders_literally_or_with_a_visible_replacement(text: str) -> None:
    expected = "".join(REPLACEMENT if c in FORBIDDEN else c for c in text).strip(" ")
    assert visible_text(text) == "".join(REPLACEMENT if c in FORBIDDEN else c for c in text)
    assert roundtrip(text) == expected


@settings(max_examples=500, deadline=None)
@given(st.lists(ONE_LINE.filter(lambda t: visible_text(t).strip(" ")), min_size=1, max_size=6))
def test_paragraphs_stay_separate_plain_paragraphs(paragraphs: list[str]) -> None:
    html = render_markdown("\n\n".join(escape_paragraph(p) for p in paragraphs))
    parsed = blocks(html)
    assert set(parsed.tags) == {"p"}, html  # never a list, heading, link, emphasis or script
    assert parsed.paragraphs == [visible_text(p).strip(" ") for p in paragraphs]


MARKUP_LOOKALIKES = [
    "*Not emphasis* and _not_ either, 2 * 3 = 6",
    "**bold?** __bold?__ ~~struck?~~",
    "# Not a heading",
    "### Not a heading either",
    "1. Not a list item",
    "2016. A year to remember",
    "3) Not a list item",
    "- not a bullet",
    "+ not a bullet",
    "* not a bullet",
    "> not a quote",
    "    not code",
    "\tnot code",
    "`not code` and ```not fenced```",
    "<script>alert('x')</script>",
    "<b>bold?</b> <img src=x onerror=alert(1)>",
    "&amp; &lt;b&gt; &#169; &copy; &nbsp;",
    "[a link](http://example.com) and ![an image](x.png)",
    "[^1] and [1]: http://example.com",
    "*[HTML]: Hyper Text",
    "Term\n: definition",
    "a | table | row",
    "{: .attribute-list }",
    "=== not a heading underline",
    "--- not a rule",
    "___",
    "Escaped \\* stays \\\\ a backslash",
    "<http://autolink.example> and user@example.com",
    "Two trailing spaces for a break  ",
    "~~~",
    ".hidden",
    ": colon first",
]


@pytest.mark.parametrize("text", MARKUP_LOOKALIKES)
def test_markup_lookalikes_are_text(text: str) -> None:
    html = render_markdown(escape_paragraph(text))
    parsed = blocks(html)
    assert parsed.tags == ["p"], html
    assert parsed.paragraphs == [text.replace("\n", " ").strip(" ")]


def test_escaped_script_is_not_an_element() -> None:
    html = render_markdown(escape_paragraph("<script>alert(1)</script>"))
    assert html == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("“curly” and \"straight\" and ‘single’", "“curly” and \"straight\" and ‘single’"),
        ("Prime Minister\u00a0Fayez Sarraj", "Prime Minister\u00a0Fayez Sarraj"),
        ("tab\tinside", "tab\tinside"),
        ("line\nbreak", "line break"),
        ("cr\r\nlf", "cr  lf"),
        ("  padded  ", "padded"),
        ("\x00nul", "\ufffdnul"),
        ("", ""),
    ],
)
def test_escape_examples(text: str, expected: str) -> None:
    assert roundtrip(text) == expected


def test_escape_leaves_ordinary_text_alone() -> None:
    text = "The U.S. estimates the number of IS fighters to be up to about 1,000."
    assert escape_paragraph(text) == text


# --- rendering, text, words --------------------------------------------------------------------


def test_render_markdown_extensions() -> None:
    html = render_markdown("A *b* [c](/d/)\n\n| x | y |\n|---|---|\n| 1 | 2 |\n\nTerm\n: Def")
    assert '<em>b</em> <a href="/d/">c</a>' in html
    assert "<table>" in html and "<dl>" in html


def test_render_markdown_is_repeatable() -> None:
    # The parser is reused; footnotes or abbreviations of one document never leak into the next.
    first = render_markdown("Text[^1]\n\n[^1]: note\n\n*[HTML]: markup")
    assert "footnote" in first
    assert render_markdown("Plain HTML text") == "<p>Plain HTML text</p>"


def test_html_to_text() -> None:
    assert html_to_text("<p>a &amp; b</p>\n<p>c&#8217;s</p>") == "a & b \n c’s"


@pytest.mark.parametrize(
    ("html", "count"),
    [
        ("", 0),
        ("<p>Hello world</p>", 2),
        ("<p>Hello <em>big</em> world.</p><p>Again</p>", 4),
        ("<p>The U.S. military’s top-general, Dunford's aide</p>", 6),
        ("<p>up to about 1,000 fighters – 3.5 per cent</p>", 8),
        ("<p>a &amp; b &lt;script&gt; &#8212; c</p>", 4),
        ("<p>AT&amp;T&#8217;s</p>", 2),
        ('<p><a href="http://example.com/many/words/here">link</a></p>', 1),
        ("<p>a&#9;b</p>", 2),
        ("<p>Ünïcödé wörds 日本</p>", 3),
    ],
)
def test_word_count(html: str, count: int) -> None:
    assert word_count(html) == count


@pytest.mark.parametrize(
    ("words", "per_minute", "minutes"),
    [(0, 230, 1), (1, 230, 1), (230, 230, 1), (231, 230, 2), (460, 230, 2), (461, 230, 3),
     (1000, 200, 5), (1001, 200, 6)],
)
def test_reading_minutes(words: int, per_minute: int, minutes: int) -> None:
    assert reading_minutes(words, per_minute) == minutes


# Characters that decide word boundaries: letters and digits of several scripts, the joiners
# (apostrophes, hyphen, dot, digit comma), underscore, other punctuation and many whitespaces.
_WORDY_TEXT = st.text(alphabet=st.sampled_from(
    [*"ab1_9’'-.,;:!?/()\"“” \t\n\r\x0b\x0c\x1c\x85\xa0\u2003\u3000", "é", "日", "٣", "Ⅻ", "²"]),
    max_size=60)


@given(_WORDY_TEXT)
@settings(max_examples=1500, deadline=None)
@example("1,000 U.S. e-mail rock/roll a_b ٣,٣ word, end.")
def test_fast_word_count_equals_the_regex_count(text: str) -> None:
    # count_words is a shortcut for len(_WORD.findall(text)); it must never count differently.
    assert count_words(text) == len(_WORD.findall(text))


def test_sample_paragraph_word_count() -> None:
    paragraph = ("“There will be a long-term mission in Libya,” Dunford predicted, adding that "
                 "NATO will want a request from the new government in order to get involved.")
    assert word_count(render_markdown(escape_paragraph(paragraph))) == 26


# --- what Chromium shows -----------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_browser_shows_the_news_text_literally(page: Any) -> None:
    texts = [*MARKUP_LOOKALIKES, "\u00a0NBSP first", "tab\tinside", "&#x41; &AMP; &amp", "\x07bell"]
    body = render_markdown("\n\n".join(escape_paragraph(t) for t in texts))
    page.set_content(f"<!doctype html><meta charset=utf-8><main>{body}</main>")
    shown = page.eval_on_selector_all("main > *", "els => els.map(e => [e.tagName, e.textContent])")
    expected = [visible_text(t).replace("\n", " ").strip(" ") for t in texts]
    assert shown == [["P", text] for text in expected]
    assert page.evaluate("document.scripts.length") == 0


# Pieces of Markdown syntax: every inline pattern's and block processor's trigger, block markers,
# and plain words, so examples mix text that must skip a processor with text that must not.
_MARKDOWN_PIECES = st.sampled_from([
    "word", "News", " ", "  ", "\n", "\n\n", "  \n", "*", "**", "_", "__", "`", "``", "\\",
    "[", "]", "(", ")", "![", "[^1]", "[^1]: note", "<", ">", "&", "&amp;", "&#9;", "<b>", "</b>",
    "<http://x.y/z>", "<a@b.c>", "[x](http://e.org)", "[x][r]", "[r]: http://r.org", "#", "## ",
    "> ", "- ", "1. ", "    ", "\t", "*[HTML]: Hyper", "HTML", "{: .c}", "~~~", "```", "|",
    "---", "===", ":", "\u00a0", "\u2019", "\x02", "\x03",
    ": ", "\n: ", "- - -", "***", "___", "|---|", "| a | b |", "<div markdown=\"1\">\n", "</div>",
    "<p>", "\nTitle\n", "1) ", "+ ",
])


@settings(max_examples=1500, deadline=None)
@given(st.lists(_MARKDOWN_PIECES, max_size=40).map("".join))
@example("Plain prose, with no markup at all.\n\nA second paragraph.")
@example("*[HTML]: Hyper Text\n\nHTML in plain words")  # an abbreviation needs no trigger
@example("line one  \nline two")
@example("Term\n: definition\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nTitle\n---\n\n* * *")
@example("<div markdown=\"1\">\n*in html*\n</div>\n\n```\ncode\n```\n\n> quoted # text")
def test_skipping_idle_processors_changes_no_output(text: str) -> None:
    """The fast paths (markup._TriggeredInlineProcessor, and the gated block processors and
    preprocessors) render exactly what stock Python-Markdown renders."""
    stock = new_markdown(skip_idle_patterns=False)
    assert new_markdown().convert(text) == stock.convert(text)


def test_the_fast_paths_are_the_ones_in_use() -> None:
    from generator import markup

    render_markdown("x")
    assert type(markup._md.treeprocessors["inline"]).__name__ == "_TriggeredInlineProcessor"
    gated = [name for name in ("hashheader", "deflist", "table", "footnote")
             if "test" in vars(markup._md.parser.blockprocessors[name])]
    assert gated == ["hashheader", "deflist", "table", "footnote"]
    assert "test" in vars(markup._md.parser.blockprocessors["quote"])
    assert "run" in vars(markup._md.preprocessors["fenced_code_block"])


def _convert_at_depth(converter: Any, text: str, frames: int) -> str:
    return _convert_at_depth(converter, text, frames - 1) if frames else converter.convert(text)


def test_deeply_nested_quotes_nest_exactly_as_deep_as_stock() -> None:
    """Python-Markdown stops nesting blockquotes near the recursion limit, measured from the
    blockquote test's own stack frame: a wrapper around that test would stop one level early."""
    text = ">" * 300 + " x"
    for frames in range(3):  # a nesting level is three frames: every phase of the stack
        assert (_convert_at_depth(new_markdown(), text, frames)
                == _convert_at_depth(new_markdown(skip_idle_patterns=False), text, frames))


def test_opening_words_are_the_first_paragraph_cut_at_a_word() -> None:
    assert opening_words("<p>Short <em>and</em> sweet &amp; done.</p><p>Second.</p>") == (
        "Short and sweet & done.")
    long = "<p>" + " ".join(f"word{n}" for n in range(60)) + "</p>"
    cut = opening_words(long)
    assert cut.endswith("…") and len(cut) <= 160
    assert cut.removesuffix("…").split() == [f"word{n}" for n in range(len(cut.split()))]
    assert opening_words("<h2>No paragraph</h2>") == ""
    # A paragraph with only a picture is skipped; a cut right at a word's end keeps the word.
    assert opening_words('<p><img src="a.jpg" alt="A"></p><p>Words here.</p>') == "Words here."
    assert opening_words("<p>" + "abc " * 50 + "</p>", limit=8) == "abc abc…"
    assert opening_words("<p>" + "abc " * 50 + "</p>", limit=9) == "abc abc…"

