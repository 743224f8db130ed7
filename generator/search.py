"""Search stage: the site's finished HTML -> a Pagefind index (`Output`s under pagefind/).

Runs the Pagefind binary (PyPI `pagefind[extended]`) over the staging folder before it is swapped
in, so the published site is never half-indexed. Never writes itself (the publisher does); a
missing or failing binary is a warning and the site is published without search.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Collection, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

from .errors import Diagnostic
from .model import Output
from .publish import files_under

OUTPUT_SUBDIR = "pagefind"
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
                         previous_dir: Path | None = None,
                         changed: Collection[str] | None = None) -> int:
    """Index `site_dir` once every page is in it, and write the bundle through `writer`.

    `site_dir` is the staging folder of a full build (swapped in afterwards, so the published
    site is never half-indexed) or the output folder of an in-place build; for the latter,
    files of the old bundle that the new one lacks are removed with `writer.remove_later`.
    Returns the number of index files written.
    """
    written: list[str] = []
    for output in search_outputs(site_dir, diagnostics, previous_dir=previous_dir,
                                 changed=tuple(writer.changed if changed is None else changed)):
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
                   previous_dir: Path | None = None,
                   changed: Collection[str] = ()) -> Iterator[Output]:
    """Index every HTML page under `site_dir`; yield the index files (paths under pagefind/).

    When `previous_dir` (the published site) holds the same HTML files and none of them is in
    `changed` (outputs written with new bytes), its index is reused as is: the index is a pure
    function of the pages. Problems are appended to `diagnostics` as warnings; nothing is yielded.
    """
    if previous_dir is not None and _reusable(previous_dir, site_dir, changed):
        yield from _files(previous_dir / OUTPUT_SUBDIR)
        return
    binary = pagefind_binary()
    if binary is None:
        diagnostics.append(Diagnostic("warning", "search index skipped: the Pagefind binary "
                                      "was not found", hint=_INSTALL_HINT))
        return
    with tempfile.TemporaryDirectory(prefix="newsgen-pagefind-") as temporary:
        bundle = Path(temporary) / OUTPUT_SUBDIR
        problem = _run(binary, site_dir, bundle)
        if problem:
            diagnostics.append(Diagnostic("warning", f"search index skipped: {problem}",
                                          hint=_INSTALL_HINT))
            return
        yield from _files(bundle)


def _files(bundle: Path) -> Iterator[Output]:
    # The entry file names the current index files: written last, a reader never follows it to
    # files that are not there yet (this matters for in-place builds).
    files = sorted((p for p in bundle.rglob("*") if p.is_file()),
                   key=lambda p: (p.name == "pagefind-entry.json", p.as_posix()))
    for path in files:
        yield Output(f"{OUTPUT_SUBDIR}/{path.relative_to(bundle).as_posix()}", path.read_bytes())


def _reusable(previous_dir: Path, site_dir: Path, changed: Collection[str]) -> bool:
    if any(path.endswith(".html") for path in changed):
        return False
    try:
        entry = json.loads((previous_dir / OUTPUT_SUBDIR / "pagefind-entry.json").read_bytes())
    except (OSError, ValueError):
        return False
    if not isinstance(entry, dict) or entry.get("version") != pagefind_version():
        return False
    return _html_files(previous_dir) == _html_files(site_dir)


def _html_files(folder: Path) -> set[str]:
    return {path for path in files_under(folder) if path.endswith(".html")}


def _run(binary: Path, site_dir: Path, bundle: Path) -> str:
    """Run Pagefind; '' on success, else what went wrong in one line."""
    command = [str(binary), "--site", str(site_dir), "--output-path", str(bundle), "--silent"]
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
