"""A build that finds no usable cache writes a new one beside it and renames it into place
(cache.CacheStore.begin_fresh): the old cache, its log and the output stay consistent whatever
happens before that rename."""

from __future__ import annotations

import os
import shutil
import sqlite3
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import age
from test_incremental import OPTIONS, body_edit, clean_build_of, make_site, snapshot

from generator.build import Builder, build
from generator.cache import CacheStore
from generator.errors import GeneratorError

CACHE = Path(".cache") / "newsgen.sqlite"


def cache_files(root: Path) -> list[str]:
    return sorted(path.name for path in (root / ".cache").iterdir() if path.is_file())


def meta(root: Path) -> dict[str, bytes]:
    with closing(sqlite3.connect(root / CACHE)) as db:
        return {key: bytes(value) for key, value in db.execute("SELECT key, value FROM meta")}


def memo_rows(root: Path) -> tuple[list[tuple[object, ...]], ...]:
    """The memo tables' rows, jobs decoded: marshal's bytes for equal values differ with the
    writing process's reference counts (it marks objects referenced more than once)."""
    from generator.memostore import _job_from_row

    with closing(sqlite3.connect(root / CACHE)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        entries, jobs, outputs = (db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
                                  for table in ("memo_entries", "memo_jobs", "outputs"))
    return entries, [(key, _job_from_row(blob)) for key, blob in jobs], outputs


def foreign_database(folder: Path) -> tuple[Path, bytes]:
    """Another SQLite database and its real write-ahead log (frames not yet checkpointed):
    replayed into the cache, that log would overwrite its pages."""
    other = folder / "other.sqlite"
    db = sqlite3.connect(other)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("CREATE TABLE filler (value BLOB)")
    with db:
        db.executemany("INSERT INTO filler VALUES (?)", [(bytes(3000),)] * 200)
    log = Path(f"{other}-wal").read_bytes()
    db.close()
    assert len(log) > 100_000
    return other, log


def test_a_cold_build_puts_a_complete_cache_in_place(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site", count=12)
    age(root)
    Builder(root, OPTIONS).build()
    assert cache_files(root) == ["newsgen.sqlite"]  # no fresh file, log or journal left
    with closing(sqlite3.connect(root / CACHE)) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert Builder(root, OPTIONS).build().up_to_date
    body_edit(root)
    assert Builder(root, OPTIONS).build().fast  # the memo came through the rename too
    assert snapshot(root / "public") == clean_build_of(root, tmp_path / "clean")


def test_the_cache_is_not_in_place_before_the_build_saves_it(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Readers (the next build, a killed build's successor) see the old cache or none, never
    the half-written fresh one."""
    root = make_site(tmp_path / "site", count=6)
    seen: list[tuple[bool, list[str]]] = []
    save = CacheStore.save

    def spy(store: CacheStore, *args: object, **kwargs: object) -> None:
        seen.append(((root / CACHE).exists(), cache_files(root)))
        save(store, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(CacheStore, "save", spy)
    Builder(root, OPTIONS).build()
    assert seen == [(False, ["newsgen.sqlite.new"])]
    assert cache_files(root) == ["newsgen.sqlite"]


def test_a_failed_build_from_nothing_keeps_the_old_cache_and_drops_its_own(
        tmp_path: Path) -> None:
    root = make_site(tmp_path / "site", count=8)
    Builder(root, OPTIONS).build()
    before = meta(root)
    layout = root / "layouts" / "article.html"
    good = layout.read_text(encoding="utf-8")
    layout.write_text(good + "{{ broken(", encoding="utf-8")
    with pytest.raises(GeneratorError):  # as the CLI runs it (the builder is closed)
        build(root, replace(OPTIONS, cache=False))  # fails before touching public/
    assert cache_files(root) == ["newsgen.sqlite"]
    assert meta(root) == before
    layout.write_text(good, encoding="utf-8")
    Builder(root, OPTIONS).build()
    assert snapshot(root / "public") == clean_build_of(root, tmp_path / "clean")


def test_replacing_the_output_first_deletes_the_cache_that_described_it(tmp_path: Path) -> None:
    """A fresh build killed between swapping public/ in and saving must leave no cache whose
    fingerprints describe the old output (the next build would trust them)."""
    root = make_site(tmp_path / "site", count=6)
    Builder(root, OPTIONS).build()
    store = CacheStore(root)
    store.begin_fresh()
    store.prepare()
    store.invalidate_outputs()
    assert not (root / CACHE).exists()
    store.close()  # never saved: the fresh file goes too
    assert cache_files(root) == []


def test_a_log_left_beside_the_old_cache_is_not_replayed_into_the_new_one(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site", count=6)
    Builder(root, OPTIONS).build()
    _, log = foreign_database(tmp_path)
    Path(f"{root / CACHE}-wal").write_bytes(log)
    Builder(root, replace(OPTIONS, cache=False)).build()
    with closing(sqlite3.connect(root / CACHE)) as check:
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert check.execute("SELECT COUNT(*) FROM outputs").fetchone()[0] > 10
    body_edit(root, name="story-3")
    Builder(root, OPTIONS).build()
    assert snapshot(root / "public") == clean_build_of(root, tmp_path / "clean")


@pytest.mark.parametrize("fast", [True, False])
def test_a_fresh_file_a_killed_build_left_goes_with_the_next_save(tmp_path: Path,
                                                                  fast: bool) -> None:
    root = make_site(tmp_path / "site", count=6)
    age(root)
    Builder(root, OPTIONS).build()
    (root / ".cache" / "newsgen.sqlite.new").write_bytes(b"half a database" * 1000)
    if fast:
        body_edit(root, name="story-2")
    else:  # a new article: the full incremental path, which keeps the cache and saves into it
        (root / "content" / "articles" / "story-new.md").write_text(
            (root / "content" / "articles" / "story-2.md").read_text(encoding="utf-8")
            .replace("title: \"Story-2\"", "title: \"Another\""), encoding="utf-8")
    builder = Builder(root, OPTIONS)
    assert builder.build().fast is fast
    builder.close()
    assert cache_files(root) == ["newsgen.sqlite"]


def test_a_parallel_cold_build_writes_the_largest_memo_tables_from_a_fork(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from generator import memostore

    root = make_site(tmp_path / "site", count=30)
    age(root)
    writers = tmp_path / "writers"
    save_bulk_rows = memostore.save_bulk_rows

    def spy(db: sqlite3.Connection, memo: object) -> None:
        with writers.open("a") as log:
            log.write(f"{os.getpid()}\n")
        save_bulk_rows(db, memo)  # type: ignore[arg-type]

    monkeypatch.setattr(memostore, "save_bulk_rows", spy)
    monkeypatch.setattr(memostore, "_BULK_CHUNK", 7)  # several transactions per table
    build(root, replace(OPTIONS, jobs=2))
    assert writers.read_text().split() != [str(os.getpid())]  # one line, from another process
    assert len(writers.read_text().split()) == 1
    serial = tmp_path / "serial"
    shutil.copytree(root, serial, ignore=shutil.ignore_patterns("public", ".cache"))
    build(serial, OPTIONS)  # one process: no fork, so no second line in the log
    assert len(writers.read_text().split()) == 1
    assert memo_rows(root) == memo_rows(serial) and len(memo_rows(root)[0]) >= 30
    body_edit(root, name="story-7")
    assert build(root, OPTIONS).fast  # reads the rows the fork wrote
    assert snapshot(root / "public") == clean_build_of(root, tmp_path / "clean")


def test_a_dev_server_follows_a_cache_another_process_rebuilt_from_nothing(
        tmp_path: Path) -> None:
    """Its connection was to the replaced file: writes through it would be lost, and the new
    cache trusted while describing output the dev server had since rewritten."""
    root = make_site(tmp_path / "site", count=12)
    age(root)
    Builder(root, OPTIONS).build()
    dev = Builder(root, OPTIONS, keep_memo=True)
    assert dev.build().up_to_date  # reads the stored memo: its connection is open
    build(root, replace(OPTIONS, cache=False))  # another process's build from nothing
    target = root / "content" / "articles" / "story-3.md"
    original = target.read_bytes()
    body_edit(root, "\nA sentence that will be taken back.\n", name="story-3")
    dev.build({target})
    dev.close()
    target.write_bytes(original)
    assert not build(root, OPTIONS).up_to_date
    published = snapshot(root / "public")
    assert not any(b"taken back" in page for page in published.values())
    assert published == clean_build_of(root, tmp_path / "clean")


def test_closing_a_dev_server_waits_for_a_running_build(tmp_path: Path) -> None:
    """Its save runs under the build lock: a build writing a fresh cache meanwhile must not
    have that file taken for a killed build's and deleted."""
    import fcntl
    import threading

    root = make_site(tmp_path / "site", count=8)
    age(root)
    Builder(root, OPTIONS).build()
    dev = Builder(root, OPTIONS, keep_memo=True)
    body_edit(root, name="story-3")
    assert dev.build().fast  # unsaved until close()
    with open(root / ".newsgen.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a build in another process
        running = root / ".cache" / "newsgen.sqlite.new"
        running.write_bytes(b"being written")
        closing_thread = threading.Thread(target=dev.close)
        closing_thread.start()
        closing_thread.join(0.5)
        assert closing_thread.is_alive()  # still waiting for the lock
        assert running.exists()
        fcntl.flock(lock, fcntl.LOCK_UN)
    closing_thread.join(30)
    assert not closing_thread.is_alive()
    body_edit(root, text="\nA second edit.\n", name="story-4")
    assert build(root, OPTIONS).fast  # what the dev server saved is usable
    assert snapshot(root / "public") == clean_build_of(root, tmp_path / "clean")


def test_a_forked_writer_that_fails_leaves_no_cache_to_trust(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from generator import memostore
    from generator.errors import CacheError

    root = make_site(tmp_path / "site", count=12)

    def failing(db: sqlite3.Connection, memo: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(memostore, "save_bulk_rows", failing)
    server = Builder(root, replace(OPTIONS, jobs=2), keep_memo=True)  # lives on after it
    with pytest.raises(CacheError, match="cannot write the build cache"):
        server.build()
    # At once, not when the builder closes: its next build would read the half-saved file.
    assert cache_files(root) == []
    server.close()
    monkeypatch.undo()
    build(root, OPTIONS)
    assert snapshot(root / "public") == clean_build_of(root, tmp_path / "clean")


def test_a_database_made_beside_the_fresh_one_is_replaced_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Between the old cache's deletion and the rename, a reader may create an empty cache
    file and a log at the cache's path: the rename must not leave the log beside the new file."""
    root = make_site(tmp_path / "site", count=6)
    other, log = foreign_database(tmp_path)
    save = CacheStore.save

    def reader_meanwhile(store: CacheStore, *args: object, **kwargs: object) -> None:
        shutil.copyfile(other, root / CACHE)
        Path(f"{root / CACHE}-wal").write_bytes(log)
        save(store, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(CacheStore, "save", reader_meanwhile)
    build(root, OPTIONS)
    monkeypatch.undo()
    assert memo_rows(root)[2]  # the outputs table: the new cache, intact
    assert cache_files(root) == ["newsgen.sqlite"]
