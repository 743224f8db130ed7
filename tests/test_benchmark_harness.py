"""The benchmark runner's cold-build step: the previous output is moved aside, not deleted.

Deleting a large tree just before a timed build charges the build for the harness's cleanup on
this machine's file system (benchmarks/README.md); the runner renames it into a trash folder
that it deletes only when the whole run ends.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import run  # a sibling folder on sys.path: benchmarks/ is not a package


def test_a_cold_build_starts_empty_and_the_old_output_is_kept_aside(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    trash = tmp_path / "trash"
    monkeypatch.setattr(run, "TRASH", trash)
    project = tmp_path / "project"
    (project / "public" / "old").mkdir(parents=True)
    (project / "public" / "old" / "index.html").write_text("previous build")
    (project / ".cache").mkdir()
    (project / ".cache" / "build.db").write_text("stale cache")
    # A "build" that fails unless it starts without output or cache, then writes one page.
    build = ("import os; assert not os.path.exists('public') and not os.path.exists('.cache'); "
             "os.makedirs('public'); open('public/index.html', 'w').write('new')")
    tool = run.Tool("fake", (sys.executable, "-c", build), "public", (".cache", "public"))
    result = run.ToolResult("fake", 1)

    for _ in range(2):
        run._cold(tool, project, result, 0.0)

    assert [r["seconds"] > 0 for r in result.runs["cold"]] == [True, True]
    assert (result.files, result.html_files) == (1, 1)
    assert (project / "public" / "index.html").read_text() == "new"
    moved = sorted(path.name for path in trash.iterdir())
    assert moved == ["0000-.cache", "0001-public", "0002-public"]
    assert (trash / "0001-public" / "old" / "index.html").read_text() == "previous build"
    assert (trash / "0000-.cache" / "build.db").read_text() == "stale cache"


def test_growth_pairs_each_big_build_with_the_small_one_before_it() -> None:
    import report

    def run_of(seconds: float, cpu: float) -> dict[str, float]:
        return {"seconds": seconds, "cpu_seconds": cpu}

    pairs = [{"small": run_of(10, 18), "big": run_of(110, 170)},
             {"small": run_of(12, 20), "big": run_of(114, 190)},
             {"small": run_of(11, 19), "big": run_of(140, 200)},
             {"small": run_of(11, 19)}]  # its big build failed: left out
    assert report.paired_growth(pairs, "seconds") == pytest.approx(11.0)
    assert report.paired_growth(pairs, "cpu_seconds") == pytest.approx(9.5)
    table = report.growth(pairs)
    assert len(table) == 2 + 3 and "| 1 | 10.00 s | 110.00 s | 11.0× |" in table[2]
    checks = "\n".join(report.targets([], pairs))
    assert "cold time 10k → 100k, paired back to back (≤ 10×) | 11.0× | NO" in checks
    assert "cold CPU time 10k → 100k, paired back to back (≤ 10×) | 9.5× | yes" in checks


def test_a_tool_with_a_warm_up_runs_it_before_each_warm_build(tmp_path: Path) -> None:
    log = tmp_path / "log"
    note = (sys.executable, "-c", f"open({str(log)!r}, 'a').write('warm ')")
    tool = run.Tool("fake", (sys.executable, "-c", f"open({str(log)!r}, 'a').write('build ')"),
                    "public", (), warm_up=note, after=(sys.executable, "-c",
                                                       f"open({str(log)!r}, 'a').write('after')"))
    (tmp_path / "public").mkdir()
    (tmp_path / "content" / "articles").mkdir(parents=True)
    (tmp_path / "content" / "articles" / "a.md").write_text("the article the edit changes\n")
    run.bench_size([tool], {"fake": tmp_path}, 1, 1, 0.0)
    # cold, then no-change and edit, each after its warm-up; `after` once at the end
    assert log.read_text() == "build warm build warm build after"


def test_a_tools_environment_reaches_its_builds_and_settle_waits_after_each(
        tmp_path: Path) -> None:
    log, tries = tmp_path / "log", tmp_path / "tries"
    build = (sys.executable, "-c",
             f"import os; open({str(log)!r}, 'a').write(os.environ['MODE'] + ' ')")
    # Exits 1 on its first call after each build, 0 on the second: as `daemon status` does
    # while a daemon a build started is still importing.
    settle = (sys.executable, "-c",
              f"import os, sys; p = {str(tries)!r}; n = os.path.exists(p); "
              f"open({str(log)!r}, 'a').write('settle '); "
              "os.remove(p) if n else open(p, 'w').close(); sys.exit(0 if n else 1)")
    tool = run.Tool("fake", build, "public", (), env=(("MODE", "auto"),), settle=settle)
    (tmp_path / "public").mkdir()
    (tmp_path / "content" / "articles").mkdir(parents=True)
    (tmp_path / "content" / "articles" / "a.md").write_text("the article the edit changes\n")
    run.bench_size([tool], {"fake": tmp_path}, 1, 1, 0.0)
    assert log.read_text() == "auto settle settle " * 3


def test_the_newsgen_row_builds_through_the_daemon_its_first_build_started(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The benchmark's `newsgen` is the command as a user runs it off CI: the cold build runs
    locally and starts a daemon, which runs the no-change and edit builds."""
    import dataclasses

    import peers

    from generator import daemon

    monkeypatch.setattr(run, "TRASH", tmp_path / "trash")
    roots = peers.write_corpora(tmp_path / "corpus", 30, 1, ["newsgen"])
    root = roots["newsgen"]
    tool = dataclasses.replace(run.tools()["newsgen"], after=())  # stopped below, after asking
    try:
        [result] = run.bench_size([tool], roots, 30, 1, 0.0)
        assert not result.error and result.edit_visible == [True]
        status = daemon.ask(root, "status")
        assert status is not None and status["builds"] == 2  # the no-change and the edit build
    finally:
        daemon.ask(root, "stop")


def test_an_interrupted_run_still_runs_each_tools_after_command(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "log"
    tool = run.Tool("fake", (sys.executable, "-c", "pass"), "public", (),
                    after=(sys.executable, "-c", f"open({str(log)!r}, 'a').write('after')"))

    def interrupted(*_args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(run, "_cold", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run.bench_size([tool], {"fake": tmp_path}, 1, 1, 0.0)
    assert log.read_text() == "after"  # e.g. `newsgen daemon stop`


def test_the_reference_writes_files_like_the_output_and_reports_its_own_growth(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import reference
    import report

    output = tmp_path / "public"
    (output / "2024" / "01" / "a").mkdir(parents=True)
    (output / "2024" / "01" / "a" / "index.html").write_bytes(b"x" * 5000)
    (output / "feed.xml").write_bytes(b"y" * 300)
    (output / "empty.txt").write_bytes(b"")
    listing = reference.manifest(output)
    assert listing == [("2024/01/a/index.html", 5000), ("empty.txt", 0), ("feed.xml", 300)]
    copy = tmp_path / "copy"
    (tmp_path / "listing.json").write_text(json.dumps(listing))
    assert reference.main([str(tmp_path / "listing.json"), str(copy)]) == 0
    assert reference.manifest(copy) == listing  # same paths, same sizes
    assert (copy / "feed.xml").read_bytes() != b"y" * 300  # written, not copied

    # The runner times it (in its own process) into the pair the last cold build opened.
    monkeypatch.setattr(run, "WORK", tmp_path / "work")
    monkeypatch.setattr(run, "TRASH", tmp_path / "work" / "trash")
    (tmp_path / "work").mkdir()
    data: dict[str, list[dict[str, object]]] = {"growth_pairs": [{"small": {}}]}
    for _ in range(2):  # the second run moves the first one's files aside
        run._paired_reference(data, "small_reference")(output)
    timing = data["growth_pairs"][0]["small_reference"]
    assert isinstance(timing, dict) and timing["seconds"] > 0, timing
    assert reference.manifest(tmp_path / "work" / "reference-output") == listing
    assert len(list((tmp_path / "work" / "trash").iterdir())) == 1

    def timed(seconds: float) -> dict[str, float]:
        return {"seconds": seconds, "cpu_seconds": seconds}

    pairs = [{"small": timed(10), "big": timed(105), "small_reference": timed(1.0),
              "big_reference": timed(11.5)},
             {"small": timed(10), "big": timed(104), "small_reference": timed(1.0),
              "big_reference": timed(11.0)},
             {"small": timed(10), "big": timed(106)}]  # no reference: a dash, not a crash
    assert report.paired_growth(pairs, "seconds", report.REFERENCE_KEYS) == pytest.approx(11.25)
    table = report.growth(pairs)
    assert table[2].endswith("| 1.00 s | 11.50 s | 11.5× |")
    assert table[4].endswith("| – | – | – |")
    checks = "\n".join(report.targets([], pairs))
    assert "reference.py writing the same files, 10k → 100k | 11.2× | – |" in checks


def test_a_second_run_refuses_to_share_the_work_folder_while_the_first_holds_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(run, "WORK", tmp_path / "work")
    first = run.lock_work()
    assert first is not None
    try:
        # Refused before any work: nothing in the work folder but the lock, no results.
        assert run.main(["--sizes", "1000", "--tools", "newsgen", "--out",
                         str(tmp_path / "results")]) == 2
        assert "another benchmark run is using" in capsys.readouterr().err
        assert sorted(p.name for p in (tmp_path / "work").iterdir()) == [".lock"]
        assert not (tmp_path / "results").exists()
    finally:
        os.close(first)
    second = run.lock_work()  # free again once the first run's descriptor is closed
    assert second is not None
    os.close(second)
