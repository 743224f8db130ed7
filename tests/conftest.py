"""Shared fixtures: throwaway copies of the project, a CLI runner, an HTTP server, one Chromium.

Browser tests are grouped (`xdist_group("browser")`) so one worker owns the single Chromium.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# A fixed reference time keeps the news sitemap and future filter stable across test runs.
FIXED_EPOCH = "1795651200"  # 2026-11-26T00:00Z: the day after the sample article

# A test run started in the background (`nohup make test &`) inherits SIGINT ignored, and so
# would every dev server the tests start: Ctrl-C tests could then never stop one. A Python
# handler here is reset to the default in each child at exec, where Python turns it into
# KeyboardInterrupt as in a terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# Hundreds of throwaway projects are built here: a build daemon left behind for each
# (NEWSGEN_DAEMON=auto, the default off CI) would outlive the test run. The daemon tests start
# theirs explicitly, or ask for auto.
os.environ["NEWSGEN_DAEMON"] = "manual"


def copy_project(target: Path, *, seeds: bool = True, content: bool = True) -> Path:
    """A self-contained copy of this project's site sources (no public/, no .git)."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "site.toml", target / "site.toml")
    shutil.copytree(ROOT / "layouts", target / "layouts")
    (target / "seeds").mkdir(exist_ok=True)
    (target / "content" / "articles").mkdir(parents=True, exist_ok=True)
    if seeds:
        shutil.copytree(ROOT / "seeds", target / "seeds", dirs_exist_ok=True)
    if content:
        shutil.copytree(ROOT / "content", target / "content", dirs_exist_ok=True)
    return target


def age(root: Path) -> None:
    """Date every source file 10 s back. Files saved within a second of a build's scan are
    re-read as if edited (the racy-mtime rule in generator/scan.py), which would keep every
    build of a just-made test site off the fast and no-change paths."""
    past = time.time_ns() - 10 * 1_000_000_000
    for path in [*root.rglob("*")]:
        if path.is_file() and "public" not in path.parts and ".cache" not in path.parts:
            os.utime(path, ns=(past, past))


def set_base_url(root: Path, base_url: str) -> None:
    config = root / "site.toml"
    lines = [f'base_url = "{base_url}"' if line.startswith("base_url") else line
             for line in config.read_text(encoding="utf-8").splitlines()]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run_cli(root: Path, *args: str, env: dict[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run `python -m generator ARGS` in `root` as a user would."""
    environment = {**os.environ, "SOURCE_DATE_EPOCH": FIXED_EPOCH, **(env or {})}
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=root, env=environment,
                          capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "site")


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample project built once per session under the sub-path /news/; returns its root."""
    root = copy_project(tmp_path_factory.mktemp("built") / "site")
    set_base_url(root, "https://example.github.io/news/")
    result = run_cli(root, "build")
    assert result.returncode == 0, result.stderr
    return root


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve_under_prefix(public: Path, prefix: str, parent: Path) -> Iterator[str]:
    """Serve `public` at http://127.0.0.1:PORT/<prefix>/ (like GitHub Pages) while the block
    runs; yields that URL and stops the server afterwards."""
    parent.mkdir(parents=True, exist_ok=True)
    link = parent / prefix.strip("/")
    if not link.exists():
        link.symlink_to(public, target_is_directory=True)
    handler = functools.partial(_QuietHandler, directory=str(parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{prefix.strip('/')}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def site_url(built_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The session's built site over real HTTP under /news/."""
    with serve_under_prefix(built_site / "public", "news", tmp_path_factory.mktemp("www")) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Debian Chromium for the whole session (never `playwright install`)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                              headless=True)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    tab = context.new_page()
    yield tab
    context.close()
