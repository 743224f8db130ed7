"""AttrDict: the mappings templates read (`site`, `page`, `pagination`), fast by attribute.

Used by context.py to build template variables; a plain data structure that does no I/O and
knows nothing of the model.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any


def _remirroring(method: Callable[..., Any]) -> Any:
    """`method` of dict, followed by AttrDict._mirror however it ends."""
    @functools.wraps(method)
    def remirrored(self: AttrDict, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        finally:
            self._mirror()

    return remirrored


class AttrDict(dict[str, Any]):
    """A dict whose keys are also its attributes, for the mappings templates read (`site`,
    `page`, `pagination`).

    Jinja2 resolves `site.title` with getattr() first and falls back to `["title"]`: on a plain
    dict every such read raises and discards an AttributeError, about 80 per page (7% of a
    page's render). So the keys are mirrored in the instance's own __dict__, where getattr()
    finds them in C. Only for our own keys: a key named like a dict method (`items`) would
    shadow it, so front-matter `extra` stays a plain dict.

    A mirror, not `self.__dict__ = self`: that made every page's `page` and `pagination` a
    reference cycle, freed only by the cyclic collector. Five such objects a page kept the
    render stage's young collections coming: 4.4 s of CPU at 100,000 articles.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        vars(self).update(self)

    # Every way to change the keys keeps the mirror equal (only our context code does so, a
    # few times a page; reads are what must be fast).
    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        vars(self)[key] = value

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        del vars(self)[key]

    def __delattr__(self, key: str) -> None:
        try:
            del self[key]
        except KeyError:
            raise AttributeError(key) from None

    def _mirror(self) -> None:
        mirror = vars(self)
        mirror.clear()
        mirror.update(self)

    # The other mutators re-mirror afterwards, in `finally`: an update that fails half way
    # has changed some keys.
    update = _remirroring(dict.update)
    __ior__ = _remirroring(dict.__ior__)
    setdefault = _remirroring(dict.setdefault)
    pop = _remirroring(dict.pop)
    popitem = _remirroring(dict.popitem)
    clear = _remirroring(dict.clear)

    def __reduce__(self) -> tuple[Any, ...]:
        # Copies and pickles rebuild through __init__ (and so mirror their keys): by default
        # the mirror would be restored as a separate snapshot of the attributes.
        return (type(self), (dict(self),))
