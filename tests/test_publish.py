"""The in-place writer's recycled files: a page's replaced file, emptied, is the file its next
version is written to, so rebuilds that replace the same pages create and delete no file (on
ext4 without a journal, creating files soon after deleting others is slow: publish.py). Files
linked from elsewhere are never emptied or written through, and without a usable spare folder
the writer works as before, leaving nothing behind.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import run_cli
from sitefactory import corpus, write_project

from generator.model import Output
from generator.publish import InPlaceWriter


def publish(output_dir: Path, spares: Path | None, files: dict[str, bytes],
            stale: tuple[str, ...] = ()) -> InPlaceWriter:
    writer = InPlaceWriter(output_dir, spares)
    for path, data in files.items():
        writer.write(Output(path, data))
    writer.remove_later(list(stale))
    writer.commit()
    return writer


def inode(path: Path) -> int:
    return os.stat(path).st_ino


def test_a_replaced_file_becomes_the_next_version_of_its_page(tmp_path: Path) -> None:
    out, spares = tmp_path / "public", tmp_path / ".cache" / "spare-pages"
    out.mkdir()
    (out / "a").mkdir()
    (out / "a" / "index.html").write_bytes(b"version 1")
    first = inode(out / "a" / "index.html")
    writer = publish(out, spares, {"a/index.html": b"version 2", "b/index.html": b"new page"})
    assert writer.keep_spares
    second = inode(out / "a" / "index.html")
    assert second != first and (out / "a" / "index.html").read_bytes() == b"version 2"
    # The replaced file waits, emptied, as the page's spare; the new page's was used up.
    assert [(p.stat().st_ino, p.stat().st_size) for p in spares.iterdir()] == [(first, 0)]
    publish(out, spares, {"a/index.html": b"version 3"})
    assert inode(out / "a" / "index.html") == first
    assert (out / "a" / "index.html").read_bytes() == b"version 3"
    assert [(p.stat().st_ino, p.stat().st_size) for p in spares.iterdir()] == [(second, 0)]
    # A file no longer produced is deleted from public/ (its folder too) and kept as a spare.
    publish(out, spares, {}, stale=("b/index.html",))
    assert not (out / "b").exists() and (out / "a" / "index.html").read_bytes() == b"version 3"
    assert len(list(spares.iterdir())) == 2
    assert all(p.stat().st_size == 0 for p in spares.iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == [".cache", "public"]


def test_files_linked_from_elsewhere_are_never_emptied_or_written_through(
        tmp_path: Path) -> None:
    out, spares = tmp_path / "public", tmp_path / ".cache" / "spare-pages"
    backup = tmp_path / "backup"
    backup.mkdir()
    publish(out, spares, {"a/index.html": b"version 1"})
    publish(out, spares, {"a/index.html": b"version 2"})
    # A user's `cp -al public backup`: the live file is linked from their folder.
    os.link(out / "a" / "index.html", backup / "a.html")
    publish(out, spares, {"a/index.html": b"version 3"})
    assert (backup / "a.html").read_bytes() == b"version 2"  # not emptied: only unlinked
    assert (out / "a" / "index.html").read_bytes() == b"version 3"
    assert list(spares.iterdir()) == []  # version 1's file was used for version 3
    publish(out, spares, {"a/index.html": b"version 4"})
    # A spare someone linked to: the next version is written to a file of its own.
    (spare,) = spares.iterdir()
    os.link(spare, backup / "spare")
    publish(out, spares, {"a/index.html": b"version 5"})
    assert (backup / "spare").read_bytes() == b""
    assert (out / "a" / "index.html").read_bytes() == b"version 5"
    assert os.stat(out / "a" / "index.html").st_ino != os.stat(backup / "spare").st_ino


def test_a_killed_commits_links_are_cleared_and_the_live_files_kept(tmp_path: Path) -> None:
    out, spares = tmp_path / "public", tmp_path / ".cache" / "spare-pages"
    publish(out, spares, {"a/index.html": b"live"})
    name = InPlaceWriter(out, spares).spare("a/index.html").name
    (spares / "undo").mkdir()
    os.link(out / "a" / "index.html", spares / "undo" / name)  # as _set_aside leaves it
    writer = publish(out, spares, {"a/index.html": b"next"})
    assert (out / "a" / "index.html").read_bytes() == b"next"
    assert not writer.undo.exists()
    assert os.stat(out / "a" / "index.html").st_nlink == 1


@pytest.mark.parametrize("where", ["other file system", "cannot be made"])
def test_without_usable_spares_the_files_go_through_a_folder_deleted_after(
        tmp_path: Path, where: str) -> None:
    out = tmp_path / "public"
    if where == "cannot be made":
        (tmp_path / ".cache").write_text("a file, not a folder")
        spares = tmp_path / ".cache" / "spare-pages"
    else:
        shm = Path("/dev/shm")
        if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
            pytest.fail("this test needs /dev/shm on a file system of its own")
        spares = shm / f"newsgen-test-{os.getpid()}-{tmp_path.name}"
    try:
        writer = publish(out, spares, {"a/index.html": b"version 1"})
        writer = publish(out, spares, {"a/index.html": b"version 2"}, stale=())
        assert not writer.keep_spares
        assert (out / "a" / "index.html").read_bytes() == b"version 2"
        assert not (tmp_path / ".public.incoming").exists()
        assert not any(spares.iterdir()) if spares.is_dir() else True
    finally:
        if where == "other file system":
            for path in sorted(spares.rglob("*"), reverse=True):
                path.rmdir() if path.is_dir() else path.unlink()
            spares.rmdir()


def test_a_stylesheet_edit_replaces_every_page_through_recycled_files(tmp_path: Path) -> None:
    root = write_project(tmp_path / "site", corpus(6))
    assert run_cli(root, "build", "--no-search").returncode == 0
    public = root / "public"
    page = next(public.glob("20*/*/story-02/index.html"))
    inodes = [inode(page)]
    for rule in (".a { color: red; }", ".b { color: red; }"):
        style = root / "layouts" / "static" / "style.css"
        style.write_text(style.read_text(encoding="utf-8") + rule, encoding="utf-8")
        assert run_cli(root, "build", "--no-search").returncode == 0
        inodes.append(inode(page))
        assert b"style." in page.read_bytes()  # each page links the fingerprinted CSS
    spares = root / ".cache" / "spare-pages"
    pages = len(list(public.rglob("*.html")))
    assert len(list(spares.iterdir())) >= pages
    assert all(p.stat().st_size == 0 for p in spares.iterdir())
    # The second edit wrote each page into the file the first one replaced: no new files.
    assert inodes[2] == inodes[0] != inodes[1]
    assert sorted(p.name for p in root.iterdir() if p.name.startswith(".")) == [
        ".cache", ".newsgen.lock"]


def test_the_next_build_clears_what_a_killed_one_left_beside_the_output(tmp_path: Path) -> None:
    root = write_project(tmp_path / "site", corpus(3))
    assert run_cli(root, "build", "--no-search").returncode == 0
    left = [".public.search", ".public.staging.search", ".public.staging", ".public.incoming",
            ".public.undo"]
    for name in left:  # a killed build's work folders (search.py's and publish.py's)
        (root / name / "pagefind").mkdir(parents=True)
        (root / name / "pagefind" / "pagefind-entry.json").write_text("{}")
    assert run_cli(root, "build", "--no-search").returncode == 0
    assert not [name for name in left if (root / name).exists()]
    assert (root / "public" / "index.html").is_file()
