"""Search stage: the site's finished HTML -> a Pagefind index (`Output`s under pagefind/).

Runs the Pagefind binary (PyPI `pagefind[extended]`) over the staging folder before it is swapped
in, so the published site is never half-indexed. Never writes into the site itself (the
publisher does); a missing or failing binary is a warning and the site is published without
search.

Pagefind always indexes the whole site; two things make that cheaper (20 s -> 12 s for a
one-article edit at 10,000 articles):
- It reads only the pages it will index: when pages carry `data-pagefind-body`, Pagefind
  parses every HTML file and then ignores those without it (listings). Its --glob names the
  others instead (`2024/**/*.html`, ...): the same index, 20% faster.
- Unchanged pages' fragments are handed back to it. Pagefind names fragment files by a hash of
  their content and does not write (or gzip at its best level, one at a time) a file already
  there. A manifest in the build cache records, per URL, the hash of the HTML that was indexed
  and the fragment it gave; a fragment is reused only when its page's HTML is byte-identical,
  but for the `<link>` tags of its head, which Pagefind never reads (a new stylesheet
  fingerprint, in every page, would otherwise mean an index from nothing: 32 s at 10,000).
  The names are short hashes (7 hex digits): if a new fragment's name collides with a reused
  one, Pagefind lengthens one of the two, which leaves one name the prefix of another; that
  run is discarded and Pagefind runs again from nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import re
import shutil
import subprocess
import zlib
from collections.abc import Iterator
from html.parser import HTMLParser
from importlib import metadata
from pathlib import Path
from typing import Any

from .errors import Diagnostic
from .model import Output
from .publish import files_under

OUTPUT_SUBDIR = "pagefind"  # also writing.SEARCH_DIR
MANIFEST_NAME = "search-fragments.json"  # in the build cache: what each fragment indexed
_BODY = b"data-pagefind-body"
# Pagefind drops the head's content; a <link> in it counts only through data-pagefind-*
# attributes or an href naming its pre-1.0 bundle (`_pagefind`), both kept by the "pagefind"
# test (pagefind/src/fossick/parser.rs). The title (RCDATA: its text is not markup) is skipped.
_BODY_START = re.compile(rb"<body[\s>]", re.IGNORECASE)
_LT_IN_TAG = re.compile(rb"<[^<>]*<")
_HEAD_PART = re.compile(rb"(<title\b.*?</title\s*>)|<link\b[^<>]*>", re.IGNORECASE | re.DOTALL)
TIMEOUT_SECONDS = 600
_INSTALL_HINT = ("install it with pip install 'pagefind[extended]==1.5.2', or turn search off "
                 "with --no-search or `search = false` in site.toml")


def pagefind_binary() -> Path | None:
    """The Pagefind executable: $PAGEFIND_BINARY_PATH, the PyPI wheel's binary, or one on PATH."""
    configured = os.environ.get("PAGEFIND_BINARY_PATH")
    if configured is not None:
        return Path(configured) if configured and Path(configured).is_file() else None
    for module in ("pagefind_bin_extended", "pagefind_bin"):
        try:
            found = __import__(module).get_executable()
        except (ImportError, FileNotFoundError, AttributeError):
            continue
        if isinstance(found, Path) and found.is_file():
            return found
    external = shutil.which("pagefind_extended") or shutil.which("pagefind")
    return Path(external) if external else None


def publish_search_index(writer: Any, site_dir: Path, diagnostics: list[Diagnostic], *,
                         previous_dir: Path | None = None, cache_dir: Path | None = None,
                         reuse: bool = True) -> int:
    """Index `site_dir` once every page is in it, and write the bundle through `writer`.

    `site_dir` is the staging folder of a full build (swapped in afterwards, so the published
    site is never half-indexed) or the output folder of an in-place build; for the latter,
    files of the old bundle that the new one lacks are removed with `writer.remove_later`.
    Returns the number of index files written.
    """
    written: list[str] = []
    for output in search_outputs(site_dir, diagnostics, previous_dir=previous_dir,
                                 cache_dir=cache_dir, reuse=reuse):
        writer.write(output)
        written.append(output.path)
    remove = getattr(writer, "remove_later", None)
    bundle = site_dir / OUTPUT_SUBDIR
    if written and remove is not None and bundle.is_dir():
        old = {f"{OUTPUT_SUBDIR}/{p.relative_to(bundle).as_posix()}"
               for p in bundle.rglob("*") if p.is_file()}
        remove(sorted(old - set(written)))
    return len(written)


def search_outputs(site_dir: Path, diagnostics: list[Diagnostic], *,
                   previous_dir: Path | None = None, cache_dir: Path | None = None,
                   reuse: bool = True) -> Iterator[Output]:
    """Index the HTML pages under `site_dir`; yield the index files (paths under pagefind/).

    The previous index (`previous_dir`'s, else `site_dir`'s) is reused as a whole when the
    manifest in `cache_dir` says it was made from exactly these pages (same URLs, same
    `search_digest`s), and otherwise for the fragments of the pages whose digest is the same.
    `reuse` False (a clean build), or a Pagefind configuration of the user's own, means an
    index from nothing.
    Problems are appended to `diagnostics` as warnings; nothing is yielded.
    """
    html = sorted(p for p in files_under(site_dir)
                  if p.endswith(".html") and not p.startswith(f"{OUTPUT_SUBDIR}/"))
    pages = indexed_html(site_dir, html)
    configured = _user_configured()
    manifest = cache_dir / MANIFEST_NAME if cache_dir is not None else None
    previous = (previous_dir or site_dir) / OUTPUT_SUBDIR
    recorded = _recorded(manifest, previous) if reuse and not configured else None
    if recorded is not None and recorded.describes(pages) and recorded.version == pagefind_version():
        yield from _files(previous)
        return
    binary = pagefind_binary()
    if binary is None:
        diagnostics.append(Diagnostic("warning", "search index skipped: the Pagefind binary "
                                      "was not found", hint=_INSTALL_HINT))
        return
    glob = None if configured else html_glob(set(pages), html)
    # Beside the site, on its file system (hard links), and ignored by git as `.public.*` is.
    work = site_dir.parent / f".{site_dir.name.strip('.')}.search"
    shutil.rmtree(work, ignore_errors=True)
    try:
        bundle = work / OUTPUT_SUBDIR
        reused = _reuse_fragments(recorded, previous, bundle, pages)
        problem = _run(binary, site_dir, bundle, glob)
        if not problem and reused and _suspect(bundle, reused):
            shutil.rmtree(bundle)
            reused = Reused()
            problem = _run(binary, site_dir, bundle, glob)
        if problem:
            diagnostics.append(Diagnostic("warning", f"search index skipped: {problem}",
                                          hint=_INSTALL_HINT))
            return
        if manifest is not None:
            _save_manifest(manifest, bundle, pages, reused)
        yield from _files(bundle)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _user_configured() -> bool:
    """Whether Pagefind will read settings of the user's own (a config file where it runs, or
    PAGEFIND_ variables): they may change what it indexes, so it runs as they say."""
    names = ("pagefind.yml", "pagefind.yaml", "pagefind.toml", "pagefind.json")
    return (any(os.path.exists(name) for name in names)
            or any(key.startswith("PAGEFIND_") and key != "PAGEFIND_BINARY_PATH"
                   for key in os.environ))


def indexed_html(site_dir: Path, html: list[str]) -> dict[str, str]:
    """{path: search_digest of its bytes} of the HTML files (of `html`) Pagefind indexes: those
    with `data-pagefind-body` if any page has it (Pagefind then ignores the others), else all."""
    top = str(site_dir)
    bodies: dict[str, str] = {}
    for path in html:
        with open(os.path.join(top, path), "rb") as file:
            data = file.read()
        # Attribute names are case-insensitive; a mention in a page's text is a false positive,
        # which costs Pagefind one more page to read, nothing more.
        if _BODY in data or _BODY in data.lower():
            bodies[path] = search_digest(data)
    # Only an element carrying the attribute makes Pagefind skip the other pages: a site whose
    # pages merely mention it in their text is indexed whole.
    if any(_has_body_element(site_dir / path) for path in bodies):
        return bodies
    return {path: search_digest((site_dir / path).read_bytes()) for path in html}


def search_digest(page: bytes) -> str:
    """SHA-1 of what Pagefind may read of a page: its bytes without the head's <link> tags
    (those not mentioning pagefind), so equal digests give equal fragments."""
    start = _BODY_START.search(page)
    head = page[:start.start()] if start is not None else b""
    if start is None or not _plain_head(head):
        return hashlib.sha1(page).hexdigest()
    head = _HEAD_PART.sub(_kept, head)
    return hashlib.sha1(head + page[start.start():]).hexdigest()


def _plain_head(head: bytes) -> bool:
    """Whether a regex can find the head's tags: no comment, CDATA or the like (`<!` past the
    doctype), no `<` inside a tag (an attribute value), and every <title> closed (which also
    keeps _HEAD_PART linear). Any other head is hashed whole."""
    lowered = head.lower()
    doctype = lowered.lstrip().startswith(b"<!doctype")
    return (lowered.count(b"<!") == int(doctype) and _LT_IN_TAG.search(head) is None
            and lowered.count(b"<title") == lowered.count(b"</title"))


def _kept(match: re.Match[bytes]) -> bytes:
    tag = match[0]
    return tag if match[1] is not None or b"pagefind" in tag.lower() else b""


class _BodyFinder(HTMLParser):
    found = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found = self.found or any(name == "data-pagefind-body" for name, _ in attrs)


def _has_body_element(path: Path) -> bool:
    finder = _BodyFinder()
    finder.feed(path.read_text(encoding="utf-8", errors="replace"))
    finder.close()
    return finder.found


GLOB_MAX = 64_000  # characters: Linux allows 128 KiB in one argument
# Path characters a glob takes literally (Pagefind 1.5 reads `( ) < > [ ] { } ,` as syntax,
# `* ? $` as wildcards); any other in a path means the default glob.
_GLOB_LITERAL = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/%")


def html_glob(wanted: set[str], html: list[str]) -> str:
    """A Pagefind --glob matching exactly the `wanted` files among `html`: a folder whose HTML
    files are all wanted is one `folder/**/*.html`, others are split further. "**/*.html"
    (Pagefind's own default) when that is all of them, or when no short glob says it."""
    if set(html) <= wanted or any(not _GLOB_LITERAL.issuperset(path) for path in html):
        return "**/*.html"
    patterns: list[str] = []

    def cover(folder: str, files: list[str]) -> None:
        chosen = [f for f in files if f in wanted]
        if not chosen:
            return
        if folder and len(chosen) == len(files):
            patterns.append(f"{folder}/**/*.html")
            return
        depth = folder.count("/") + 1 if folder else 0
        below: dict[str, list[str]] = {}
        for path in files:
            parts = path.split("/")
            if len(parts) == depth + 1:
                if path in wanted:
                    patterns.append(path)
            else:
                below.setdefault("/".join(parts[:depth + 1]), []).append(path)
        for sub, under in below.items():
            cover(sub, under)

    cover("", html)
    glob = "{" + ",".join(patterns) + "}" if len(patterns) > 1 else patterns[0]
    return glob if len(glob) <= GLOB_MAX else "**/*.html"


def page_url(path: str) -> str:
    """The URL Pagefind gives the page at `path` (it drops a final index.html)."""
    if path == "index.html" or path.endswith("/index.html"):
        path = path[:-len("index.html")]
    return f"/{path}"


class Recorded(dict[str, tuple[str, str]]):
    """The manifest of the previous index: {URL: (search_digest of the page, fragment file)}."""

    version = ""

    def describes(self, pages: dict[str, str]) -> bool:
        """Whether the index was made from exactly these pages (every `search_digest` equal)."""
        return {page_url(path): digest for path, digest in pages.items()} == {
            url: digest for url, (digest, _) in self.items()}


class Reused(dict[str, str]):
    """{URL: fragment file name} reused from the previous index, and that index's Pagefind."""

    version = ""


def _recorded(manifest: Path | None, previous: Path) -> Recorded | None:
    """The manifest, if it describes the index in `previous` (its meta file and version)."""
    if manifest is None:
        return None
    try:
        data = json.loads(manifest.read_bytes())
        recorded = Recorded({str(url): (str(entry[0]), str(entry[1]))
                             for url, entry in data["pages"].items()})
        recorded.version = str(data["version"])
        meta = str(data["meta"])
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None  # none yet, or damaged: never trusted
    if not (meta and (previous / meta).is_file() and recorded.version
            and recorded.version == _version(previous)):
        return None
    if any("/" in name or not name.endswith(".pf_fragment") for _, name in recorded.values()):
        return None
    return recorded


def _reuse_fragments(recorded: Recorded | None, previous: Path, bundle: Path,
                     pages: dict[str, str]) -> Reused:
    """Put the previous index's fragments of unchanged pages into `bundle`."""
    reused = Reused()
    if recorded is None:
        return reused
    (bundle / "fragment").mkdir(parents=True)
    for path, digest in pages.items():
        url = page_url(path)
        entry = recorded.get(url)
        if entry is None or entry[0] != digest:
            continue
        name = entry[1]
        try:
            os.link(previous / "fragment" / name, bundle / "fragment" / name)
        except FileExistsError:
            continue
        except OSError:
            try:
                shutil.copyfile(previous / "fragment" / name, bundle / "fragment" / name)
            except OSError:
                continue
        reused[url] = name
    reused.version = recorded.version
    return reused


def _suspect(bundle: Path, reused: Reused) -> bool:
    """Whether a run that was handed `reused` fragments may have kept a wrong one: another
    Pagefind version; a reused file no page names (more fragment files than pages, as when
    Pagefind's settings changed); or a reused name that is the prefix of a new one (Pagefind
    lengthened a colliding name, and the reused file may stand for the other page)."""
    if _version(bundle) != reused.version:
        return True
    names = sorted(p.name.removesuffix(".pf_fragment") for p in (bundle / "fragment").iterdir())
    if len(names) != indexed_pages(bundle):  # 0 for an unreadable entry: suspect too
        return True
    kept = {name.removesuffix(".pf_fragment") for name in reused.values()}
    return any(longer.startswith(shorter) and shorter in kept and longer not in kept
               for shorter, longer in itertools.pairwise(names))


def _version(bundle: Path) -> str:
    try:
        entry = json.loads((bundle / "pagefind-entry.json").read_bytes())
        return str(entry["version"]) if isinstance(entry, dict) else ""
    except (OSError, ValueError, KeyError):
        return ""


def _save_manifest(manifest: Path, bundle: Path, pages: dict[str, str], reused: Reused) -> None:
    """Record, per URL, the hash of the HTML indexed and its fragment's file name."""
    digests = {page_url(path): digest for path, digest in pages.items()}
    named = {name: url for url, name in reused.items()}
    fragments: dict[str, list[str]] = {}
    written = bundle / "fragment"
    for fragment in sorted(written.iterdir()) if written.is_dir() else ():
        url = named.get(fragment.name) or _fragment_url(fragment)
        if url in digests:
            fragments[url] = [digests[url], fragment.name]
    metas = sorted(p.name for p in bundle.glob("pagefind.*.pf_meta"))
    record = {"version": _version(bundle), "meta": metas[0] if len(metas) == 1 else "",
              "pages": fragments}
    try:
        manifest.parent.mkdir(parents=True, exist_ok=True)
        partial = manifest.with_name(f".{manifest.name}.partial")
        partial.write_text(json.dumps(record, sort_keys=True), encoding="utf-8")
        partial.replace(manifest)
    except OSError:  # a speed-up only: the next index is made from nothing
        with contextlib.suppress(OSError):
            manifest.unlink(missing_ok=True)


def _fragment_url(fragment: Path) -> str:
    """The page URL a fragment indexes: gzip of `pagefind_dcd` + JSON starting with its url."""
    try:
        data = zlib.decompress(fragment.read_bytes(), 16 + zlib.MAX_WBITS)
        return str(json.loads(data.removeprefix(b"pagefind_dcd"))["url"])
    except (OSError, ValueError, KeyError, TypeError, zlib.error):
        return ""


def _files(bundle: Path) -> Iterator[Output]:
    # The entry file names the current index files: written last, a reader never follows it to
    # files that are not there yet (this matters for in-place builds).
    files = sorted((p for p in bundle.rglob("*") if p.is_file()),
                   key=lambda p: (p.name == "pagefind-entry.json", p.as_posix()))
    for path in files:
        yield Output(f"{OUTPUT_SUBDIR}/{path.relative_to(bundle).as_posix()}", path.read_bytes())


def _run(binary: Path, site_dir: Path, bundle: Path, glob: str | None = None) -> str:
    """Run Pagefind; '' on success, else what went wrong in one line."""
    command = [str(binary), "--site", str(site_dir), "--output-path", str(bundle), "--silent"]
    if glob is not None:
        command += ["--glob", glob]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"could not run {binary}: {err}"
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return f"Pagefind exited with status {done.returncode}: {tail[0]}"
    if not (bundle / "pagefind.js").is_file():
        return "Pagefind produced no pagefind.js"
    return ""


def pagefind_version() -> str:
    """The installed PyPI package's version, or '' (recorded in the build report)."""
    try:
        return metadata.version("pagefind")
    except metadata.PackageNotFoundError:
        return ""


def indexed_pages(bundle_dir: Path) -> int:
    """How many pages an index in `bundle_dir` (public/pagefind) holds; 0 when there is none."""
    entry = bundle_dir / "pagefind-entry.json"
    try:
        languages = json.loads(entry.read_text(encoding="utf-8")).get("languages", {})
    except (OSError, ValueError):
        return 0
    return sum(int(info.get("page_count", 0)) for info in languages.values())
