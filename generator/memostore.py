"""The fast-rebuild memo on disk, so a new CLI process can take the dev server's fast path.

After every full build the indexed site, the planned jobs, their fingerprints and the reverse
index (document -> jobs showing it) are saved in the build cache, row by row. A later
`newsgen build` that finds only Markdown files edited in place loads just what the edit needs:
the small site skeleton, the rows of the edited documents, the jobs that show them and the
entries those pages list. Unpickling the whole site instead costs more than the rest of such a
rebuild (0.4 s at 10,000 articles). Everything here is a plain function of the stored rows;
`CacheStore` decides when they may be trusted.
"""

from __future__ import annotations

import itertools
import marshal
import pickle
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from .cache import MissingRow
from .incremental import Fingerprints, Memo
from .model import RenderJob, Site

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS memo (key TEXT PRIMARY KEY, value BLOB)",
    # Small rows keyed by text are WITHOUT ROWID: one B-tree per table, not a table and an index
    # (not memo_entries: its kilobyte rows would make that tree three times the size).
    "CREATE TABLE IF NOT EXISTS memo_entries (key TEXT PRIMARY KEY, entry BLOB)",
    "CREATE TABLE IF NOT EXISTS memo_jobs (position INTEGER PRIMARY KEY, job BLOB)",
    "CREATE TABLE IF NOT EXISTS memo_dependents (key TEXT PRIMARY KEY, positions BLOB) "
    "WITHOUT ROWID",
    # Per document, so a fast rebuild reads the few hashes its pages need and writes back only
    # the edited ones (whole-site blobs cost a CLI edit 35 ms to read, rewrite and checkpoint).
    "CREATE TABLE IF NOT EXISTS memo_hashes (key TEXT PRIMARY KEY, sha TEXT, card TEXT) "
    "WITHOUT ROWID",
    # Stats that changed since the "inputs" blob was written: read over it.
    "CREATE TABLE IF NOT EXISTS memo_inputs (path TEXT PRIMARY KEY, size INTEGER, mtime INTEGER) "
    "WITHOUT ROWID",
)
_PICKLE = pickle.HIGHEST_PROTOCOL
T = TypeVar("T")
# Bump when the rows change shape (the model's own shape is in cachekey.CACHE_VERSION already).
MEMO_FORMAT = b"5"
# Fast rebuilds add rows to memo_inputs; once they have written about this many (a file
# written twice counts twice), the blob is written again instead.
INPUT_DELTAS = 500


# Rows to write, by table: (INSERT statement, rows).
MemoRows = dict[str, tuple[str, Iterable[tuple[Any, ...]]]]
# The same, as iterators (taken in chunks by save_bulk_rows).
BulkRows = dict[str, tuple[str, Iterator[tuple[Any, ...]]]]
# The memo's largest tables: half the memo's save at 100,000 articles.
BULK_TABLES = ("memo_entries", "memo_jobs")
_BULK_CHUNK = 5000


def memo_rows(memo: Memo, bulk: bool = True) -> MemoRows:
    """The stored memo's rows. All but BULK_TABLES are encoded now, before the transaction that
    writes them: a process writing those meanwhile (CacheStore.save) then waits only for the
    inserts. Without `bulk` those two tables are left to save_bulk_rows."""
    renderer = memo.renderer
    skeleton = replace(memo.site, entries={})
    rows = {
        "inputs": marshal.dumps(memo.inputs),
        "scanned_ns": str(memo.scanned_ns).encode(),
        "skeleton": pickle.dumps(skeleton, _PICKLE),
        "templates": pickle.dumps((memo.fingerprints.site_wide, memo.fingerprints.templates),
                                  _PICKLE),
        "renderer": pickle.dumps((renderer.manifest, dict(renderer.contexts._images)), _PICKLE),
        "counts": marshal.dumps(memo.counts),
        "next_event": pickle.dumps(memo.next_event, _PICKLE),
        "options": memo.options.encode(),
        "format": MEMO_FORMAT,
    }
    # Read everything first: a memo read from the cache reads these tables lazily, and would
    # find them emptied when they are written.
    tables: MemoRows = {"memo": ("INSERT INTO memo VALUES (?, ?)", list(rows.items()))}
    if bulk:
        tables.update(_bulk_rows(memo))
    shas, cards = memo.shas, memo.cards
    # Rows in key order, as cache.save does: appended to each B-tree, not scattered over it.
    tables["memo_dependents"] = ("INSERT INTO memo_dependents VALUES (?, ?)", [
        (key, marshal.dumps(positions)) for key, positions in sorted(memo.dependents.items())])
    tables["memo_hashes"] = ("INSERT INTO memo_hashes VALUES (?, ?, ?)", [
        (key, sha, cards[key]) for key, sha in sorted(shas.items())])
    return tables


def write_memo_rows(db: sqlite3.Connection, tables: MemoRows) -> None:
    """Empty the memo's tables (those in `tables`, and the fast rebuilds' memo_inputs) and
    write `tables` into them, inside the caller's transaction."""
    for table in (*tables, "memo_inputs"):
        db.execute(f"DELETE FROM {table}")
    for statement, rows in tables.values():
        db.executemany(statement, rows)


def save_bulk_rows(db: sqlite3.Connection, memo: Memo) -> None:
    """Fill the empty BULK_TABLES of a new cache, a transaction per chunk of rows, each chunk
    encoded before its transaction opens: the writer of the other tables waits only for
    inserts, and this one for at most one of its transactions."""
    for statement, rows in _bulk_rows(memo).values():
        while chunk := list(itertools.islice(rows, _BULK_CHUNK)):
            with db:
                db.executemany(statement, chunk)


def _bulk_rows(memo: Memo) -> BulkRows:
    """BULK_TABLES' rows, encoded as they are taken: a list of them all would be 280 MB at
    100,000 articles."""
    return {"memo_entries": ("INSERT INTO memo_entries VALUES (?, ?)",
                             map(_entry_row, sorted(memo.site.entries.items()))),
            "memo_jobs": ("INSERT INTO memo_jobs VALUES (?, ?)",
                          enumerate(map(_job_row, list(memo.jobs))))}


def _entry_row(item: tuple[str, Any]) -> tuple[str, bytes]:
    return item[0], pickle.dumps(item[1], _PICKLE)


def _job_row(job: RenderJob) -> bytes:
    """A job's fields marshalled (six times faster than pickling it: 170,000 jobs at 100,000
    articles) when every parameter is a plain value that marshal gives back unchanged, else
    pickled (a datetime; marshal would also turn a bytearray into bytes, changing its repr)."""
    if all(map(_plain, job.params)):
        return b"m" + marshal.dumps((job.output, job.url, job.kind, job.template, job.params,
                                     job.depends_on, job.source))
    return b"p" + pickle.dumps(job, _PICKLE)


_PLAIN = frozenset({str, int, float, bool, type(None)})


def _plain(value: Any) -> bool:
    kind = type(value)
    return all(map(_plain, value)) if kind is tuple else kind in _PLAIN


def _job_from_row(blob: bytes) -> RenderJob:
    if blob[:1] == b"m":
        return RenderJob(*marshal.loads(blob[1:]))
    job: RenderJob = pickle.loads(blob[1:])
    return job


def load_memo(db: sqlite3.Connection, outputs: MutableMapping[str, str]) -> Memo | None:
    """The stored memo with lazily read entries, jobs and dependents; None if there is none.

    `outputs` is the cache's output fingerprints (read row by row too). The memo carries no
    renderer: the caller makes one from `memo.renderer_inputs`.
    """
    rows = {str(key): bytes(value) for key, value in db.execute("SELECT key, value FROM memo")}
    if "skeleton" not in rows or rows.get("format") != MEMO_FORMAT:
        return None
    skeleton: Site = pickle.loads(rows["skeleton"])
    site_wide, templates = pickle.loads(rows["templates"])
    inputs: dict[str, tuple[int, int]] = marshal.loads(rows["inputs"])
    inputs.update((str(path), (size, mtime)) for path, size, mtime in
                  db.execute("SELECT path, size, mtime FROM memo_inputs"))
    memo = Memo(
        inputs=inputs,
        scanned_ns=int(rows["scanned_ns"]),
        site=replace(skeleton, entries=StoredRows(db, "memo_entries", "entry", pickle.loads)),
        jobs=StoredJobs(db, marshal.loads(rows["counts"])[3]),
        fingerprints=Fingerprints(site_wide, templates, outputs),
        renderer=None,
        dependents=StoredDependents(db),
        shas=StoredRows(db, "memo_hashes", "sha", str),
        cards=StoredRows(db, "memo_hashes", "card", str),
        counts=marshal.loads(rows["counts"]),
        next_event=pickle.loads(rows["next_event"]),
        options=rows["options"].decode(),
    )
    memo.renderer_inputs = pickle.loads(rows["renderer"])
    return memo


def update_memo(db: sqlite3.Connection, memo: Memo, edited: Sequence[str],
                restated: Sequence[str]) -> None:
    """Store what a fast rebuild changed: the edited documents' entries and hashes, and the
    stats of the files whose stats changed (`restated`: the edited documents, and seeds).

    A fast rebuild runs only when nothing else differs from the memo's inputs, so those
    stats, written over the blob, give the whole scan.
    """
    entries, shas, cards = memo.site.entries, memo.shas, memo.cards
    db.executemany("INSERT OR REPLACE INTO memo_entries VALUES (?, ?)",
                   ((key, pickle.dumps(entries[key], _PICKLE)) for key in edited))
    db.executemany("INSERT OR REPLACE INTO memo_hashes VALUES (?, ?, ?)",
                   ((key, shas[key], cards[key]) for key in edited))
    rows = {"scanned_ns": str(memo.scanned_ns).encode()}
    if _count(db, "memo_inputs") + len(restated) > INPUT_DELTAS:
        db.execute("DELETE FROM memo_inputs")
        rows["inputs"] = marshal.dumps(memo.inputs)
    else:
        db.executemany("INSERT OR REPLACE INTO memo_inputs VALUES (?, ?, ?)",
                       ((path, *memo.inputs[path]) for path in restated))
    db.executemany("INSERT OR REPLACE INTO memo VALUES (?, ?)", rows.items())


def _column(db: sqlite3.Connection, query: str, key: object) -> Any:
    """The first column of the row `query` selects for `key`; MissingRow (a KeyError) when
    there is none."""
    row = db.execute(query, (key,)).fetchone()
    if row is None:
        raise MissingRow(key)
    return row[0]


def _keys(db: sqlite3.Connection, table: str, column: str = "key") -> Iterator[str]:
    return (str(key) for (key,) in db.execute(f"SELECT {column} FROM {table}"))


def _count(db: sqlite3.Connection, table: str) -> int:
    return int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


class StoredRows(Mapping[str, T]):
    """One column of a memo table keyed by document (its site entry, source hash or card
    hash), read and decoded on first use; `updated` overlays the edited documents' values."""

    def __init__(self, db: sqlite3.Connection, table: str, column: str,
                 decode: Callable[[Any], T], read: dict[str, T] | None = None) -> None:
        self._db, self._table, self._field, self._decode = db, table, column, decode
        self._query = f"SELECT {column} FROM {table} WHERE key = ?"
        self._read: dict[str, T] = read or {}

    def __getitem__(self, key: str) -> T:
        value = self._read.get(key)
        if value is None:
            value = self._read[key] = self._decode(_column(self._db, self._query, key))
        return value

    def __iter__(self) -> Iterator[str]:
        # Whole-site walks run on a stored memo only when memo_rows copies it.
        return _keys(self._db, self._table)

    def __len__(self) -> int:
        return _count(self._db, self._table)

    def updated(self, values: dict[str, T]) -> StoredRows[T]:
        return StoredRows(self._db, self._table, self._field, self._decode,
                          {**self._read, **values})


class StoredJobs(Sequence[RenderJob]):
    """Planned jobs read on first use (a dev server editing one article reuses them)."""

    def __init__(self, db: sqlite3.Connection, count: int) -> None:
        self._db, self._count = db, count
        self._read: dict[int, RenderJob] = {}

    def __getitem__(self, position: int) -> RenderJob:  # type: ignore[override]
        if not 0 <= position < self._count:
            raise IndexError(position)
        job = self._read.get(position)
        if job is None:  # a job the count promises: MissingRow if the cache lost it
            blob = _column(self._db, "SELECT job FROM memo_jobs WHERE position = ?", position)
            job = self._read[position] = _job_from_row(blob)
        return job

    def __len__(self) -> int:
        return self._count


class StoredDependents(Mapping[str, list[int]]):
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __getitem__(self, key: str) -> list[int]:
        positions: list[int] = marshal.loads(
            _column(self._db, "SELECT positions FROM memo_dependents WHERE key = ?", key))
        return positions

    def __iter__(self) -> Iterator[str]:
        return _keys(self._db, "memo_dependents")

    def __len__(self) -> int:
        return _count(self._db, "memo_dependents")


class StoredOutputs(MutableMapping[str, str]):
    """Output fingerprints read row by row (a fast rebuild needs a few dozen of 17,000)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._changed: dict[str, str] = {}

    def __getitem__(self, path: str) -> str:
        if path in self._changed:
            return self._changed[path]
        return str(_column(self._db, "SELECT fingerprint FROM outputs WHERE path = ?", path))

    def __setitem__(self, path: str, fingerprint: str) -> None:
        self._changed[path] = fingerprint

    def __delitem__(self, path: str) -> None:
        raise TypeError("stored fingerprints are only replaced")

    def __iter__(self) -> Iterator[str]:
        return _keys(self._db, "outputs", "path")

    def __len__(self) -> int:
        return _count(self._db, "outputs")
