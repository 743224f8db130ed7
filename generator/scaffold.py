"""Scaffold: `newsgen new` writes a starter Markdown file for a person to edit.

Refuses to overwrite an existing file; never writes outside content/.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import frontmatter

from .config import SiteConfig
from .errors import ContentError, SourceLocation
from .urls import slugify


def new_document(config: SiteConfig, title: str, *, page: bool, section: str,
                 now: datetime) -> Path:
    slug = slugify(title)
    folder = config.root / "content" / ("pages" if page else "articles")
    target = folder / f"{slug}.md"
    relative = target.relative_to(config.root)
    known = {s.slug for s in config.sections} | {config.default_section}
    if section and section not in known:
        raise ContentError(f"unknown section {section!r}", SourceLocation(config.path),
                           hint=f"use one of: {', '.join(sorted(known))}")
    if target.exists():
        raise ContentError(f"{relative} already exists", SourceLocation(relative),
                           hint="choose another title or edit the existing file")
    metadata: dict[str, object] = {"title": title}
    if not page:
        metadata.update(
            date=now.astimezone(config.tz).replace(microsecond=0).isoformat(),
            summary="", authors=[], section=section or config.default_section, tags=[],
        )
    # A draft, page or article: the placeholder text must not go live with the next build.
    metadata["draft"] = True
    body = f"Write the {'page' if page else 'story'} here. Remove `draft: true` to publish it.\n"
    folder.mkdir(parents=True, exist_ok=True)
    target.write_text(frontmatter.dumps(frontmatter.Post(body, None, **metadata), sort_keys=False)
                      + "\n",
                      encoding="utf-8")
    return relative
