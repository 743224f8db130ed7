"""Property tests: whatever a seed holds, `newsgen build` ingests it faithfully or says why not.

Any text (any Unicode, any line endings, control characters) or any bytes written as a seed give
either an article whose front matter reads back through YAML exactly as the seed parser saw it,
and whose page shows every body paragraph word for word; or exit code 1 with an error about that
seed and a hint. Never an exception out of the CLI. Builds run in-process (`cli.main`) on a copy
of one small built project, so each example costs one incremental build.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from conftest import FIXED_EPOCH
from htmlutil import parse
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sitefactory import corpus, write_project

from generator.cli import main
from generator.enrich import derive_tags
from generator.markup import visible_text
from generator.seed import parse_seed

SEED = "700_0123456789abcdef.txt"
NOW = datetime.fromisoformat("2026-11-26T00:00:00+00:00")
FUZZ = settings(max_examples=15, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

_BASE: list[Path] = []


def base_project(factory: pytest.TempPathFactory) -> Path:
    """Two articles, built once: each example copies it, cache and Jinja bytecode included."""
    if not _BASE:
        root = write_project(factory.mktemp("fuzz") / "site", corpus(2), about=False)
        code, _, err = newsgen(root, "build", "--no-search")
        assert code == 0, err
        _BASE.append(root)
    return _BASE[0]


def newsgen(root: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([*args, "--root", str(root)])
    return code, out.getvalue(), err.getvalue()


def front_matter(text: str) -> dict[str, object]:
    assert text.startswith("---\n"), text[:80]
    head, _, _ = text[4:].partition("\n---\n")
    data = yaml.safe_load(head)
    assert isinstance(data, dict)
    return data


def body_paragraphs(html: str) -> list[list[str]]:
    """The words of each paragraph of the article body, as a reader sees them."""
    body = parse(html).one("div", class_="story-body")
    return [p.raw_text().split() for p in body.find_all("p") if "dateline" not in p.classes]


def check_seed(factory: pytest.TempPathFactory, raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(shutil.copytree(base_project(factory), Path(folder) / "site", symlinks=True))
        (root / "seeds" / SEED).write_bytes(raw)
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("SOURCE_DATE_EPOCH", FIXED_EPOCH)
            code, out, err = newsgen(root, "build", "--no-search")
        assert code in (0, 1), (code, err)
        event("refused" if code else "built")
        if code == 1:
            # Only ever a diagnostic about the seed itself, with a hint.
            errors = [line for line in err.splitlines() if ": error: " in line]
            assert errors and all(line.startswith(f"seeds/{SEED}: error: ") for line in errors), err
            assert "  hint: " in err
            stems = {p.stem for p in (root / "content" / "articles").glob("*.md")}
            assert stems == {"story-00", "story-01"}  # nothing half-ingested
            return
        assert "1 written" in out, out + err
        seed = parse_seed(raw, Path("seeds") / SEED)
        [article] = [p for p in (root / "content" / "articles").glob("*.md")
                     if p.stem not in ("story-00", "story-01")]
        meta = front_matter(article.read_text(encoding="utf-8"))
        assert meta["title"] == seed.headline
        assert meta["summary"] == (seed.standfirst or "")
        assert meta["authors"] == list(seed.authors)
        assert meta["tags"] == list(derive_tags(seed))
        assert meta["image_credit"] == (seed.image_credit or "")
        assert meta.get("image_caption") == seed.image_caption
        assert meta.get("dateline") == seed.dateline
        assert meta["source"] == f"seeds/{SEED}"
        pages = list((root / "public").glob(f"*/*/{article.stem}/index.html"))
        if not seed.paragraphs:
            assert meta["draft"] is True and pages == []  # an empty story stays a draft
            return
        assert "draft" not in meta
        if datetime.fromisoformat(str(meta["date"])) > NOW:
            assert pages == []  # a future date line: published when it falls due
            return
        [page] = pages
        expected = [visible_text(p).split() for p in seed.paragraphs]
        assert body_paragraphs(page.read_text(encoding="utf-8")) == [w for w in expected if w]


LINE_ENDINGS = st.sampled_from(["\n", "\r\n", "\r"])
LINE = st.text(min_size=1, max_size=80)


@FUZZ
@given(headline=LINE, paragraphs=st.lists(st.text(max_size=200), max_size=5),
       ending=LINE_ENDINGS, gap=st.integers(1, 3))
def test_seed_shaped_text_ingests_faithfully_or_fails_clearly(
        tmp_path_factory: pytest.TempPathFactory, headline: str, paragraphs: list[str],
        ending: str, gap: int) -> None:
    text = (ending * (gap + 1)).join([headline, *paragraphs])
    check_seed(tmp_path_factory, text.encode("utf-8"))


@FUZZ
@given(text=st.text(max_size=2000))
def test_any_text_ingests_faithfully_or_fails_clearly(
        tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    check_seed(tmp_path_factory, text.encode("utf-8"))


@settings(FUZZ, max_examples=10)
@given(raw=st.binary(max_size=2000))
def test_any_bytes_ingest_faithfully_or_fail_clearly(
        tmp_path_factory: pytest.TempPathFactory, raw: bytes) -> None:
    check_seed(tmp_path_factory, raw)
