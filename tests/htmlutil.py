"""Test helper: parse HTML into a small element tree with the stdlib `html.parser`.

`parse(html)` returns the root `Element`; query it with `find`/`find_all` (tag and attribute
filters), read `text()` and `attrs`, and list every outgoing URL with `urls()`. Tolerant like a
browser for the cases our pages meet (void elements, <p> and <li> left open); never fetches.

    doc = parse(html)
    doc.find("meta", property="og:url").get("content")
    [a.get("href") for a in doc.find_all("a", rel="tag")]
    doc.find("h1", class_="headline").text()
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                  "source", "track", "wbr"})
CLOSES_P = frozenset({"address", "article", "aside", "blockquote", "details", "div", "dl",
                      "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4",
                      "h5", "h6", "header", "hr", "main", "nav", "ol", "p", "pre", "section",
                      "table", "ul"})
# Raw-text elements: their content is one text node, never parsed as markup.
RAW_TEXT = frozenset({"script", "style"})

# Which attribute of which element points at another resource (what a crawler follows).
URL_ATTRIBUTES = (("a", "href"), ("link", "href"), ("img", "src"), ("script", "src"),
                  ("source", "src"), ("iframe", "src"), ("form", "action"))


@dataclass(eq=False, slots=True)
class Element:
    """One element (or the document root, tag "#document") with its attributes and children.

    `children` mixes `Element`s and `str` text nodes in document order; `line` is the 1-based
    source line of the start tag.
    """

    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Element | str] = field(default_factory=list)
    parent: Element | None = None
    line: int = 0

    def get(self, name: str, default: str | None = None) -> str | None:
        """An attribute's value (a valueless attribute reads as "")."""
        return self.attrs.get(name, default)

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def iter(self) -> Iterator[Element]:
        """Every descendant element, depth first in document order (self excluded)."""
        for child in self.children:
            if isinstance(child, Element):
                yield child
                yield from child.iter()

    def find_all(self, tag: str | None = None, *, class_: str | None = None,
                 **attrs: str | bool) -> list[Element]:
        """Descendants matching `tag` (None: any), a class name, and attribute filters.

        An attribute filter is a value to equal, `True` (attribute present) or `False` (absent).
        Use `_` for `-` in attribute names: `find_all("meta", http_equiv="refresh")`.
        """
        wanted = {name.replace("_", "-"): value for name, value in attrs.items()}
        return [element for element in self.iter()
                if (tag is None or element.tag == tag)
                and (class_ is None or class_ in element.classes)
                and all(_attr_matches(element, name, value) for name, value in wanted.items())]

    def find(self, tag: str | None = None, *, class_: str | None = None,
             **attrs: str | bool) -> Element | None:
        """The first match of `find_all`, or None."""
        found = self.find_all(tag, class_=class_, **attrs)
        return found[0] if found else None

    def one(self, tag: str | None = None, *, class_: str | None = None,
            **attrs: str | bool) -> Element:
        """The single match of `find_all`; AssertionError (with the count) when not exactly one."""
        found = self.find_all(tag, class_=class_, **attrs)
        assert len(found) == 1, f"expected one <{tag or '*'} {attrs}>, found {len(found)}"
        return found[0]

    def text(self) -> str:
        """Text content with runs of whitespace collapsed to one space, stripped."""
        return " ".join(self.raw_text().split())

    def raw_text(self) -> str:
        """Text content exactly as parsed (entities decoded, whitespace kept)."""
        return "".join(child if isinstance(child, str) else child.raw_text()
                       for child in self.children)

    def ancestors(self) -> Iterator[Element]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def __repr__(self) -> str:
        return f"<{self.tag} {self.attrs!r} line {self.line}>"


def _attr_matches(element: Element, name: str, value: str | bool) -> bool:
    if value is True:
        return name in element.attrs
    if value is False:
        return name not in element.attrs
    return element.attrs.get(name) == value


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document")
        self.stack = [self.root]
        self.doctype = ""

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # Like a browser: a block element closes an open <p>, a new <li> an open <li>.
        if tag in CLOSES_P:
            self._close("p", stop=("div", "td", "th", "li", "button"))
        if tag == "li":
            self._close("li", stop=("ul", "ol", "menu"))
        element = Element(tag, {k: v or "" for k, v in attrs}, parent=self.stack[-1],
                          line=self.getpos()[0])
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def _close(self, tag: str, stop: tuple[str, ...]) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag in stop:
                return
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        # Close up to the nearest open element of this tag; a stray end tag is ignored.
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str) -> Element:
    """The document tree of `html`: the root has tag "#document" and, as its "doctype"
    attribute, the text of the <!DOCTYPE ...> declaration ("DOCTYPE html"), or "" without one."""
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    builder.root.attrs["doctype"] = builder.doctype
    return builder.root


def urls(root: Element) -> list[str]:
    """Every URL the page refers to (a/link href, img/script/source/iframe src, form action,
    img srcset candidates), in document order, as written."""
    found = []
    for element in root.iter():
        for tag, attribute in URL_ATTRIBUTES:
            if element.tag == tag and element.get(attribute):
                found.append(element.attrs[attribute])
        if element.tag in ("img", "source") and element.get("srcset"):
            found += [part.split()[0] for part in element.attrs["srcset"].split(",")
                      if part.strip()]
    return found


def meta_content(root: Element, *, name: str | None = None,
                 property: str | None = None) -> list[str]:
    """The `content` of every <meta name=...> or <meta property=...> that matches."""
    attrs = {"name": name} if name is not None else {"property": property or ""}
    return [m.get("content") or "" for m in root.find_all("meta", **attrs)]
