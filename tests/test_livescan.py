"""The build daemon's scan kept current by inotify (generator/livescan.py): after any sequence
of file operations it must equal a fresh scan, stat for stat."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import copy_project
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator import livescan
from generator.livescan import LiveScan
from generator.scan import listing_digest, scan_now


def _live(root: Path) -> LiveScan:
    live = LiveScan.start(root)
    assert live is not None, "inotify is available on Linux"
    return live


def _assert_current(live: LiveScan, root: Path) -> None:
    _ns, stats, digest = live.current()
    _fresh_ns, fresh, fresh_digest = scan_now(root)
    assert stats == fresh
    assert digest == fresh_digest == listing_digest(fresh)


NAMES = ("a.md", "b.md", "c.txt", ".swap.md")
TARGETS = ("t1.md", "t2.md")  # in a folder beside the project
FOLDERS = ("content/articles", "content/pages", "content/new", "content/new/deep", "seeds",
           "layouts/partials")

operation = st.one_of(
    st.tuples(st.just("write"), st.sampled_from(FOLDERS), st.sampled_from(NAMES),
              st.binary(max_size=20)),
    st.tuples(st.just("touch"), st.sampled_from(FOLDERS), st.sampled_from(NAMES),
              st.integers(1, 10**9)),
    st.tuples(st.just("delete"), st.sampled_from(FOLDERS), st.sampled_from(NAMES), st.none()),
    st.tuples(st.just("rename"), st.sampled_from(FOLDERS), st.sampled_from(NAMES),
              st.sampled_from(FOLDERS)),
    st.tuples(st.just("rmtree"), st.sampled_from(FOLDERS), st.none(), st.none()),
    st.tuples(st.just("move_folder"), st.sampled_from(FOLDERS), st.none(),
              st.sampled_from(("content/moved", "outside", "seeds/old"))),
    st.tuples(st.just("site.toml"), st.none(), st.none(), st.binary(max_size=8)),
    # A touch or chmod of a folder changes none of its files.
    st.tuples(st.just("touch_folder"), st.sampled_from(FOLDERS), st.none(),
              st.integers(1, 10**9)),
    st.tuples(st.just("chmod_folder"), st.sampled_from(FOLDERS), st.none(),
              st.sampled_from((0o700, 0o755))),
    # Symlinks to files outside the project, whose targets come, change and go.
    st.tuples(st.just("link"), st.sampled_from(FOLDERS), st.sampled_from(NAMES),
              st.sampled_from(TARGETS)),
    st.tuples(st.just("target"), st.none(), st.none(),
              st.tuples(st.sampled_from(TARGETS), st.one_of(st.none(), st.binary(max_size=9)))),
)


def _apply(root: Path, op: tuple[str, str | None, str | None, object]) -> None:
    kind, folder, name, extra = op
    place = root / folder if folder else root
    if kind == "site.toml":
        with open(root / "site.toml", "ab") as config:
            config.write(extra)  # type: ignore[arg-type]
        return
    if kind == "target":
        target, data = extra  # type: ignore[misc]
        path = root.parent / "targets" / target
        path.parent.mkdir(exist_ok=True)
        if data is None:
            path.unlink(missing_ok=True)
        else:
            path.write_bytes(data)
        return
    if kind in ("touch_folder", "chmod_folder"):
        if place.is_dir():
            if kind == "touch_folder":
                os.utime(place, ns=(int(extra), int(extra)))  # type: ignore[call-overload]
            else:
                place.chmod(int(extra))  # type: ignore[call-overload]
        return
    if kind == "link":
        place.mkdir(parents=True, exist_ok=True)
        link = place / str(name)
        if link.is_symlink() or not link.exists():
            link.unlink(missing_ok=True)
            link.symlink_to(root.parent / "targets" / str(extra))  # may not exist (yet)
        return
    if kind == "rmtree":
        shutil.rmtree(place, ignore_errors=True)
        return
    if kind == "move_folder":
        target = root / str(extra)
        if place.is_dir() and not target.exists() and not target.is_relative_to(place):
            target.parent.mkdir(parents=True, exist_ok=True)
            place.rename(target)
        return
    path = place / str(name)
    if kind == "write":
        place.mkdir(parents=True, exist_ok=True)
        path.write_bytes(extra)  # type: ignore[arg-type]
    elif kind == "touch" and path.exists():
        os.utime(path, ns=(int(extra), int(extra)))  # type: ignore[call-overload]
    elif kind == "delete":
        path.unlink(missing_ok=True)
    elif kind == "rename" and path.exists():
        target = root / str(extra)
        target.mkdir(parents=True, exist_ok=True)
        path.rename(target / str(name))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.lists(operation, min_size=1, max_size=6), min_size=1, max_size=5))
def test_the_live_scan_equals_a_fresh_scan_after_any_changes(
        tmp_path: Path, steps: list[list[tuple[str, str | None, str | None, object]]]) -> None:
    root = tmp_path / "site"
    shutil.rmtree(root, ignore_errors=True)
    shutil.rmtree(tmp_path / "outside", ignore_errors=True)
    shutil.rmtree(tmp_path / "targets", ignore_errors=True)
    (tmp_path / "targets").mkdir()  # a write through a dangling link creates its target
    copy_project(root, seeds=False)
    live = _live(root)
    try:
        _assert_current(live, root)
        for batch in steps:  # a batch: the edits made between two builds
            for op in batch:
                _apply(root, op)
            _assert_current(live, root)
    finally:
        live.close()


def test_it_reads_changed_files_only_and_rescans_when_events_were_lost(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = copy_project(tmp_path / "site")
    live = _live(root)
    try:
        article = next((root / "content" / "articles").glob("*.md"))
        article.write_text("changed", encoding="utf-8")
        _assert_current(live, root)
        assert live.full_scans == 1  # the one at start: the edit was read from its event
        # A queue overflow (the kernel dropped events): the kept scan cannot be trusted.
        with pytest.raises(livescan._Rescan):
            live._event(-1, livescan._IN_Q_OVERFLOW, "")
        drain = live._drain

        def overflowed() -> None:
            monkeypatch.setattr(live, "_drain", drain)
            raise livescan._Rescan

        monkeypatch.setattr(live, "_drain", overflowed)
        (root / "content" / "articles" / "new.md").write_text("new", encoding="utf-8")
        _assert_current(live, root)
        assert live.full_scans == 2
        article.write_text("changed again", encoding="utf-8")
        _assert_current(live, root)
        assert live.full_scans == 2  # watching again
    finally:
        live.close()


def test_a_symlinked_files_target_is_read_again_on_every_scan(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "site")
    target = tmp_path / "elsewhere.md"
    target.write_text("---\ntitle: T\n---\nfirst\n", encoding="utf-8")
    (root / "content" / "pages").mkdir(exist_ok=True)
    (root / "content" / "pages" / "linked.md").symlink_to(target)
    live = _live(root)
    try:
        _assert_current(live, root)
        target.write_text("---\ntitle: T\n---\nsecond, longer\n", encoding="utf-8")
        _assert_current(live, root)  # no event came from content/: the target is not watched
        # Links made while it watches, one of them dangling until its target appears.
        later, missing = tmp_path / "later.md", tmp_path / "missing.md"
        later.write_text("later", encoding="utf-8")
        (root / "content" / "pages" / "later.md").symlink_to(later)
        (root / "content" / "pages" / "dangling.md").symlink_to(missing)
        _assert_current(live, root)
        later.write_text("later, changed", encoding="utf-8")
        missing.write_text("here now", encoding="utf-8")
        _assert_current(live, root)
        missing.unlink()
        _assert_current(live, root)
    finally:
        live.close()


def test_without_inotify_watches_it_scans_afresh(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    root = copy_project(tmp_path / "site")
    live = _live(root)
    try:
        def no_watches(*_args: object) -> int:
            raise OSError(28, "no space left for inotify watches")

        monkeypatch.setattr(live, "_reset", no_watches)
        def lost_events() -> None:
            raise livescan._Rescan

        monkeypatch.setattr(live, "_drain", lost_events)
        (root / "content" / "extra").mkdir()
        (root / "content" / "extra" / "x.md").write_text("x", encoding="utf-8")
        _assert_current(live, root)
        assert live._fd == -1  # closed: from now on every scan is a fresh one
        (root / "content" / "extra" / "y.md").write_text("y", encoding="utf-8")
        _assert_current(live, root)
    finally:
        live.close()


def test_a_watched_folder_replaced_by_a_symlink_is_scanned_through_it(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "site")
    elsewhere = tmp_path / "seeds-elsewhere"
    elsewhere.mkdir()
    (elsewhere / "one.txt").write_text("a seed", encoding="utf-8")
    live = _live(root)
    try:
        shutil.rmtree(root / "seeds")
        (root / "seeds").symlink_to(elsewhere)  # scan_folder follows it at the top level
        _assert_current(live, root)
        (elsewhere / "two.txt").write_text("another", encoding="utf-8")  # watched through it
        _assert_current(live, root)
        other = tmp_path / "seeds-other"
        other.mkdir()
        (other / "three.txt").write_text("third", encoding="utf-8")
        (root / "seeds.new").symlink_to(other)
        (root / "seeds.new").replace(root / "seeds")  # `ln -sfn`: retargeted by a rename
        _assert_current(live, root)
    finally:
        live.close()


def test_a_retargeted_link_above_a_watched_folder_is_noticed(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "site")
    for release in ("v1", "v2"):
        (tmp_path / release / "seeds").mkdir(parents=True)
        (tmp_path / release / "seeds" / f"{release}.txt").write_text(release, encoding="utf-8")
    (tmp_path / "current").symlink_to(tmp_path / "v1")
    shutil.rmtree(root / "seeds")
    (root / "seeds").symlink_to(tmp_path / "current" / "seeds")
    live = _live(root)
    try:
        _assert_current(live, root)
        (tmp_path / "next").symlink_to(tmp_path / "v2")
        (tmp_path / "next").replace(tmp_path / "current")  # no event reaches any watch
        _assert_current(live, root)
    finally:
        live.close()


def test_a_chmod_of_a_folder_is_settled_by_a_full_scan(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "site")
    live = _live(root)
    try:
        (root / "content" / "articles").chmod(0o700)
        _assert_current(live, root)
        assert live.full_scans == 2  # its files may have become unreadable (or readable)
        (root / "content").chmod(0o755)  # a watched folder itself, seen from the project's
        _assert_current(live, root)
        assert live.full_scans == 3
    finally:
        live.close()
