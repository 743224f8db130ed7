"""Errors and diagnostics shared by every stage.

Each stage raises a `GeneratorError` subclass carrying where the problem is (file, line, column)
and what the user can do about it; only the CLI turns them into text and exit codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal


@dataclass(frozen=True, slots=True)
class SourceLocation:
    path: Path
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        text = str(self.path)
        if self.line is not None:
            text += f":{self.line}"
            if self.column is not None:
                text += f":{self.column}"
        return text


@dataclass(frozen=True, slots=True)
class Diagnostic:
    severity: Literal["error", "warning"]
    message: str
    location: SourceLocation | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        text = f"{where}{self.severity}: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class GeneratorError(Exception):
    """A problem the user can fix; carries its location and a hint."""

    def __init__(
        self,
        message: str,
        location: SourceLocation | None = None,
        hint: str | None = None,
        *,
        source_lines: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.hint = hint
        # A few lines of the offending source around `location.line`, for the terminal and the
        # dev server's error page.
        self.source_lines = source_lines

    def diagnostic(self) -> Diagnostic:
        return Diagnostic("error", self.message, self.location, self.hint)

    def __reduce__(self) -> tuple[object, ...]:
        # Errors cross process boundaries in parallel builds; keep location and hint.
        return (_rebuild_error, (type(self), self.message, self.location, self.hint,
                                 self.source_lines))

    def __str__(self) -> str:
        return str(self.diagnostic())


class ConfigError(GeneratorError):
    """site.toml is missing, malformed or has invalid values."""


class IngestError(GeneratorError):
    """A seed file cannot be turned into an article."""


class ContentError(GeneratorError):
    """A Markdown file in content/ has bad front matter or cannot be read."""


class TemplateError(GeneratorError):
    """A layout failed to compile or render."""


class RouteError(GeneratorError):
    """Two pages resolve to the same URL, or a URL would escape the output folder."""


class PublishError(GeneratorError):
    """The output folder cannot be written safely."""


class CacheError(GeneratorError):
    """The build cache in .cache/ cannot be read or written (disk full, permissions, locked)."""


class BuildFailed(GeneratorError):
    """A stage collected one or more errors; `diagnostics` lists them all."""

    def __init__(self, diagnostics: tuple[Diagnostic, ...]) -> None:
        errors = [d for d in diagnostics if d.severity == "error"]
        super().__init__(f"{len(errors)} error(s); nothing was published")
        self.diagnostics = diagnostics

    def __reduce__(self) -> tuple[object, ...]:
        return (BuildFailed, (self.diagnostics,))


def _rebuild_error(cls: type[GeneratorError], message: str, location: SourceLocation | None,
                   hint: str | None, source_lines: tuple[str, ...]) -> GeneratorError:
    return cls(message, location, hint, source_lines=source_lines)


def excerpt(text: str, line: int, context: int = 2) -> tuple[str, ...]:
    """Numbered lines around 1-based `line`, marking the offending one with '>'."""
    lines = text.splitlines()
    start, end = max(1, line - context), min(len(lines), line + context)
    width = len(str(end))
    return tuple(
        f"{'>' if n == line else ' '} {n:>{width}} | {lines[n - 1]}" for n in range(start, end + 1)
    )
