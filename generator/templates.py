"""Templates: the Jinja2 environment for layouts/ and translation of its errors.

Autoescape on and `StrictUndefined`, so a missing variable is an error rather than a blank.
Errors name the template that is wrong (the included partial, not the page that included it)
and its line. `TemplateGraph` follows extends/include/import to know which layouts a page uses.
"""

from __future__ import annotations

import contextlib
import traceback
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta

from .errors import SourceLocation, TemplateError, excerpt
from .fragments import FragmentCacheExtension


def make_environment(layouts: Path, globals_: dict[str, Any],
                     bytecode_dir: Path | None = None, documents: int = 0) -> jinja2.Environment:
    """The environment for `layouts`; `documents` (the site's size) sizes its date cache."""
    # Compiled templates are cached on disk (keyed by their source) so a rebuild in a new
    # process does not recompile every layout.
    bytecode_cache = None
    if bytecode_dir is not None:
        bytecode_dir.mkdir(parents=True, exist_ok=True)
        bytecode_cache = _BestEffortBytecodeCache(str(bytecode_dir))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(layouts)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # A new environment is made for every build, so checking template mtimes on every
        # include (thousands of stat calls) buys nothing.
        auto_reload=False,
        bytecode_cache=bytecode_cache,
        extensions=[FragmentCacheExtension],  # {% cache %} (fragments.py)
    )
    dates = DateFormats(max(DateFormats.MINIMUM, DATES_PER_DOCUMENT * documents))
    env.filters["datefmt"] = dates.datefmt
    env.filters["iso"] = dates.iso
    env.globals.update(globals_)
    return env


class _BestEffortBytecodeCache(jinja2.FileSystemBytecodeCache):
    """A speed-up only: a full disk or a read-only .cache/ must not fail the render."""

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


# Room for a date, its update and the two default formats of each, twice over.
DATES_PER_DOCUMENT = 8


class DateFormats:
    """The `datefmt` and `iso` filters: value.strftime(fmt) or value.isoformat(), memoised
    for one environment (one build's renderer).

    An article's dates are formatted on every page that shows it (a dozen). The render stage
    visits the articles in passes (front pages, article pages, tags, ...): a cyclic pattern
    that a fixed-size LRU smaller than the site never hits. With an 8,192-entry LRU, rendering
    a 100,000-article site in one process took 76.6 s, against 69.4 s with no limit (80.2 and
    77.5 s for the old and this code back to back; 10,000 articles: no difference). So the
    cache is sized to the site and, should layouts format many more values than that
    (computed dates), starts over rather than grow without bound.

    Aware datetimes in different zones, either side of a DST fold, or in two `timezone`s with
    one offset but different names can be equal and must not share a string: the key also
    holds the tzinfo object itself (so its id stays unique) and the fold; equal values with
    the very same tzinfo and fold have the same wall time, offset and zone name.
    """

    MINIMUM = 1 << 16

    def __init__(self, limit: int = MINIMUM) -> None:
        self.limit = limit
        self._strings: dict[tuple[Any, ...], str] = {}

    def datefmt(self, value: datetime, fmt: str = "%-d %B %Y") -> str:
        return self.format(value, fmt)

    def iso(self, value: datetime) -> str:
        return self.format(value, None)

    def format(self, value: Any, fmt: str | None) -> str:
        zone = getattr(value, "tzinfo", None)
        key = (value, id(zone), zone, getattr(value, "fold", 0), fmt)
        try:
            string = self._strings.get(key)
        except TypeError:  # unhashable: not a date; fail (or work) as the method itself does
            return _format(value, fmt)
        if string is None:
            string = _format(value, fmt)
            if len(self._strings) >= self.limit:
                self._strings.clear()
            self._strings[key] = string
        return string


def _format(value: Any, fmt: str | None) -> str:
    return str(value.isoformat() if fmt is None else value.strftime(fmt))


def render_template(env: jinja2.Environment, name: str, context: dict[str, Any],
                    layouts: Path) -> str:
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateSyntaxError as err:
        raise _syntax_error(err, layouts) from None
    except jinja2.TemplateNotFound as err:
        raise _located(err, f"template not found: {err.name}", name, layouts,
                       hint=f"create layouts/{err.name} or fix the name that refers to it"
                       ) from None
    except RecursionError as err:
        raise _loop_error(err, name, layouts) from None
    except TemplateError as err:  # raised by a helper such as asset_url(): add the template line
        raise _located(err, err.message, name, layouts, hint=err.hint) from None
    except Exception as err:  # a Jinja runtime error, or a filter or helper raised
        message = str(err) if not isinstance(err, jinja2.UndefinedError) else f"undefined: {err}"
        raise _located(err, f"template error: {message}", name, layouts,
                       hint="see the template variables documented in the README") from None


def _syntax_error(err: jinja2.TemplateSyntaxError, layouts: Path) -> TemplateError:
    path = Path(err.filename) if err.filename else layouts / (err.name or "?")
    source = err.source or _read(path)
    return TemplateError(f"template syntax error: {err.message}",
                         SourceLocation(_display(path, layouts), err.lineno),
                         hint="check the matching {% %} / {{ }} tags on that line",
                         source_lines=excerpt(source, err.lineno) if source else ())


def _template_frames(err: BaseException, layouts: Path) -> list[tuple[Path, int | None]]:
    """(template file, line) of every template frame in the traceback, outermost first.

    Jinja rewrites tracebacks so template frames carry the template's file name and line.
    """
    root = layouts.resolve()
    frames = []
    for frame in traceback.extract_tb(err.__traceback__):
        path = Path(frame.filename)
        if path.is_absolute() and path.resolve().is_relative_to(root):
            frames.append((path, frame.lineno))
    return frames


def _located(err: BaseException, message: str, name: str, layouts: Path, *,
             hint: str | None) -> TemplateError:
    # The innermost template frame is the partial that actually failed, not the page.
    frames = _template_frames(err, layouts)
    path, line = frames[-1] if frames else (layouts / name, None)
    source = _read(path)
    return TemplateError(message, SourceLocation(_display(path, layouts), line), hint=hint,
                         source_lines=excerpt(source, line) if source and line else ())


def _loop_error(err: RecursionError, name: str, layouts: Path) -> TemplateError:
    frames = _template_frames(err, layouts)
    if not frames:
        return TemplateError(f"include or extends loop starting at {name}",
                             SourceLocation(_display(layouts / name, layouts)),
                             hint="a template includes itself, directly or through another")
    # The loop is the innermost template back to its previous occurrence on the stack.
    # Its location is that previous occurrence: the tag that re-enters the loop.
    innermost = frames[-1][0]
    earlier = [i for i, (other, _) in enumerate(frames[:-1]) if other == innermost]
    cycle = frames[earlier[-1]:] if earlier else frames[-1:]
    chain = " -> ".join(_display(other, layouts).as_posix() for other, _ in cycle)
    path, line = cycle[0]
    source = _read(path)
    return TemplateError(f"include or extends loop: {chain}",
                         SourceLocation(_display(path, layouts), line),
                         hint="a template includes or extends itself, directly or through "
                         "another; remove one of those tags",
                         source_lines=excerpt(source, line) if source and line else ())


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def _display(path: Path, layouts: Path) -> Path:
    """`layouts/partials/card.html`: relative to the project, whatever the working folder."""
    try:
        return path.resolve().relative_to(layouts.resolve().parent)
    except ValueError:
        return path


class TemplateGraph:
    """Which templates each layout extends, includes or imports; each source parsed once."""

    def __init__(self, env: jinja2.Environment) -> None:
        self.env = env
        self._references: dict[str, tuple[str, ...]] = {}

    def references(self, name: str) -> tuple[str, ...]:
        if name not in self._references:
            assert self.env.loader is not None
            try:
                source = self.env.loader.get_source(self.env, name)[0]
                found = jinja2.meta.find_referenced_templates(self.env.parse(source))
                self._references[name] = tuple(ref for ref in found if ref is not None)
            except (jinja2.TemplateNotFound, jinja2.TemplateSyntaxError):
                self._references[name] = ()  # rendering reports these, with their line
            except OSError as err:  # unreadable, or a FIFO
                raise TemplateError(f"cannot read template: {err.strerror}",
                                    SourceLocation(Path("layouts") / name),
                                    hint="check the file's permissions") from None
        return self._references[name]

    def closure(self, name: str) -> set[str]:
        """`name` plus every template it uses, transitively."""
        seen: set[str] = set()
        pending = [name]
        while pending:
            current = pending.pop()
            if current not in seen:
                seen.add(current)
                pending.extend(self.references(current))
        return seen
