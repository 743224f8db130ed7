"""The build daemon (generator/daemon.py), through the real command: `newsgen daemon start`,
then `newsgen build` as a user types it, compared with builds made without a daemon."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import FIXED_EPOCH, age, copy_project, run_cli

from generator import daemon, daemonserver

pytestmark = pytest.mark.xdist_group("daemon")  # each test starts processes; keep them apart

# Loaded by every Python started with this folder on PYTHONPATH (the daemon included): makes a
# build wait while a `hold` file exists in the project, so a test can interrupt one.
SITECUSTOMIZE = '''
import os
import time
from pathlib import Path

from generator import build as _module

_real = _module.Builder.build


def _build(self, changed=None):
    hold = Path(self.root) / "hold"
    if hold.exists():
        (Path(self.root) / "holding").write_text(str(os.getpid()))
        while hold.exists():
            time.sleep(0.05)
    return _real(self, changed)


_module.Builder.build = _build
'''


def _files(public: Path) -> dict[str, bytes]:
    return {p.relative_to(public).as_posix(): p.read_bytes()
            for p in sorted(public.rglob("*")) if p.is_file()}


def _status(root: Path) -> dict[str, object] | None:
    return daemon.ask(root, "status")


def _wait_for(condition: Callable[[], object], seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture
def hooks(tmp_path: Path) -> dict[str, str]:
    folder = tmp_path / "hooks"
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    return {"PYTHONPATH": str(folder)}


@pytest.fixture
def started(tmp_path: Path, hooks: dict[str, str]) -> Iterator[tuple[Path, int]]:
    """A project with a daemon running for it (stopped afterwards); (root, daemon pid)."""
    root = copy_project(tmp_path / "site")
    age(root)
    started = run_cli(root, "daemon", "start", "--idle", "120", env=hooks)
    assert started.returncode == 0, started.stderr
    assert "build daemon started" in started.stdout
    status = _status(root)
    assert status is not None
    pid = int(str(status["pid"]))
    try:
        yield root, pid
    finally:
        run_cli(root, "daemon", "stop")
        assert _wait_for(lambda: _gone(pid)), "the daemon must stop when asked"


def test_builds_through_the_daemon_equal_builds_without_it(
        started: tuple[Path, int], tmp_path: Path, hooks: dict[str, str]) -> None:
    root, _pid = started
    alone = copy_project(tmp_path / "alone")
    age(alone)
    article = next((root / "content" / "articles").glob("*.md"))

    def both(*args: str) -> None:
        for project in (root, alone):
            done = run_cli(project, "build", "--no-search", *args, env=hooks)
            assert done.returncode == 0, done.stderr
        assert _files(root / "public") == _files(alone / "public")

    both()
    both()  # up to date
    for project in (root, alone):  # an edit, a new article, a removed page
        edited = project / "content" / "articles" / article.name
        edited.write_text(edited.read_text("utf-8") + "\nA late paragraph.\n", "utf-8")
        (project / "content" / "articles" / "second.md").write_text(
            "---\ntitle: A second story\ndate: 2026-11-20T10:00:00Z\ntags: [Harbour]\n---\n"
            "Body text.\n", "utf-8")
    both()
    for project in (root, alone):
        (project / "content" / "articles" / "second.md").unlink()
    both()
    status = _status(root)
    assert status is not None and status["builds"] == 4  # every build went through it
    page = next((root / "public").glob(f"*/*/{article.stem}/index.html"))
    assert "A late paragraph." in page.read_text("utf-8")


def test_the_callers_environment_folder_and_output_reach_the_build(
        started: tuple[Path, int], hooks: dict[str, str]) -> None:
    root, _pid = started
    # SOURCE_DATE_EPOCH is the caller's: the build's clock (feeds carry it).
    later = str(int(FIXED_EPOCH) + 86400 * 3)
    done = run_cli(root, "build", "--no-search", "-v", env={**hooks, "SOURCE_DATE_EPOCH": later})
    assert done.returncode == 0, done.stderr
    assert "built by the build daemon" in done.stderr
    assert "site: " in done.stdout and "  render+write" in done.stdout
    # --root relative to the caller's folder, not the daemon's.
    again = subprocess.run([sys.executable, "-m", "generator", "--root", root.name, "build",
                            "--no-search"], cwd=root.parent, capture_output=True, text=True,
                           env={**os.environ, **hooks, "SOURCE_DATE_EPOCH": later},
                           timeout=120, check=False)
    assert again.returncode == 0, again.stderr
    assert "up to date" in again.stdout
    status = _status(root)
    assert status is not None and status["builds"] == 2


def test_an_error_reaches_the_caller_with_its_exit_code_and_the_site_is_kept(
        started: tuple[Path, int], hooks: dict[str, str]) -> None:
    root, _pid = started
    assert run_cli(root, "build", "--no-search", env=hooks).returncode == 0
    before = _files(root / "public")
    broken = root / "content" / "articles" / "broken.md"
    broken.write_text("---\ntitle: [unclosed\n---\nbody\n", "utf-8")
    failed = run_cli(root, "build", "--no-search", env=hooks)
    assert failed.returncode == 1
    assert "broken.md:3:1: error" in failed.stderr and "build failed" in failed.stderr
    assert _files(root / "public") == before
    usage = run_cli(root, "build", "--jobs", "0", env=hooks)
    assert usage.returncode == 2  # a usage error, from argparse


def test_ctrl_c_stops_the_build_in_the_daemon(started: tuple[Path, int],
                                              hooks: dict[str, str]) -> None:
    root, _pid = started
    client, worker = _held_build(root, hooks)
    try:
        assert worker != client.pid  # the build runs in the daemon's child, not the client
        client.send_signal(signal.SIGINT)
        _out, err = client.communicate(timeout=30)
    finally:
        (root / "hold").unlink(missing_ok=True)
        if client.poll() is None:
            client.kill()
    assert client.returncode == 130
    assert "interrupted" in err
    assert _wait_for(lambda: _gone(worker))
    assert not (root / "public").exists()  # nothing was published


def test_the_daemon_stops_when_its_code_changes_and_the_build_runs_here(
        started: tuple[Path, int], hooks: dict[str, str]) -> None:
    root, pid = started
    hook = Path(hooks["PYTHONPATH"]) / "sitecustomize.py"
    hook.write_text(hook.read_text("utf-8") + "\n# upgraded\n", "utf-8")  # a module it runs
    done = run_cli(root, "build", "--no-search", env=hooks)
    assert done.returncode == 0, done.stderr
    assert "sitecustomize.py changed since it started" in done.stderr
    assert "site: " in done.stdout  # built here instead
    assert _wait_for(lambda: _gone(pid))
    assert _status(root) is None and not daemon.socket_path(root).exists()


def test_the_daemon_stops_when_idle_or_when_its_cache_is_deleted(
        tmp_path: Path, hooks: dict[str, str]) -> None:
    root = copy_project(tmp_path / "site")
    assert run_cli(root, "daemon", "start", "--idle", "3", env=hooks).returncode == 0
    status = _status(root)
    assert status is not None
    assert _status(root) is not None  # asking is no build: it does not keep the daemon up
    assert _wait_for(lambda: _gone(int(str(status["pid"])))), "idle for 3 s: it must stop"
    assert "no build for 3 s" in (root / ".cache" / "daemon.log").read_text("utf-8")
    assert run_cli(root, "daemon", "status").returncode == 1

    assert run_cli(root, "daemon", "start", env=hooks).returncode == 0
    status = _status(root)
    assert status is not None
    again = run_cli(root, "daemon", "start", env=hooks)
    assert again.returncode == 0 and "build daemon for" in again.stdout  # one per project
    import shutil

    shutil.rmtree(root / ".cache")  # "deleting .cache/ is always safe"
    assert _wait_for(lambda: _gone(int(str(status["pid"]))))
    done = run_cli(root, "build", "--no-search", env=hooks)
    assert done.returncode == 0, done.stderr


def test_a_build_without_a_daemon_or_with_closed_output_is_local(
        started: tuple[Path, int], hooks: dict[str, str]) -> None:
    root, _pid = started
    assert run_cli(root, "build", "--no-search", "--no-daemon", env=hooks).returncode == 0
    closed = subprocess.run(f"{sys.executable} -m generator build --no-search >&- 2>&-",
                            shell=True, cwd=root, env={**os.environ, **hooks}, timeout=120,
                            check=False)
    assert closed.returncode == 0
    status = _status(root)
    assert status is not None and status["builds"] == 0


def test_a_stale_socket_file_is_ignored(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "site")
    (root / ".cache").mkdir()
    daemon.socket_path(root).write_text("not a socket")
    assert daemon.ask(root, "status") is None
    done = run_cli(root, "build", "--no-search")
    assert done.returncode == 0, done.stderr


def test_changed_module_names_the_first_changed_file(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("x = 1\n")
    stat = module.stat()
    stamps = {str(module): (stat.st_mtime_ns, stat.st_size)}
    assert daemonserver.changed_module(stamps) is None
    module.write_text("x = 22\n")
    assert daemonserver.changed_module(stamps) == str(module)
    module.unlink()
    assert daemonserver.changed_module(stamps) == str(module)


def _held_build(root: Path, hooks: dict[str, str], ignore_hangup: bool = False
                ) -> tuple[subprocess.Popen[str], int]:
    """A `newsgen build` whose build (in the daemon's worker) waits at the `hold` file."""
    (root / "hold").write_text("")

    def like_nohup() -> None:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

    client = subprocess.Popen([sys.executable, "-m", "generator", "build", "--no-search"],
                              cwd=root, env={**os.environ, **hooks}, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True,
                              preexec_fn=like_nohup if ignore_hangup else None)
    assert _wait_for(lambda: (root / "holding").exists()), "the build never started"
    return client, int((root / "holding").read_text())


def test_a_killed_caller_stops_its_build_in_the_daemon(started: tuple[Path, int],
                                                      hooks: dict[str, str]) -> None:
    root, _pid = started
    client, worker = _held_build(root, hooks)
    try:
        client.kill()  # SIGKILL: nothing of the client's own runs
        client.communicate(timeout=30)
        # The worker learns of the hang-up at once, and stops as on Ctrl-C, still holding.
        assert _wait_for(lambda: _gone(worker)), "the worker must not outlive its caller"
    finally:
        (root / "hold").unlink(missing_ok=True)
    assert not (root / "public").exists()


def test_sigterm_ends_the_caller_as_it_would_a_local_build(started: tuple[Path, int],
                                                          hooks: dict[str, str]) -> None:
    root, _pid = started
    client, worker = _held_build(root, hooks)
    try:
        client.terminate()
        client.communicate(timeout=30)
    finally:
        (root / "hold").unlink(missing_ok=True)
    assert client.returncode == -signal.SIGTERM  # killed by it, as a local build would be
    assert _wait_for(lambda: _gone(worker))


def test_another_installation_is_not_served(started: tuple[Path, int]) -> None:
    import json
    import socket

    root, _pid = started
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as sock:
        sock.connect(str(daemon.socket_path(root)))
        request = {"kind": "build", "argv": ["build"], "cwd": str(root), "env": {}, "umask": 18,
                   "identity": ["0.0.1", "/elsewhere/generator", sys.version]}
        socket.send_fds(sock, [json.dumps(request).encode()], [0, 1, 2])
        reply = json.loads(sock.recv(1 << 16))
    assert "other" in reply
    status = _status(root)
    assert status is not None and status["builds"] == 0  # still running, nothing built


def test_a_build_from_a_deleted_folder_runs_here(started: tuple[Path, int], tmp_path: Path,
                                                hooks: dict[str, str]) -> None:
    root, _pid = started
    gone = tmp_path / "gone"
    gone.mkdir()
    done = subprocess.run(f'cd {gone} && rmdir {gone} && {sys.executable} -m generator '
                          f'--root {root} build --no-search', shell=True, capture_output=True,
                          text=True, env={**os.environ, **hooks}, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    status = _status(root)
    assert status is not None and status["builds"] == 0


def test_starting_twice_at_once_leaves_one_daemon_and_keeps_no_descriptor_of_ours(
        tmp_path: Path, hooks: dict[str, str]) -> None:
    root = copy_project(tmp_path / "site")
    read_end, write_end = os.pipe()
    command = [sys.executable, "-m", "generator", "daemon", "start", "--idle", "60"]
    try:
        starts = [subprocess.Popen(command, cwd=root, env={**os.environ, **hooks},
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   pass_fds=[write_end]) for _ in range(2)]
        outputs = [start.communicate(timeout=60) for start in starts]
        os.close(write_end)
        write_end = -1
        assert [start.returncode for start in starts] == [0, 0], outputs
        status = _status(root)
        assert status is not None
        # Our pipe's write end reached both `start` commands: had the daemon kept it, there
        # would be no end of file to read.
        import select

        assert select.select([read_end], [], [], 10)[0], "the daemon kept our pipe open"
        assert os.read(read_end, 1) == b""
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)
        run_cli(root, "daemon", "stop")
    log = (root / ".cache" / "daemon.log").read_text("utf-8")
    assert f"pid {status['pid']}, listening" in log


def test_a_signal_the_caller_ignores_is_ignored_by_its_build(started: tuple[Path, int],
                                                            hooks: dict[str, str]) -> None:
    root, _pid = started
    client, worker = _held_build(root, hooks, ignore_hangup=True)  # as under `nohup`
    try:
        client.send_signal(signal.SIGHUP)
        os.kill(worker, signal.SIGHUP)  # as a hang-up of the terminal would send to both
        os.kill(worker, signal.SIGIO)  # and a stray SIGIO is no hang-up of the caller
        time.sleep(0.5)
        assert client.poll() is None and not _gone(worker)
    finally:
        (root / "hold").unlink(missing_ok=True)
    _out, err = client.communicate(timeout=120)
    assert client.returncode == 0, err
    assert (root / "public" / "index.html").exists()


def test_ctrl_c_before_the_daemon_answers_gives_up_the_build(started: tuple[Path, int],
                                                            hooks: dict[str, str]) -> None:
    root, pid = started
    os.kill(pid, signal.SIGSTOP)  # a daemon busy elsewhere: the request waits in its queue
    try:
        client = subprocess.Popen([sys.executable, "-m", "generator", "build", "--no-search"],
                                  cwd=root, env={**os.environ, **hooks},
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)  # connected and sent: waiting for the first reply
        client.send_signal(signal.SIGINT)
        assert client.wait(timeout=30) == 130  # at once, though the daemon has not answered
    finally:
        os.kill(pid, signal.SIGCONT)
    # Its output pipes close once the daemon lets go of the descriptors it was sent.
    _out, err = client.communicate(timeout=30)
    assert "interrupted" in err
    # The daemon then takes the request up; its worker finds the caller gone and stops.
    assert _wait_for(lambda: (_status(root) or {}).get("builds") is not None)
    time.sleep(1)
    assert not (root / "public").exists()


def test_no_daemon_starts_outside_a_project_or_with_a_broken_site_toml(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    refused = run_cli(empty, "daemon", "start")
    assert refused.returncode == 1
    assert "site.toml: error: site.toml not found" in refused.stderr and "hint:" in refused.stderr
    assert list(empty.iterdir()) == []  # no .cache/ left behind
    root = copy_project(tmp_path / "site")
    config = root / "site.toml"
    config.write_text(config.read_text("utf-8") + "\n[broken\n", "utf-8")
    before = config.read_bytes()
    broken = run_cli(root, "daemon", "start")
    assert broken.returncode == 1 and "site.toml:" in broken.stderr and "hint:" in broken.stderr
    assert _status(root) is None and not (root / ".cache").exists()
    assert config.read_bytes() == before


# --- a daemon started by a build (NEWSGEN_DAEMON=auto, the default off CI) -------------------

AUTO = {"NEWSGEN_DAEMON": "auto", "CI": ""}  # conftest sets "manual" for every other test


def test_a_local_build_starts_a_daemon_that_serves_the_next_build(
        tmp_path: Path, hooks: dict[str, str]) -> None:
    root = copy_project(tmp_path / "site")
    alone = copy_project(tmp_path / "alone")
    first = run_cli(root, "build", "--no-search", env={**hooks, **AUTO})
    assert first.returncode == 0, first.stderr
    assert "starting a build daemon (pid " in first.stdout
    pid = int(first.stdout.split("starting a build daemon (pid ", 1)[1].split(")", 1)[0])
    try:
        assert _wait_for(lambda: _status(root) is not None), "the daemon must come up"
        status = _status(root)
        assert status is not None and status["pid"] == pid
        article = next((root / "content" / "articles").glob("*.md"))
        for project in (root, alone):  # the same edit, then a build with and without it
            edited = project / "content" / "articles" / article.name
            edited.write_text(edited.read_text("utf-8") + "\nAn added line.\n", "utf-8")
        second = run_cli(root, "build", "--no-search", "-v", env={**hooks, **AUTO})
        assert second.returncode == 0, second.stderr
        assert "built by the build daemon" in second.stderr
        assert "starting a build daemon" not in second.stdout  # one runs: none is started
        assert _status(root) is not None and _status(root)["builds"] == 1  # type: ignore[index]
        assert run_cli(alone, "build", "--no-search", env=hooks).returncode == 0
        assert _files(root / "public") == _files(alone / "public")
    finally:
        run_cli(root, "daemon", "stop")
        assert _wait_for(lambda: _gone(pid)), "the daemon must stop when asked"


def test_daemon_stop_right_after_the_build_that_started_one_stops_it(
        tmp_path: Path, hooks: dict[str, str]) -> None:
    """`newsgen build && newsgen daemon stop`: the daemon is still importing when `stop` runs,
    so `stop` waits for it to listen instead of reporting that none runs."""
    root = copy_project(tmp_path / "site")
    first = run_cli(root, "build", "--no-search", env={**hooks, **AUTO})
    assert first.returncode == 0, first.stderr
    pid = int(first.stdout.split("starting a build daemon (pid ", 1)[1].split(")", 1)[0])
    try:
        stopped = run_cli(root, "daemon", "stop")
        assert stopped.returncode == 0, stopped.stderr
        assert f"build daemon stopped (pid {pid})" in stopped.stdout
        assert _wait_for(lambda: _gone(pid)), "the daemon must stop when asked"
        assert not (root / ".cache" / daemon.STARTING_NAME).exists()
        assert "no build daemon runs" in run_cli(root, "daemon", "status").stdout
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)


def test_a_starting_marker_names_only_a_live_daemon_of_this_project(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "site")
    (root / ".cache").mkdir()
    marker = root / ".cache" / daemon.STARTING_NAME
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        for pid in (os.getpid(), sleeper.pid, 0, 2**22 + 1):  # alive but no daemon; no process
            marker.write_text(str(pid), "ascii")
            assert daemon.starting(root) == 0
            assert daemon.ask(root, "stop") is None  # nothing to wait for
        marker.write_text("garbage", "ascii")
        assert daemon.starting(root) == 0
        daemon.clear_starting(root, 12345)  # names no live daemon: removed by anyone
        assert not marker.exists()
    finally:
        sleeper.kill()
        sleeper.wait()


@pytest.mark.parametrize(("env", "args", "broken"), [
    ({"NEWSGEN_DAEMON": "", "CI": "true"}, (), False),  # CI: every build is a first one
    ({"NEWSGEN_DAEMON": "", "CI": "", "TF_BUILD": "True"}, (), False),  # Azure Pipelines
    ({"NEWSGEN_DAEMON": "manual", "CI": ""}, (), False),
    ({"NEWSGEN_DAEMON": "off", "CI": ""}, (), False),
    (AUTO, ("--no-daemon",), False),
    (AUTO, (), True),  # a failed build starts none either
], ids=["ci", "azure", "manual", "off", "no-daemon-flag", "failed"])
def test_no_daemon_is_started_on_ci_when_turned_off_or_after_a_failure(
        tmp_path: Path, env: dict[str, str], args: tuple[str, ...], broken: bool) -> None:
    root = copy_project(tmp_path / "site")
    if broken:
        (root / "content" / "articles" / "broken.md").write_text(
            "---\ntitle: [unclosed\n---\nBody.\n", "utf-8")
    done = run_cli(root, "build", "--no-search", *args, env=env)
    assert done.returncode == (1 if broken else 0), done.stderr
    assert "starting a build daemon" not in done.stdout
    # `spawn` creates the daemon's log before the command exits: none, no daemon.
    assert not (root / ".cache" / "daemon.log").exists()
    assert _status(root) is None


def test_newsgen_daemon_off_bypasses_a_running_daemon(started: tuple[Path, int],
                                                      hooks: dict[str, str]) -> None:
    root, _pid = started
    done = run_cli(root, "build", "--no-search", env={**hooks, "NEWSGEN_DAEMON": "off"})
    assert done.returncode == 0, done.stderr
    status = _status(root)
    assert status is not None and status["builds"] == 0


def test_a_mistyped_newsgen_daemon_is_a_usage_error(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "site")
    done = run_cli(root, "build", env={"NEWSGEN_DAEMON": "sometimes"})
    assert done.returncode == 2
    assert "NEWSGEN_DAEMON='sometimes' is not one of auto, manual, off" in done.stderr
    assert not (root / "public").exists()


@pytest.mark.parametrize(("environ", "mode"), [
    ({}, "auto"),
    ({"CI": "true"}, "manual"),
    ({"CI": "1"}, "manual"),
    ({"CI": "false"}, "auto"),
    ({"CI": "0"}, "auto"),
    ({"CI": ""}, "auto"),
    ({"CI": "true", "NEWSGEN_DAEMON": "auto"}, "auto"),  # said outright, it wins
    ({"JENKINS_URL": "http://ci/"}, "manual"),
    ({"TF_BUILD": ""}, "auto"),  # set but empty: not CI
    ({"NEWSGEN_DAEMON": " Off "}, "off"),
    ({"NEWSGEN_DAEMON": "manual"}, "manual"),
])
def test_daemon_mode_reads_newsgen_daemon_then_ci(environ: dict[str, str], mode: str) -> None:
    assert daemon.daemon_mode(environ) == mode


def test_a_quiet_build_starts_its_daemon_silently_and_a_held_lock_starts_none(
        tmp_path: Path, hooks: dict[str, str]) -> None:
    import fcntl

    root = copy_project(tmp_path / "site")
    (root / ".cache").mkdir()
    with open(root / ".cache" / daemon.LOCK_NAME, "a") as lock:  # as a daemon's
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held = run_cli(root, "build", "--no-search", "-v", env={**hooks, **AUTO})
        assert held.returncode == 0, held.stderr
        assert "no build daemon started: one is running" in held.stdout
        assert not (root / ".cache" / "daemon.log").exists()
    quiet = run_cli(root, "build", "--no-search", "-q", env={**hooks, **AUTO})
    assert quiet.returncode == 0 and quiet.stdout == "", quiet.stdout + quiet.stderr
    try:
        assert _wait_for(lambda: _status(root) is not None), "-q starts it all the same"
    finally:
        run_cli(root, "daemon", "stop")


def test_a_daemon_that_cannot_start_is_not_started_again_by_every_build(
        tmp_path: Path) -> None:
    root = copy_project(tmp_path / "site")
    (root / ".cache" / daemon.SOCKET_NAME).mkdir(parents=True)  # its socket cannot be made
    first = run_cli(root, "build", "--no-search", env=AUTO)
    assert first.returncode == 0 and "starting a build daemon" in first.stdout
    failed = root / ".cache" / daemon.FAILED_NAME
    assert _wait_for(failed.exists), "the failed daemon leaves a note"
    assert "Error" in failed.read_text("utf-8")
    second = run_cli(root, "build", "--no-search", "-v", env=AUTO)
    assert second.returncode == 0, second.stderr
    assert "starting a build daemon" not in second.stdout
    assert "no build daemon started: the last one could not start" in second.stdout


def test_a_niced_build_starts_no_daemon(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "site")
    done = subprocess.run(["nice", "-n", "5", sys.executable, "-m", "generator", "build",
                           "--no-search", "-v"], cwd=root, env={**os.environ, **AUTO},
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "no build daemon started: this build runs at a lowered priority" in done.stdout
    assert not (root / ".cache" / "daemon.log").exists()


def test_no_daemon_is_started_on_a_network_file_system(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert daemon.file_system_type(Path("/proc/self")) == "proc"
    assert daemon.file_system_type(tmp_path) != ""
    (tmp_path / ".cache").mkdir()
    assert daemon.why_not_start(tmp_path) == ""
    monkeypatch.setattr(daemon, "file_system_type", lambda _path: "nfs4")
    assert "nfs4 file system" in daemon.why_not_start(tmp_path)
    monkeypatch.setattr(daemon, "file_system_type", lambda _path: "fuse.sshfs")
    assert "fuse.sshfs file system" in daemon.why_not_start(tmp_path)
