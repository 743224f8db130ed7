"""Reproducible output: the same input gives byte-identical public/ trees wherever and however it
is built, and a rebuild without changes rewrites nothing (every file keeps its mtime).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from conftest import copy_project, run_cli
from sitefactory import build, corpus, write_article, write_project

OLD_MTIME = 1_000_000_000  # 2001: any file rewritten by a later build gets a newer mtime


def snapshot(public: Path) -> dict[str, bytes]:
    """Every file under public/ (dotfiles included) -> its bytes."""
    return {p.relative_to(public).as_posix(): p.read_bytes()
            for p in sorted(public.rglob("*")) if p.is_file()}


def mtimes(public: Path) -> dict[str, int]:
    return {p.relative_to(public).as_posix(): p.stat().st_mtime_ns
            for p in public.rglob("*") if p.is_file()}


def test_two_builds_in_different_folders_are_byte_identical(tmp_path: Path) -> None:
    # Different folders, hash seeds and local time zones must not leak into the output.
    first = copy_project(tmp_path / "one" / "site")
    second = copy_project(tmp_path / "elsewhere" / "deeper" / "site")
    for root in (first, second):
        for article in corpus():
            write_article(root, article)
    a = build(first, env={"PYTHONHASHSEED": "1", "TZ": "UTC"})
    b = build(second, env={"PYTHONHASHSEED": "2", "TZ": "America/New_York"})
    files_a, files_b = snapshot(a), snapshot(b)
    assert sorted(files_a) == sorted(files_b)
    assert [name for name in files_a if files_a[name] != files_b[name]] == []
    assert len(files_a) > 80 and ".nojekyll" in files_a
    assert not any(str(tmp_path).encode() in data for data in files_a.values())


def test_rebuild_in_place_is_byte_identical(tmp_path: Path) -> None:
    root = write_project(tmp_path / "site", corpus(12))
    before = snapshot(build(root))
    shutil.rmtree(root / ".cache", ignore_errors=True)  # a cold rebuild, without any cache
    assert snapshot(build(root)) == before


def test_no_change_rebuild_rewrites_nothing(tmp_path: Path) -> None:
    root = write_project(tmp_path / "site", corpus(12))
    public = build(root)
    for path in public.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(OLD_MTIME * 10**9, OLD_MTIME * 10**9))
    before = snapshot(public)
    result = run_cli(root, "build")
    assert result.returncode == 0, result.stderr
    assert snapshot(public) == before
    changed = {name: ns for name, ns in mtimes(public).items() if ns != OLD_MTIME * 10**9}
    assert changed == {}


def test_one_changed_article_rewrites_only_the_pages_that_show_it(tmp_path: Path) -> None:
    articles = corpus(12)
    root = write_project(tmp_path / "site", articles)
    public = build(root)
    for path in public.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(OLD_MTIME * 10**9, OLD_MTIME * 10**9))
    oldest = articles[-1]  # on no front page of 10, no prev/next of the newest
    source = root / "content" / "articles" / f"{oldest.slug}.md"
    source.write_text(source.read_text(encoding="utf-8").replace("Body of story", "Corrected body"),
                      encoding="utf-8")
    build(root)
    rewritten = {n for n, ns in mtimes(public).items() if ns != OLD_MTIME * 10**9}
    page = f"{oldest.date:%Y/%m}/{oldest.slug}/index.html"
    assert page in rewritten
    assert "index.html" not in rewritten  # the front page does not show the body
    assert b"Corrected body" in (public / page).read_bytes()
    assert len(rewritten) < 15, sorted(rewritten)
