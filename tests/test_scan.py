"""The input scan, and the CLI's copy of it run ahead in a forked child (generator/scan.py)."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import ROOT, age, copy_project

from generator import scan
from generator.build import Builder, BuildOptions, build
from generator.errors import GeneratorError
from generator.publish import build_lock
from generator.scan import ScanAhead, listing_digest, scan_now

NOW = datetime(2026, 7, 25, tzinfo=UTC)
OPTIONS = BuildOptions(ingest=False, search=False, now=NOW, jobs=1)


def _reaped(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_the_scan_ahead_equals_a_scan_made_now(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "site")
    (root / "content" / "articles" / ".swap.md").write_text("editor junk")
    ahead = ScanAhead.start(root)
    assert ahead is not None
    scanned_ns, stats, digest = scan_now(root)
    ahead_ns, ahead_stats, ahead_digest = ahead.result() or (0, {}, "")
    assert ahead_stats == stats and ahead_digest == digest == listing_digest(stats)
    assert abs(ahead_ns - scanned_ns) < 60 * 10**9  # when it started: a clock reading
    assert "site.toml" in stats and "layouts/base.html" in stats
    assert not any("/." in path for path in stats)  # hidden files are not sources
    assert _reaped(ahead._pid)
    assert ahead.result() is None  # taken up once


def test_the_digest_changes_with_any_stat() -> None:
    stats = {"content/a.md": (10, 1), "site.toml": (5, 2)}
    digests = {listing_digest(stats), listing_digest({**stats, "content/a.md": (11, 1)}),
               listing_digest({**stats, "content/a.md": (10, 3)}),
               listing_digest({"content/b.md": (10, 1), "site.toml": (5, 2)})}
    assert len(digests) == 4
    assert listing_digest(dict(reversed(stats.items()))) == listing_digest(stats)


def test_a_failed_child_gives_none_and_the_build_scans_itself(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = copy_project(tmp_path / "site")

    def broken(_: Path) -> dict[str, tuple[int, int]]:
        raise OSError("no scan here")

    monkeypatch.setattr(scan, "input_stats", broken)  # before the fork: the child inherits it
    failing = ScanAhead.start(root)
    assert failing is not None and failing.result() is None
    monkeypatch.undo()
    Builder(root, OPTIONS, scan_ahead=ScanAhead.start(root)).build()  # scans for itself
    assert (root / "public" / "index.html").is_file()


def test_the_build_takes_up_the_childs_scan(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    root = copy_project(tmp_path / "site")
    ahead = ScanAhead.start(root)

    def broken(_: Path) -> dict[str, tuple[int, int]]:
        raise OSError("no scan here")

    monkeypatch.setattr(scan, "input_stats", broken)  # the parent cannot scan: it must not
    result = Builder(root, OPTIONS, scan_ahead=ahead).build()
    assert result.stats.pages > 0 and (root / "public" / "index.html").is_file()


def test_an_untaken_scan_is_stopped_and_reaped(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "site")
    ahead = ScanAhead.start(root)
    assert ahead is not None
    ahead.discard()
    assert _reaped(ahead._pid)
    ahead.discard()  # twice is harmless
    (root / "site.toml").write_text("title = \n")  # a build that fails before its scan
    late = ScanAhead.start(root)
    with pytest.raises(GeneratorError, match=r"site\.toml"):
        build(root, OPTIONS, scan_ahead=late)
    assert late is not None and _reaped(late._pid)


def test_a_scan_made_before_ingest_wrote_articles_is_not_used(tmp_path: Path) -> None:
    """The CLI starts its scan before ingest runs: articles ingest writes must still be built."""
    root = copy_project(tmp_path / "site", content=False)
    age(root)
    ahead = ScanAhead.start(root)
    assert ahead is not None
    select.select([ahead._pipe], [], [], 30)  # the scan is done before ingest writes
    result = Builder(root, BuildOptions(search=False, now=NOW, jobs=1), scan_ahead=ahead).build()
    assert result.ingest is not None and len(result.ingest.written) == 1
    slug = result.ingest.written[0].stem
    assert list((root / "public").glob(f"*/*/{slug}/index.html"))


def test_the_newsgen_command_builds_with_its_scan_ahead(tmp_path: Path) -> None:
    """Through the real command (a new process, which forks the scan): cold, unchanged, edited."""
    root = copy_project(tmp_path / "site")
    age(root)
    # A date after the project's own article (the sample seed's), so it is published.
    command = [sys.executable, "-m", "generator", "build", "--no-search",
               "--now", "2026-12-31T00:00:00+00:00",
               "--root", str(root)]
    first = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert first.returncode == 0, first.stderr
    again = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert "up to date" in again.stdout
    article = next((root / "content" / "articles").glob("*.md"))
    article.write_text(article.read_text(encoding="utf-8") + "\nA late paragraph.\n",
                       encoding="utf-8")
    edited = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert edited.returncode == 0, edited.stderr
    assert "rendered" in edited.stdout
    page = next((root / "public").glob(f"*/*/{article.stem}/index.html"))
    assert "A late paragraph." in page.read_text(encoding="utf-8")


def test_the_wait_for_a_slow_scan_is_spent_importing(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    root = copy_project(tmp_path / "site")
    real = scan.input_stats

    def slow(folder: Path) -> dict[str, tuple[int, int]]:
        time.sleep(1.0)
        return real(folder)

    monkeypatch.setattr(scan, "input_stats", slow)  # the child inherits the slow scan
    ahead = ScanAhead.start(root)
    monkeypatch.undo()
    for name in ("colorsys", "wave"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    assert ahead is not None
    result = ahead.result(meanwhile=("wave", "colorsys"))
    assert result is not None and result[1] == scan.input_stats(root)
    assert "wave" in sys.modules and "colorsys" in sys.modules


def _built_site_with_a_finished_scan(tmp_path: Path) -> tuple[Path, ScanAhead]:
    """A built site, and a scan of it that the child has finished (not yet taken up)."""
    root = copy_project(tmp_path / "site")
    age(root)
    Builder(root, OPTIONS).build()
    ahead = ScanAhead.start(root)
    assert ahead is not None
    select.select([ahead._pipe], [], [], 30)
    return root, ahead


def _write_late_story(root: Path, body: str) -> None:
    (root / "content" / "articles" / "late-story.md").write_text(
        f"---\ntitle: A late story\ndate: '2026-07-20T10:00:00+00:00'\nsection: world\n---\n\n"
        f"{body}\n", encoding="utf-8")


def test_a_scan_made_before_waiting_for_another_build_is_not_used(tmp_path: Path) -> None:
    """Another build holds the lock and adds an article meanwhile: the scan the CLI started
    before it waited must not be trusted."""
    root, ahead = _built_site_with_a_finished_scan(tmp_path)
    locked, release = threading.Event(), threading.Event()

    def other_build() -> None:
        with build_lock(root):
            locked.set()
            _write_late_story(root, "Written while the other build waited.")
            release.wait(30)

    holder = threading.Thread(target=other_build)
    holder.start()
    assert locked.wait(30)
    threading.Timer(0.3, release.set).start()
    Builder(root, OPTIONS, scan_ahead=ahead).build()  # waits for the lock, then builds
    holder.join()
    assert list((root / "public").glob("*/*/late-story/index.html"))


def test_a_scan_older_than_the_last_build_is_not_used(tmp_path: Path) -> None:
    """Another build can start and finish between the CLI's fork and its lock, without making
    it wait: one that published an article the early scan never saw."""
    root, ahead = _built_site_with_a_finished_scan(tmp_path)
    _write_late_story(root, "Published by the other build.")
    Builder(root, OPTIONS).build()  # the other build, done before this one takes the lock
    assert list((root / "public").glob("*/*/late-story/index.html"))
    result = Builder(root, OPTIONS, scan_ahead=ahead).build()
    assert list((root / "public").glob("*/*/late-story/index.html")), result.stats.removed


def test_a_fork_that_fails_leaves_the_scan_to_the_build(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    root = copy_project(tmp_path / "site")

    def no_fork() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    descriptors = len(os.listdir("/proc/self/fd"))
    monkeypatch.setattr(os, "fork", no_fork)
    assert ScanAhead.start(root) is None
    assert len(os.listdir("/proc/self/fd")) == descriptors  # the pipe was closed
    monkeypatch.undo()
    Builder(root, OPTIONS, scan_ahead=None).build()
    assert (root / "public" / "index.html").is_file()
