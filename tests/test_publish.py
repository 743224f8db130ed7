"""Publishing leftovers: the work folders a killed build leaves beside the output (staging,
incoming, undo, and search.py's) are cleared by the next build, whatever it builds."""

from __future__ import annotations

from pathlib import Path

from conftest import run_cli
from sitefactory import corpus, write_project


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
