"""`{% cache key, ... %}...{% endcache %}`: a layout fragment rendered once per key per build.

A story's card appears on about eight listing pages (its section, each tag, each author, its
month, the front page); rendering it once and reusing the HTML took 14% off the render stage
of a 10,000-article build. The body must depend only on the key's values (as with Django's
cache tag): inside a macro that is its arguments, which is where the default layouts use it.

Keys are compared by type and value for strings, numbers, booleans and None (1, 1.0 and True
are equal in Python but print differently; floats compare by repr, so 0.0 is not -0.0), and by
identity for anything else (an article view is made once per build and never changes), so a
new view made after an edit never meets an old fragment. What a fragment read in full (a body,
a word count) is replayed on every reuse, so the page's fingerprint still names it
(incremental.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.parser import Parser

_BY_VALUE = (str, int, bool, type(None))
_CALL_BLOCK_NAMES = {"caller", "varargs", "kwargs"}
_UNNAMED = itertools.count()


class FragmentStore:
    """One build's (one renderer's) fragments; `reads` is its context builder's set of
    documents read in full by the page being rendered."""

    def __init__(self, reads: set[str]) -> None:
        self.reads = reads
        # key -> (the key's values, kept alive so their ids stay theirs; HTML; reads)
        self.fragments: dict[tuple[Any, ...], tuple[tuple[Any, ...], str, frozenset[str]]] = {}

    def render(self, site: str, values: tuple[Any, ...], body: Callable[[], str]) -> str:
        key = (site, *map(_key, values))
        hit = self.fragments.get(key)
        if hit is not None:
            self.reads.update(hit[2])
            return hit[1]
        # Reads made by this body alone: set aside the page's own, then merge them back.
        outer = set(self.reads)
        self.reads.clear()
        try:
            html = body()
            made = frozenset(self.reads)
        finally:
            self.reads.update(outer)
        self.fragments[key] = (values, html, made)
        return html

    def clear(self) -> None:
        self.fragments.clear()


def _key(value: Any) -> tuple[Any, ...]:
    kind = type(value)
    if kind in _BY_VALUE:
        return (kind, value)
    if kind is float:
        return (kind, repr(value))
    return (None, id(value))  # the values are kept with the fragment: the id stays theirs


class FragmentCacheExtension(Extension):
    tags = {"cache"}  # noqa: RUF012 (Jinja's own declaration: a plain class attribute)

    def __init__(self, environment: jinja2.Environment) -> None:
        super().__init__(environment)
        # None until a renderer sets its context builder's store (Renderer.render).
        environment.extend(fragment_store=None)

    def parse(self, parser: Parser) -> nodes.Node:
        lineno = next(parser.stream).lineno
        values = [parser.parse_expression()]
        while parser.stream.skip_if("comma"):
            values.append(parser.parse_expression())
        body = parser.parse_statements(("name:endcache",), drop_needle=True)
        # The body runs as a call block: there `caller`, `varargs` and `kwargs` would be the
        # block's own, not the enclosing macro's, and the output would silently differ.
        for node in body:
            for name in node.find_all(nodes.Name):
                if name.name in _CALL_BLOCK_NAMES and name.ctx == "load":
                    parser.fail(f"{{% cache %}} cannot use '{name.name}' inside its body; "
                                "set it to a variable before the tag and use that",
                                name.lineno)
        # Each tag its own fragments, even two on one line: name, line and the tag's number
        # (a template made from a string has no name: it gets a number of its own).
        number = parser.__dict__.setdefault("cache_tags", 0)
        parser.__dict__["cache_tags"] = number + 1
        template = parser.name or f"<string {next(_UNNAMED)}>"
        site = nodes.Const(f"{template}:{lineno}:{number}")
        call = self.call_method("_cached", [site, nodes.Tuple(values, "load")])
        return nodes.CallBlock(call, [], [], body).set_lineno(lineno)

    def _cached(self, site: str, values: tuple[Any, ...], caller: Callable[[], str]) -> str:
        store: FragmentStore | None = getattr(self.environment, "fragment_store", None)
        return caller() if store is None else store.render(site, values, caller)
