"""The benchmark runner's cold-build step: the previous output is moved aside, not deleted.

Deleting a large tree just before a timed build charges the build for the harness's cleanup on
this machine's file system (benchmarks/README.md); the runner renames it into a trash folder
that it deletes only when the whole run ends.
"""

from __future__ import annotations

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
