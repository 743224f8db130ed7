"""Markup: Markdown -> HTML for bodies, and the reverse escape that makes news text literal.

`escape_paragraph` is what ingest uses so that a seed's `*`, `_`, `#`, `1.`, `<script>` or `&amp;`
renders exactly as written; `render_markdown` is the one Markdown configuration used for every
document (its settings are part of the build cache key).
"""

from __future__ import annotations

import math
import re
from html.parser import HTMLParser

import markdown

EXTENSIONS = ("extra", "sane_lists")
MARKDOWN_SETTINGS = f"markdown={markdown.__version__};extensions={','.join(EXTENSIONS)}"

_md: markdown.Markdown | None = None

# Characters Python-Markdown treats as markup anywhere in a line; backslash-escaping them is
# always safe because each is in Markdown's ESCAPED_CHARS.
_INLINE_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|])")
_ORDERED_START = re.compile(r"^(\d+)([.)])")


def render_markdown(text: str) -> str:
    global _md  # one parser per process: building it costs more than rendering a short body
    if _md is None:
        _md = markdown.Markdown(extensions=list(EXTENSIONS), output_format="html")
    _md.reset()
    return _md.convert(text)


def escape_paragraph(text: str) -> str:
    """Turn one paragraph of plain news text into Markdown that renders to exactly that text."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # Markdown expands tabs to spaces and reads a newline plus ':' as a definition list.
    text = text.replace("\t", "&#9;").replace("\r", " ").replace("\n", " ")
    text = _INLINE_SPECIAL.sub(r"\\\1", text)
    # Block-level markers only matter at the start of a line.
    text = _ORDERED_START.sub(lambda m: f"{m.group(1)}\\{m.group(2)}", text)
    if text[:1] in ("-", "=", ".", ":", "~"):
        text = "\\" + text if text[0] in "-." else "&#" + str(ord(text[0])) + ";" + text[1:]
    # Two trailing spaces would be a hard line break; leading spaces a code block.
    text = text.strip(" ")
    return text


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


_WORD = re.compile(r"\w+(?:[’'\-.]\w+)*")


def word_count(html: str) -> int:
    return len(_WORD.findall(html_to_text(html)))


def reading_minutes(words: int, words_per_minute: int) -> int:
    return max(1, math.ceil(words / words_per_minute))
