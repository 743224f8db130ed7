"""Faults: builds killed with SIGKILL, two builds at once, a full disk, a read-only output folder.

Whatever happens, public/ holds a complete site (the previous one or the new one; an incremental
build killed while moving files into place may mix the two, but every file is whole), the sources
are untouched, the next normal build succeeds and equals a clean build, and an error says what
went wrong and what to do, with exit code 1 and no traceback.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import FIXED_EPOCH, ROOT, run_cli
from sitefactory import corpus, write_project

from generator import cache as cache_module
from generator.build import Builder, BuildOptions

KILLS = 15
BUILD = ("build", "--no-search")  # Pagefind would triple each build here; it is not under test
SOURCES = ("site.toml", "content", "layouts", "seeds")
# What a build may leave in the project besides the sources and public/.
BOOKKEEPING = {".cache", ".newsgen.lock"}
Tree = dict[str, str]
State = dict[str, bytes | None]  # relative path -> bytes, or None for "absent"


def tree(folder: Path) -> Tree:
    """Every file (hidden ones too) under `folder` -> sha256 of its bytes."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def sources(root: Path) -> Tree:
    """sha256 of site.toml and of every file in content/, layouts/ and seeds/."""
    found = {"site.toml": hashlib.sha256((root / "site.toml").read_bytes()).hexdigest()}
    for name in SOURCES[1:]:
        found.update({f"{name}/{k}": v for k, v in tree(root / name).items()})
    return found


def switch(root: Path, state: State) -> None:
    for relative, data in state.items():
        path = root / relative
        if data is None:
            path.unlink(missing_ok=True)
        else:
            path.write_bytes(data)


def two_states(root: Path) -> tuple[State, State]:
    """(A, B) over the files that differ: B edits the base layout (every page changes), edits one
    article, deletes another and adds a new one."""
    articles = sorted((root / "content" / "articles").glob("*.md"))
    base = root / "layouts" / "base.html"
    edited, deleted = articles[0], articles[len(articles) // 2]
    new = edited.with_name("zz-added-in-state-b.md")
    text = edited.read_text(encoding="utf-8")
    key = lambda p: p.relative_to(root).as_posix()  # noqa: E731
    a: State = {key(base): base.read_bytes(), key(edited): edited.read_bytes(),
                key(deleted): deleted.read_bytes(), key(new): None}
    b: State = {key(base): base.read_bytes().replace(b"</body>", b"<!-- state B -->\n</body>"),
                key(edited): (text + "\nA paragraph added in state B.\n").encode(),
                key(deleted): None,
                key(new): re.sub(r"(?m)^slug: .*$", "slug: zz-added-in-state-b",
                                 text.replace("title:", "title: Added", 1), count=1).encode()}
    assert b[key(base)] != a[key(base)]
    return a, b


def leftovers(root: Path) -> list[str]:
    """Names in the project folder that are neither sources, public/ nor the build's own files."""
    return sorted(p.name for p in root.iterdir()
                  if p.name not in {*SOURCES, "public", *BOOKKEEPING})


def group_alive(pgid: int) -> list[int]:
    """Live (non-zombie) processes of a process group, read from /proc."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            alive.append(int(stat.parent.name))
    return alive


def spawn_build(root: Path, *args: str, quiet: bool = False) -> subprocess.Popen[bytes]:
    """`newsgen build` in its own process group (its workers can be found and cleaned up)."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": FIXED_EPOCH}
    return subprocess.Popen([sys.executable, "-m", "generator", *BUILD, *args], cwd=root, env=env,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL if quiet else subprocess.PIPE,
                            start_new_session=True)


def assert_clear_failure(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert ": error: " in result.stderr and "  hint: " in result.stderr, result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


# --- SIGKILL at random points --------------------------------------------------------------------


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, State, State, Tree, Tree, float]:
    """A 300-article project built in state A, and reference builds of A and B."""
    base = tmp_path_factory.mktemp("kill")
    root = base / "site"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "corpus.py"), str(root), "300"],
                   check=True, capture_output=True)
    a, b = two_states(root)
    reference = base / "reference-b"
    shutil.copytree(root, reference)
    switch(reference, b)
    started = time.monotonic()
    result = run_cli(reference, *BUILD)
    duration = time.monotonic() - started  # only spreads the kill points over a build
    assert result.returncode == 0, result.stderr
    result = run_cli(root, *BUILD)
    assert result.returncode == 0, result.stderr
    return root, a, b, tree(root / "public"), tree(reference / "public"), duration


def outcome(public: Tree, previous: Tree, new: Tree) -> str:
    """'previous' or 'new' (a complete site), or 'mixed': an incremental build killed while
    moving its files into place, where every file is whole and from one of the two sites."""
    if public == previous:
        return "previous"
    if public == new:
        return "new"
    strays = {p for p, digest in public.items() if digest not in (previous.get(p), new.get(p))}
    assert not strays, f"files from neither site: {sorted(strays)[:5]}"
    missing = (previous.keys() & new.keys()) - public.keys()
    assert not missing, f"files both sites have are missing: {sorted(missing)[:5]}"
    return "mixed"


@pytest.mark.slow
def test_builds_killed_at_random_points_leave_a_complete_site(
        big: tuple[Path, State, State, Tree, Tree, float]) -> None:
    root, a, b, tree_a, tree_b, duration = big
    states = {"a": (a, tree_a), "b": (b, tree_b)}
    other = {"a": "b", "b": "a"}
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    # Stratified: one kill in each slice of a cold build's duration, in random order.
    delays = [duration * (i + rng.random()) / KILLS for i in range(KILLS)]
    rng.shuffle(delays)
    shown, seen = "a", []  # the site public/ holds: "a", "b" or "mixed"
    for number, delay in enumerate(delays, start=1):
        # Always build the site public/ does not show, so every build has work to do (a
        # layout edit: every page changes; an edited, a deleted and an added article).
        target = other[shown] if shown in other else rng.choice("ab")
        switch(root, states[target][0])
        process = spawn_build(root, quiet=True)
        try:
            time.sleep(delay)
            process.send_signal(signal.SIGKILL)  # the build process only, as the OOM killer does
            process.wait(timeout=60)
            # Its worker processes die with it: none is left writing or holding the build lock.
            for _ in range(100):
                if not group_alive(process.pid):
                    break
                time.sleep(0.1)
            assert group_alive(process.pid) == [], f"orphaned workers (seed {seed})"
        finally:
            if group_alive(process.pid):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=60)
        where = f"kill {number} after {delay:.2f}s (seed {seed}, outcomes so far {seen})"
        assert (root / "public" / "index.html").is_file(), where
        # Only two source states ever existed, so every file is one of theirs.
        got = outcome(tree(root / "public"), states[other[target]][1], states[target][1])
        if process.returncode == 0:
            assert got == "new", where
        seen.append(got)
        shown = {"previous": other[target], "new": target, "mixed": "mixed"}[got]
        if number % 5 == 0:  # the next normal build succeeds and equals a clean build
            result = run_cli(root, *BUILD, timeout=120)
            assert result.returncode == 0, f"{where}: {result.stderr}"
            assert tree(root / "public") == states[target][1], where
            assert leftovers(root) == [], where
            shown = target
    # Most kills land mid-build: the previous site stayed (an unfinished build never shows).
    assert "previous" in seen, seen


# --- two builds at once --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, State, State, Tree, Tree]:
    """A 12-article project built in state A, and clean reference trees of A and B."""
    base = tmp_path_factory.mktemp("small")
    root = write_project(base / "site", corpus(12))
    a, b = two_states(root)
    reference = base / "reference-b"
    shutil.copytree(root, reference)
    switch(reference, b)
    for folder in (root, reference):
        result = run_cli(folder, *BUILD)
        assert result.returncode == 0, result.stderr
    return root, a, b, tree(root / "public"), tree(reference / "public")


@pytest.fixture
def site(small: tuple[Path, State, State, Tree, Tree], tmp_path: Path) -> Path:
    return Path(shutil.copytree(small[0], tmp_path / "site", symlinks=True))


def blocked_on_lock(pid: int, lock: Path) -> bool:
    """True once `pid` has the lock file open and sleeps in the kernel's lock wait."""
    try:
        fds = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
        wchan = Path(f"/proc/{pid}/wchan").read_text()
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return str(lock) in fds and state == "S" and ("lock" in wchan or wchan in ("", "0"))


def test_a_second_build_waits_for_the_first(
        site: Path, small: tuple[Path, State, State, Tree, Tree]) -> None:
    import fcntl

    _, _, b, tree_a, tree_b = small
    lock = site / ".newsgen.lock"
    switch(site, b)
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # a build of this project is running
        process = spawn_build(site)
        try:
            for _ in range(300):
                if blocked_on_lock(process.pid, lock) or process.poll() is not None:
                    break
                time.sleep(0.1)
            assert process.poll() is None, "the build did not wait for the lock"
            assert blocked_on_lock(process.pid, lock)
            assert tree(site / "public") == tree_a  # nothing written while it waits
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert tree(site / "public") == tree_b


def test_two_builds_at_once_publish_one_complete_site(
        site: Path, small: tuple[Path, State, State, Tree, Tree]) -> None:
    _, _, b, _, tree_b = small
    switch(site, b)
    first, second = spawn_build(site), spawn_build(site, "--clean")
    for process in (first, second):
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
    assert tree(site / "public") == tree_b
    assert leftovers(site) == []


# --- a build killed between publishing and saving its cache (deterministic) ----------------------


class _Killed(BaseException):
    """Stands for SIGKILL at one exact point: nothing after it runs, no handler sees it."""


def test_clean_build_killed_before_saving_its_cache_does_not_mislead_the_next_one(
        site: Path, small: tuple[Path, State, State, Tree, Tree],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The cache still describes site A while public/ already holds B: the next build must not
    # trust the cache's record of what public/ holds.
    _, a, b, tree_a, tree_b = small
    monkeypatch.setenv("SOURCE_DATE_EPOCH", FIXED_EPOCH)
    switch(site, b)

    def killed(self: object, state: object, memo: object = None, jobs: int = 1) -> None:
        raise _Killed

    with monkeypatch.context() as patch:
        patch.setattr(cache_module.CacheStore, "save", killed)
        with pytest.raises(_Killed):
            Builder(site, BuildOptions(search=False, cache=False)).build()
    assert tree(site / "public") == tree_b
    switch(site, a)
    Builder(site, BuildOptions(search=False)).build()
    assert tree(site / "public") == tree_a


# --- full disk, read-only output -----------------------------------------------------------------


def can_mount() -> bool:
    return os.geteuid() == 0 and shutil.which("mount") is not None


@contextmanager
def small_disk(folder: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` mounted at `folder` for the duration (needs root)."""
    folder.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                   check=True, capture_output=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False, capture_output=True)


def fill(disk: Path, leave_kib: int) -> Path:
    stats = os.statvfs(disk)
    free_kib = stats.f_bavail * stats.f_frsize // 1024
    filler = disk / "filler"
    with open(filler, "wb") as handle:
        handle.write(b"\0" * max(0, (free_kib - leave_kib)) * 1024)
    return filler


@pytest.mark.parametrize("leave_kib", [0, 48, 160])
def test_a_full_disk_is_a_clear_error_and_the_site_survives(
        tmp_path: Path, small: tuple[Path, State, State, Tree, Tree], leave_kib: int) -> None:
    # Honest only with a real small file system: a tmpfs (root). Without the right to mount,
    # test_a_file_size_limit_... below covers the same paths with EFBIG.
    if not can_mount():
        pytest.skip("mounting a small tmpfs needs root; see the RLIMIT_FSIZE test")
    _, _, b, tree_a, tree_b = small
    with small_disk(tmp_path / "disk", "6m") as disk:
        root = Path(shutil.copytree(small[0], disk / "site", symlinks=True))
        before = tree(root / "public")
        assert before == tree_a
        switch(root, b)
        inputs = sources(root)
        filler = fill(disk, leave_kib)
        for args in ((), ("--clean",)):
            result = run_cli(root, *BUILD, *args)
            assert_clear_failure(result)
            assert "disk is full" in result.stderr, result.stderr
            assert tree(root / "public") == before
            assert sources(root) == inputs
        filler.unlink()
        result = run_cli(root, *BUILD)
        assert result.returncode == 0, result.stderr
        assert tree(root / "public") == tree_b
        assert leftovers(root) == []


def test_a_file_size_limit_is_a_clear_error_and_the_site_survives(
        site: Path, small: tuple[Path, State, State, Tree, Tree]) -> None:
    # RLIMIT_FSIZE makes writes past the limit fail with EFBIG, as a quota would, and needs no
    # privilege. A 100 kB summary makes the pages that show it bigger than the limit, while the
    # cache writes made before rendering (bodies, not summaries) stay small.
    _, a, b, tree_a, tree_b = small
    switch(site, b)
    article = site / next(k for k, v in a.items() if k.endswith(".md") and v and b.get(k))
    text = article.read_text(encoding="utf-8")
    article.write_text(re.sub(r"(?m)^summary: .*$", "summary: " + "Long " * 20_000, text,
                              count=1), encoding="utf-8")
    inputs = sources(site)
    limit = 64 * 1024

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = {**os.environ, "SOURCE_DATE_EPOCH": FIXED_EPOCH}
    for args in ((), ("--clean",)):
        result = subprocess.run([sys.executable, "-m", "generator", *BUILD, *args], cwd=site,
                                env=env, capture_output=True, text=True, timeout=120,
                                preexec_fn=limited, check=False)
        # Whichever write crosses the limit first fails: a page, or the build cache (bodies
        # are filed there while loading). Either way: a clear error and the site untouched.
        assert_clear_failure(result)
        assert ("cannot write output: File too large" in result.stderr
                and "ulimit -f" in result.stderr) or "cannot write the build cache" in result.stderr
        assert tree(site / "public") == tree_a
        assert sources(site) == inputs
    article.write_text(text, encoding="utf-8")
    result = run_cli(site, *BUILD)
    assert result.returncode == 0, result.stderr
    assert tree(site / "public") == tree_b


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make `path` (recursively) unwritable: chattr +i for root, whom modes do not stop."""
    if os.geteuid() == 0:
        frozen = subprocess.run(["chattr", "-R", "+i", str(path)], capture_output=True, text=True,
                                check=False)
        if frozen.returncode != 0:  # no chattr, or a file system without the attribute
            subprocess.run(["chattr", "-R", "-i", str(path)], capture_output=True, check=False)
            pytest.skip(f"root ignores file modes and chattr +i failed: {frozen.stderr.strip()}")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-R", "-i", str(path)], check=True, capture_output=True)
    else:
        modes = {p: p.stat().st_mode for p in [path, *path.rglob("*")]}
        for p in sorted(modes, reverse=True):
            p.chmod(modes[p] & ~0o222)
        try:
            yield
        finally:
            for p, mode in modes.items():
                p.chmod(mode)


@pytest.mark.parametrize(("frozen", "builds"), [
    ("public", [(), ("--clean",)]),
    # An incremental build fails part-way through moving files into place. (A clean build
    # replaces the whole folder, so a read-only subfolder does not stop it.)
    ("public/tags", [()]),
    (".", [(), ("--clean",)]),
], ids=["output", "output-subfolder", "whole-project"])
def test_a_read_only_output_is_a_clear_error_and_the_site_survives(
        site: Path, small: tuple[Path, State, State, Tree, Tree], frozen: str,
        builds: list[tuple[str, ...]]) -> None:
    _, _, b, tree_a, tree_b = small
    switch(site, b)
    inputs = sources(site)
    with read_only(site / frozen):
        for args in builds:
            result = run_cli(site, *BUILD, *args)
            assert_clear_failure(result)
            assert "read-only" in result.stderr or "permission" in result.stderr, result.stderr
            # Even when only a subfolder refused, files already moved into place went back.
            assert tree(site / "public") == tree_a
            assert sources(site) == inputs
    result = run_cli(site, *BUILD)
    assert result.returncode == 0, result.stderr
    assert tree(site / "public") == tree_b
    assert leftovers(site) == []


# --- a rebuild storm in the dev server -----------------------------------------------------------


def test_a_rebuild_storm_does_not_pile_up_builds_or_threads(site: Path) -> None:
    from generator.cli import Console
    from generator.serve import DevServer

    before = set(threading.enumerate())
    dev = DevServer(site, BuildOptions(search=False), Console(-1), port=0)
    dev.start()
    try:
        running = threading.active_count()
        first = dev.rebuilder.builds
        article = site / "content" / "articles" / "story-03.md"
        text = article.read_text(encoding="utf-8")
        saves = 300
        for number in range(1, saves + 1):  # ~300 saves in about a second
            article.write_text(text.replace("title: ", f"title: Save {number} of ", 1),
                               encoding="utf-8")
            time.sleep(1 / saves)
        settled = 0
        for _ in range(600):  # until nothing is pending for a few polls in a row
            settled = settled + 1 if not dev.rebuilder.pending() else 0
            if settled == 5:
                break
            time.sleep(0.1)
        assert settled == 5, "the server never settled after the storm"
        builds = dev.rebuilder.builds - first
        assert 1 <= builds <= saves // 10, builds  # batched, not one build per save
        assert threading.active_count() <= running + 2
        [page] = (site / "public").glob("*/*/story-03/index.html")
        assert f"Save {saves} of Story number 03" in page.read_text(encoding="utf-8")
    finally:
        dev.stop()
    assert [t.name for t in threading.enumerate() if t not in before and t.is_alive()] == []
