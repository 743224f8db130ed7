"""Lighthouse (npm lighthouse@13, Debian Chromium) on the sample site's front page, an article, a
section page and the search page, served over HTTP under /news/: performance, accessibility,
best practices and SEO must each score at least 0.95.

The four audits run once per session (~11 s each). Crawlers read robots.txt only at the host
root, which a site under a sub-path does not control; so that Lighthouse validates our
robots.txt rather than skipping the check as "not applicable", the test server also serves
public/robots.txt at /robots.txt (as it would be for a site published at a domain root).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CHROMIUM, CHROMIUM_ARGS, ROOT, serve_under_prefix

LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
ARTIFACTS = ROOT / "test-artifacts" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
PAGES = ("front", "article", "section", "search")
MINIMUM = 0.95

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.slow]


def page_paths(public: Path) -> dict[str, str]:
    article = sorted(public.glob("20*/*/*/index.html"))
    assert article, "the sample site has no article page"
    return {"front": "", "article": article[0].parent.relative_to(public).as_posix() + "/",
            "section": "section/world/", "search": "search/"}


def run_lighthouse(url: str, output: Path, profile: Path) -> dict[str, Any]:
    flags = " ".join(["--headless=new", *CHROMIUM_ARGS, f"--user-data-dir={profile}"])
    done = subprocess.run(
        [str(LIGHTHOUSE), url, "--quiet", f"--only-categories={','.join(CATEGORIES)}",
         "--output=json", f"--output-path={output}", f"--chrome-flags={flags}"],
        env={**os.environ, "CHROME_PATH": CHROMIUM}, capture_output=True, text=True,
        timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(output.read_text(encoding="utf-8"))
    assert not report.get("runtimeError"), report.get("runtimeError")
    return report


@pytest.fixture(scope="session")
def lighthouse(built_site: Path,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, Any]]]:
    """Page kind -> Lighthouse JSON report; also kept in test-artifacts/lighthouse/."""
    public = built_site / "public"
    www = tmp_path_factory.mktemp("www-lighthouse")
    (www / "robots.txt").symlink_to(public / "robots.txt")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with serve_under_prefix(public, "news", www) as url:
        reports = {kind: run_lighthouse(url + path, ARTIFACTS / f"{kind}.json",
                                        tmp_path_factory.mktemp(f"chrome-{kind}"))
                   for kind, path in page_paths(public).items()}
    yield reports


def failing_audits(report: dict[str, Any], category: str) -> list[str]:
    audits = report["audits"]
    return [f"{ref['id']}: {audits[ref['id']]['score']} {audits[ref['id']].get('displayValue', '')}"
            for ref in report["categories"][category]["auditRefs"]
            if ref["weight"] > 0 and audits[ref["id"]]["score"] is not None
            and audits[ref["id"]]["score"] < 1]


def test_every_category_scores_at_least_095_on_every_page_kind(
        lighthouse: dict[str, dict[str, Any]]) -> None:
    """One test for the 16 (page, category) scores: with pytest-xdist, tests sharing the session
    fixture could land on two workers and run Lighthouse twice."""
    scores = {f"{kind}/{category}": report["categories"][category]["score"]
              for kind, report in lighthouse.items() for category in CATEGORIES}
    assert len(scores) == len(PAGES) * len(CATEGORIES)
    low = {key: (score, failing_audits(lighthouse[key.split("/")[0]], key.split("/")[1]))
           for key, score in scores.items() if score is None or score < MINIMUM}
    assert low == {}
    for kind, report in lighthouse.items():  # the pages we meant, fetched fine
        assert "/news/" in report["finalDisplayedUrl"], kind
        assert report["audits"]["http-status-code"]["score"] == 1, kind
    assert lighthouse["search"]["finalDisplayedUrl"].endswith("/news/search/")
    for kind, report in lighthouse.items():  # robots.txt validated, not skipped
        robots = report["audits"]["robots-txt"]
        assert robots["scoreDisplayMode"] == "binary" and robots["score"] == 1, (kind, robots)
        assert report["audits"]["is-crawlable"]["score"] == 1, kind
        assert report["audits"]["canonical"]["score"] == 1, kind
