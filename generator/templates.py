"""Templates: the Jinja2 environment for layouts/ and translation of its errors.

Autoescape on and `StrictUndefined`, so a missing variable is an error rather than a blank.
Errors name the template that is wrong (the included partial, not the page that included it)
and its line. `template_closure` follows extends/include/import to know which layouts a page uses.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta

from .errors import SourceLocation, TemplateError, excerpt


def make_environment(layouts: Path, globals_: dict[str, Any]) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(layouts)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=True,
    )
    env.filters["datefmt"] = _datefmt
    env.filters["iso"] = lambda value: value.isoformat()
    env.globals.update(globals_)
    return env


def _datefmt(value: datetime, fmt: str = "%-d %B %Y") -> str:
    return value.strftime(fmt)


def render_template(env: jinja2.Environment, name: str, context: dict[str, Any],
                    layouts: Path) -> str:
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateSyntaxError as err:
        raise _syntax_error(err, layouts) from None
    except jinja2.TemplateNotFound as err:
        raise TemplateError(f"template not found: {err.name}", SourceLocation(layouts / name),
                            hint=f"create layouts/{err.name} or fix the name that refers to it"
                            ) from None
    except jinja2.TemplateError as err:
        raise _runtime_error(err, name, layouts) from None
    except RecursionError:
        raise TemplateError(f"include or extends loop starting at {name}",
                            SourceLocation(layouts / name),
                            hint="a template includes itself, directly or through another")
    except TemplateError:
        raise
    except Exception as err:  # a filter or helper raised: still report the template line
        raise _runtime_error(err, name, layouts) from None


def _syntax_error(err: jinja2.TemplateSyntaxError, layouts: Path) -> TemplateError:
    path = Path(err.filename) if err.filename else layouts / (err.name or "?")
    source = err.source or (path.read_text(encoding="utf-8") if path.is_file() else "")
    return TemplateError(f"template syntax error: {err.message}",
                         SourceLocation(_display(path), err.lineno),
                         hint="check the matching {% %} / {{ }} tags on that line",
                         source_lines=excerpt(source, err.lineno) if source else ())


def _runtime_error(err: Exception, name: str, layouts: Path) -> TemplateError:
    # Jinja rewrites tracebacks so template frames carry the template's filename and line;
    # the innermost such frame is the partial that actually failed.
    frames = [f for f in traceback.extract_tb(err.__traceback__)
              if f.filename and Path(f.filename).suffix in (".html", ".xml", ".txt", ".j2")]
    if frames:
        path, line = Path(frames[-1].filename), frames[-1].lineno
    else:
        path, line = layouts / name, None
    source = path.read_text(encoding="utf-8") if path.is_file() else ""
    message = str(err) if not isinstance(err, jinja2.UndefinedError) else f"undefined: {err}"
    return TemplateError(f"template error: {message}", SourceLocation(_display(path), line),
                         hint="see the template variables documented in the README",
                         source_lines=excerpt(source, line) if source and line else ())


def _display(path: Path) -> Path:
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


def template_closure(env: jinja2.Environment, name: str,
                     seen: set[str] | None = None) -> set[str]:
    """`name` plus every template it extends, includes or imports, transitively."""
    seen = set() if seen is None else seen
    if name in seen:
        return seen
    seen.add(name)
    assert env.loader is not None
    try:
        source = env.loader.get_source(env, name)[0]
        references = jinja2.meta.find_referenced_templates(env.parse(source))
    except (jinja2.TemplateNotFound, jinja2.TemplateSyntaxError):
        return seen
    for ref in references:
        if ref is not None:
            template_closure(env, ref, seen)
    return seen


Helper = Callable[..., Any]
