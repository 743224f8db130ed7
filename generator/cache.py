"""Build cache: what the previous build read and wrote, so the next build redoes only what changed.

Lives in `.cache/newsgen.sqlite` (safe to delete). One SQLite transaction per save, so a killed
build leaves the previous, consistent state. A build that starts without a usable cache writes
a new file beside it instead, without a journal, and renames it into place once saved
(cachefile.py).
The version key (cachekey.py) covers the generator (its version and a hash of its code), the
Markdown settings and Python; a corrupt or mismatched cache is discarded with a warning, never
trusted.
A cache that cannot be written (disk full, read-only) is a `CacheError`, never a traceback.
"""

from __future__ import annotations

import errno
import os
import pickle
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .cachefile import CacheFile, remove_database
from .cachekey import CACHE_VERSION, BuildState
from .errors import CacheError, Diagnostic, SourceLocation
from .model import Document
from .scan import trusted

if TYPE_CHECKING:  # memostore and incremental import this module
    from .incremental import Memo

CACHE_DIR = ".cache"


class MissingRow(KeyError):
    """A row the cache's other rows refer to is not there: the file was damaged."""


class CacheStore:
    """The SQLite file behind the cache: one state blob, plus rendered bodies by source hash."""

    def __init__(self, root: Path) -> None:
        self.path = root / CACHE_DIR / "newsgen.sqlite"
        self.warnings: list[Diagnostic] = []
        self._db: sqlite3.Connection | None = None
        self._file = CacheFile(self.path)  # which file; a fresh one replacing it (cachefile.py)

    def _connect(self, timeout: float = 30) -> sqlite3.Connection:
        if self._db is None:
            # A file that is not a database raises sqlite3.DatabaseError: `_meta` discards it.
            with self._failing("open"):
                self.path.parent.mkdir(parents=True, exist_ok=True)
                # check_same_thread=False: the dev server builds in a worker thread and saves
                # on exit from the main thread; builds are serialised, never concurrent.
                self._db = sqlite3.connect(self._file.target, timeout=timeout,
                                           check_same_thread=False)
                self._file.opened()
                if self._file.fresh is None:
                    self._db.execute("PRAGMA journal_mode=WAL")
                    self._db.execute("PRAGMA synchronous=NORMAL")
                else:  # no reader sees this file before it is complete (cachefile.py)
                    self._db.execute("PRAGMA journal_mode=OFF")
                    self._db.execute("PRAGMA synchronous=OFF")
                self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB)")
                self._db.execute("CREATE TABLE IF NOT EXISTS html (sha TEXT PRIMARY KEY, html TEXT)")
                # Output fingerprints are rows, not part of the pickled state: a fast rebuild
                # (memostore.py) updates the few it re-rendered.
                self._db.execute("CREATE TABLE IF NOT EXISTS outputs "
                                 "(path TEXT PRIMARY KEY, fingerprint TEXT) WITHOUT ROWID")
                from . import memostore

                for statement in memostore.SCHEMA:
                    self._db.execute(statement)
        return self._db

    @contextmanager
    def _failing(self, action: str, corrupt_too: bool = False) -> Iterator[None]:
        """Turn what the disk does to SQLite (full, read-only, locked) into a `CacheError`."""
        caught = (OSError, sqlite3.Error if corrupt_too else sqlite3.OperationalError)
        try:
            yield
        except caught as err:
            full = ("full" in str(err) or _no_space(self.path.parent)
                    or (isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT)))
            hint = ("the disk is full: free some space and build again" if full else
                    f"check the free space and permissions of {CACHE_DIR}/")
            raise CacheError(f"cannot {action} the build cache: {err}", SourceLocation(self.path),
                             hint=f"{hint} (deleting {CACHE_DIR}/ is always safe)") from err

    def _meta(self) -> dict[str, bytes] | None:
        """The meta rows, or None when there is no usable cache (discarding a bad one)."""
        if not self.path.exists():
            return None
        try:
            with self._failing("read"):
                db = self._connect()
                # Not the pickled state (megabytes): load() reads it when it is wanted.
                rows = {str(k): bytes(v) for k, v in
                        db.execute("SELECT key, value FROM meta WHERE key != 'state'")}
        except sqlite3.DatabaseError as err:  # not OperationalError (full, locked): CacheError
            self.discard(f"the build cache is unreadable ({err}); rebuilding it")
            return None
        if rows.get("version") != CACHE_VERSION.encode():
            if rows:
                self.discard("the cache was written by another version of newsgen; rebuilding it")
            return None
        return rows

    def up_to_date(self, input_signature: str, newest_mtime: int, now: datetime) -> bool:
        """True when the last build saw exactly these inputs and no scheduled change is due.

        Reads a few small rows, not the pickled state: this is the whole no-change build.
        """
        rows = self._meta()
        if not rows or rows.get("signature") != input_signature.encode():
            return False
        if not trusted((0, newest_mtime), int(rows.get("scanned_ns", b"0"))):
            return False
        due = rows.get("next_event", b"").decode()
        return not due or now < datetime.fromisoformat(due)

    def scanned_ns(self) -> int:
        """When the last build that saved its state scanned the sources (0: none known)."""
        if not self.path.exists():
            return 0
        try:
            with self._failing("read"):
                row = self._connect().execute(
                    "SELECT value FROM meta WHERE key = 'scanned_ns'").fetchone()
            return int(bytes(row[0])) if row else 0
        except (sqlite3.DatabaseError, ValueError):  # a bad cache: the build discards it later
            return 0

    def seed_records(self) -> dict[str, tuple[int, int, str]] | None:
        rows = self._meta()
        if not rows or "seeds" not in rows:
            return None
        try:
            records = pickle.loads(rows["seeds"])
        except (pickle.UnpicklingError, EOFError, TypeError, ValueError):
            return None
        return records if isinstance(records, dict) else None

    def load(self) -> BuildState | None:
        """The saved state, or None (first build, version change, or a corrupt file)."""
        rows = self._meta()
        if not rows:
            return None
        with self._failing("read", corrupt_too=True):
            row = self._connect().execute("SELECT value FROM meta WHERE key = 'state'").fetchone()
        if row is None:
            return None
        try:
            state = pickle.loads(row[0])
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError,
                ValueError) as err:
            self.discard(f"the build cache is unreadable ({err}); rebuilding it")
            return None
        if not isinstance(state, BuildState):
            return None
        if rows.get("outputs_valid") == b"1":
            with self._failing("read", corrupt_too=True):
                state.outputs = dict(self._connect().execute("SELECT path, fingerprint FROM outputs"))
        else:
            # A build was interrupted while writing in place: no output fingerprint is trusted.
            state.outputs = {}
        return state

    def load_memo(self) -> Memo | None:
        """The last build's memo for a fast rebuild (memostore.py), or None when there is none
        or the output folder may not match it (an interrupted build)."""
        rows = self._meta()
        if not rows or rows.get("outputs_valid") != b"1":
            return None
        from . import memostore

        with self._failing("read", corrupt_too=True):
            db = self._connect()
            try:
                return memostore.load_memo(db, memostore.StoredOutputs(db))
            except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError,
                    ValueError, KeyError) as err:
                self.discard(f"the build cache is unreadable ({err}); rebuilding it")
                return None

    def save_fast(self, memo: Memo, edited: Sequence[str], restated: Sequence[str],
                  outputs: dict[str, str], input_signature: str,
                  seeds: dict[str, tuple[int, int, str]] | None) -> None:
        """After a fast rebuild: the edited entries, the files with new stats (`restated`),
        the re-rendered fingerprints and the new signature, in one transaction. The pickled
        state is left as it is: its document rows are re-checked against the files anyway,
        and fingerprints live in their own table."""
        # The scan time goes with the signature: up_to_date trusts the one only with the other
        # (without it, every unchanged build after a CLI edit re-checked its edited files).
        rows = {"signature": input_signature.encode(), "outputs_valid": b"1",
                "scanned_ns": str(memo.scanned_ns).encode()}
        if seeds is not None:
            rows["seeds"] = pickle.dumps(seeds, protocol=pickle.HIGHEST_PROTOCOL)
        from . import memostore

        with self._failing("write", corrupt_too=True):
            db = self._connect()
            with db:
                memostore.update_memo(db, memo, edited, restated)
                db.executemany("INSERT OR REPLACE INTO outputs VALUES (?, ?)", outputs.items())
                db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", rows.items())
            self._file.remove_abandoned()

    def discard(self, message: str) -> None:
        """Delete the cache, with a warning: it cannot be trusted (the build then redoes it)."""
        self.warnings.append(Diagnostic("warning", message, SourceLocation(self.path),
                                        f"deleting {CACHE_DIR}/ is always safe"))
        self.close()
        remove_database(self.path)

    def begin_fresh(self) -> None:
        """Write the cache from nothing into a file of its own, which save() renames over the
        cache (for a build that found no usable cache: cachefile.py)."""
        self.close()
        with self._failing("open"):
            self._file.begin_fresh()

    def replaced(self) -> bool:
        """True when another process's build from nothing has replaced the cache file since
        this store opened or wrote it. The connection is then closed (writes through it would
        go to the deleted file) and the caller must forget what it read. Called by a
        long-lived builder (the dev server) under the build lock."""
        if not self._file.replaced():
            return False
        self.close()
        return True

    def invalidate_outputs(self) -> None:
        """Called before writing into the live output folder (see `load`)."""
        if self._file.fresh is not None:
            # The old cache describes the output about to be replaced, and the fresh one
            # will replace it: delete it now, so a build killed before save() cannot trust it.
            with self._failing("write"):
                self._file.remove_old()
            return
        with self._failing("write", corrupt_too=True):
            db = self._connect()
            with db:
                db.execute("INSERT OR REPLACE INTO meta VALUES ('outputs_valid', ?)", (b"0",))
                db.execute("DELETE FROM meta WHERE key = 'signature'")

    def save(self, state: BuildState, memo: Memo | None = None, jobs: int = 1) -> None:
        """Replace the saved state (and the fast-rebuild memo: without one, none is kept).

        With `jobs` > 1, a fresh cache's largest memo tables are written by a forked process
        meanwhile, in a transaction of its own (the rename makes the two one): the save is
        serial work at the end of a cold build, when the other cores are idle.
        """
        try:
            with self._failing("write", corrupt_too=True):
                if self._file.fresh is not None and memo is not None and jobs > 1:
                    self._save_in_two_processes(state, memo)
                else:
                    self._save_rows(state, memo)
                if self._file.fresh is not None:
                    self._put_fresh_in_place(self._connect())
                else:
                    self._file.remove_abandoned()
        except BaseException:
            if self._file.fresh is not None:
                self.close()  # a fresh file half saved must not be read as the cache
            raise

    def _save_in_two_processes(self, state: BuildState, memo: Memo) -> None:
        from concurrent.futures.process import BrokenProcessPool

        from .workers import fork_map

        def part(start: int, stop: int) -> None:
            if start == 0:
                self._save_rows(state, memo, bulk=False)
            else:
                self._save_bulk_rows_in_fork(memo)

        try:
            fork_map(part, 2, 2, minimum=0)
        except BrokenProcessPool as err:  # the writer was killed (out of memory, say)
            raise CacheError(f"cannot write the build cache: its writer process died ({err})",
                             SourceLocation(self.path),
                             hint=f"build again (deleting {CACHE_DIR}/ is always safe)") from err

    def _save_bulk_rows_in_fork(self, memo: Memo) -> None:
        from . import memostore

        self.after_fork()
        # It may wait for the parent's transaction, however long the site makes that.
        db = self._connect(timeout=3600)
        memostore.save_bulk_rows(db, memo)
        self.close()

    def _save_rows(self, state: BuildState, memo: Memo | None, bulk: bool = True) -> None:
        outputs, state.outputs = state.outputs, {}
        try:
            pickled = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
        finally:
            state.outputs = outputs
        rows = {
            "version": CACHE_VERSION.encode(),
            "signature": state.signature.encode(),
            "next_event": state.next_event.isoformat().encode() if state.next_event else b"",
            "scanned_ns": str(state.scanned_ns).encode(),
            "outputs_valid": b"1",
            "seeds": pickle.dumps(state.seeds, protocol=pickle.HIGHEST_PROTOCOL),
            "state": pickled,
        }
        from . import memostore

        tables = memostore.memo_rows(memo, bulk) if memo is not None else None
        db = self._connect()
        with db:
            db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", rows.items())
            db.execute("DELETE FROM outputs")
            # In key order: SQLite appends to its B-tree instead of splitting pages all over
            # it (4x faster for the 170,000 outputs of a 100,000-article site).
            db.executemany("INSERT INTO outputs VALUES (?, ?)", sorted(state.outputs.items()))
            if tables is not None:
                memostore.write_memo_rows(db, tables)
            else:
                db.execute("DELETE FROM memo")

    def _put_fresh_in_place(self, db: sqlite3.Connection) -> None:
        # In write-ahead-log mode already, so the next build's first read need not convert it
        # (if this fails, that read does).
        with suppress(sqlite3.OperationalError):
            db.execute("PRAGMA journal_mode=WAL")
        self._db = None
        db.close()
        self._file.put_in_place()

    def put_html(self, items: Iterable[tuple[str, str]]) -> None:
        with self._failing("write", corrupt_too=True):
            db = self._connect()
            with db:
                db.executemany("INSERT OR REPLACE INTO html VALUES (?, ?)", items)

    def html(self, sha: str) -> str | None:
        with self._failing("read", corrupt_too=True):
            row = self._connect().execute("SELECT html FROM html WHERE sha = ?", (sha,)).fetchone()
        return None if row is None else str(row[0])

    def prune_html(self, keep: set[str]) -> None:
        with self._failing("write", corrupt_too=True):
            db = self._connect()
            stale = [(sha,) for (sha,) in db.execute("SELECT sha FROM html") if sha not in keep]
            if stale:
                with db:
                    db.executemany("DELETE FROM html WHERE sha = ?", stale)

    def prepare(self) -> None:
        """Create (or open) the cache file now: forked workers about to write to it must find
        it ready, since two processes creating it at once collide ("database is locked")."""
        self._connect()

    def after_fork(self) -> None:
        # A forked child must not use (or close) its parent's SQLite connection: it opens its
        # own. The inherited one is kept referenced, so it is never closed here either.
        if self._db is not None:
            _INHERITED_CONNECTIONS.append(self._db)
        self._db = None

    def body(self, doc: Document) -> str:
        """A document's rendered HTML: in memory when loaded this build, else from the cache."""
        if doc.html:
            return doc.html
        html = self.html(doc.sha256)
        if html is None:  # the cache lost it (deleted mid-session): render it again from disk
            root = self.path.parent.parent
            text = (root / doc.path).read_text("utf-8-sig")
            import frontmatter  # only here: rarely needed, and slow to import

            from .markup import render_markdown

            html = render_markdown(frontmatter.loads(text).content)
            self.put_html([(doc.sha256, html)])
        return html

    def close(self) -> None:
        """Close the connection; a fresh cache that was never saved is deleted (incomplete)."""
        if self._db is not None:
            self._db.close()
            self._db = None
        self._file.drop_fresh()


_INHERITED_CONNECTIONS: list[sqlite3.Connection] = []


def _no_space(folder: Path) -> bool:
    """SQLite reports a full disk as a mere "disk I/O error" when it cannot grow its files."""
    for path in (folder, folder.parent):
        try:
            stats = os.statvfs(path)
        except OSError:
            continue
        return stats.f_bavail * stats.f_frsize < 1 << 20
    return False
