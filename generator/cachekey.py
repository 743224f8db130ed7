"""The build cache's keys: the version a cache must carry to be trusted, the build's input
signature, the state a build leaves for the next one, and the fingerprint hash.

Apart from the store (cache.py) so that modules needing only a key or a hash do not import
SQLite and the store's machinery.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path

from . import __version__
from .model import (
    INGEST_VERSION,
    MARKDOWN_EXTENSIONS,
    Document,
    Entry,
    FrontMatter,
    RenderJob,
    Site,
    Taxonomy,
)


@dataclass(slots=True)
class BuildState:
    """Everything the next build needs to decide what to redo."""

    signature: str = ""  # hash of every input's (path, size, mtime): equal means nothing to do
    scanned_ns: int = 0  # when the inputs were listed: newer mtimes cannot be trusted (racy)
    options: str = ""  # build options that change output (drafts, future)
    next_event: datetime | None = None  # a future article or news-sitemap expiry: rebuild then
    documents: dict[str, tuple[int, int, Document]] = field(default_factory=dict)
    seeds: dict[str, tuple[int, int, str]] = field(default_factory=dict)  # ingest records
    outputs: dict[str, str] = field(default_factory=dict)  # output path -> input fingerprint


# The model's field names are part of the key, so a change to the pickled dataclasses can never
# be read back with the wrong shape.
_MODEL_SHAPE = ",".join(f.name for cls in (Document, FrontMatter, Entry, Site, Taxonomy, RenderJob,
                                             BuildState) for f in fields(cls))


def _markdown_version() -> str:
    """Python-Markdown's version, read without importing the package: a no-change build
    never renders Markdown, and importing it would cost that build 20 ms of its 120."""
    try:
        spec = importlib.util.find_spec("markdown")
        assert spec is not None and spec.origin is not None
        meta = Path(spec.origin).with_name("__meta__.py")
        namespace: dict[str, object] = {}
        exec(compile(meta.read_bytes(), str(meta), "exec"), namespace)
        return str(namespace["__version__"])
    except Exception:  # a layout we do not know: ask the package itself
        import markdown

        return markdown.__version__


def code_digest(package: Path = Path(__file__).parent) -> str:
    """A hash of the generator's own source files. The version number alone missed code
    changes: a `git pull` into an editable install (as `make build` makes) keeps "0.1.0", and
    the cache then kept pages that the new code renders differently. Content, not mtimes, so a
    fresh clone or a `touch` keeps the cache. 1.5 ms for 41 files."""
    digest = hashlib.sha256()
    try:
        names = sorted(os.listdir(package))
    except OSError:  # not a folder (a zip, a frozen build): the version alone
        return ""
    for name in names:
        # Not dotfiles: an editor's lock file (Emacs' `.#cache.py`) may be a dangling symlink.
        if name.endswith(".py") and not name.startswith("."):
            try:
                data = (package / name).read_bytes()
            except OSError:
                continue
            digest.update(f"{name}\0{len(data)}\0".encode())
            digest.update(data)
    return digest.hexdigest()[:16]


MARKDOWN_SETTINGS = f"markdown={_markdown_version()};extensions={','.join(MARKDOWN_EXTENSIONS)}"
CACHE_VERSION = (f"newsgen={__version__};code={code_digest()};ingest={INGEST_VERSION};"
                 f"{MARKDOWN_SETTINGS};python={sys.version_info[:2]};"
                 f"model={hashlib.sha256(_MODEL_SHAPE.encode()).hexdigest()[:12]}")


def signature(digest: str, options: str) -> str:
    """The build's input signature: the scan's listing digest, the version and the options."""
    return hashlib.sha256(f"{CACHE_VERSION}\n{options}\n{digest}".encode()).hexdigest()


def fingerprint(*parts: str) -> str:
    return hashlib.blake2b("\0".join(parts).encode("utf-8", "surrogatepass"),
                           digest_size=16).hexdigest()
