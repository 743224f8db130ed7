"""Ingest end to end: seeds/*.txt -> content/articles/*.md, through `ingest()` and the CLI.

The sample seed's article is a golden file; regenerate it after an intended change with
`NEWSGEN_REGENERATE_GOLDEN=1 .venv/bin/pytest tests/test_ingest.py -k golden` and review the diff.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, copy_project, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.config import SiteConfig, load_config
from generator.content import load_document
from generator.enrich import derive_tags, pick_section
from generator.errors import SourceLocation
from generator.ingest import IngestReport, article_text, ingest
from generator.markup import escape_paragraph, visible_text
from generator.seed import Seed, parse_seed
from generator.seedarticles import is_hand_edited

SAMPLE = ROOT / "seeds" / "000_58ad658e4daf8054.txt"
SAMPLE_SLUG = "we-will-soon-decide-whether-to-deploy-american-troops-in-libya"
GOLDEN = Path(__file__).parent / "sites" / "golden" / f"{SAMPLE_SLUG}.md"
MTIME = datetime(2016, 4, 21, 9, 30, tzinfo=UTC)  # given to every seed file unless a test says
SIMPLE = "Troops head to Libya\n\nThe standfirst\n\nBody one.\n\nBody two."


@pytest.fixture(scope="module", autouse=True)
def _no_enclosing_repository(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    # Git must never find a repository above the tests' folders (dates would come from it).
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path_factory.getbasetemp()))
        yield


def make_site(tmp_path: Path, timezone: str = "UTC") -> SiteConfig:
    root = tmp_path / "site"
    (root / "seeds").mkdir(parents=True)
    (root / "content" / "articles").mkdir(parents=True)
    text = (ROOT / "site.toml").read_text(encoding="utf-8")
    (root / "site.toml").write_text(text.replace('timezone = "UTC"', f'timezone = "{timezone}"'),
                                    encoding="utf-8")
    return load_config(root)


@pytest.fixture
def site(tmp_path: Path) -> SiteConfig:
    return make_site(tmp_path)


def add_seed(config: SiteConfig, name: str, data: str | bytes,
             mtime: datetime | None = MTIME) -> Path:
    path = config.root / "seeds" / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    if mtime is not None:
        os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return path


def read_article(config: SiteConfig, relative: str | Path) -> tuple[dict[str, Any], str]:
    """(front matter in file order, body) of a written article."""
    text = (config.root / relative).read_text(encoding="utf-8")
    assert text.startswith("---\n")
    head, body = text[4:].split("\n---\n", 1)
    return yaml.safe_load(head), body


def article_path(slug: str) -> Path:
    return Path("content/articles") / f"{slug}.md"


def rendered_paragraphs(config: SiteConfig, relative: Path) -> list[str]:
    html = load_document(config.root / relative, config).html
    if not html:
        return []
    assert html.startswith("<p>") and html.endswith("</p>")
    return [unescape(chunk) for chunk in html[3:-4].split("</p>\n<p>")]


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def summary(report: IngestReport) -> tuple[int, int, int, int]:
    return len(report.written), report.unchanged, len(report.kept), report.failed


# --- the sample seed ---------------------------------------------------------------------------


def test_sample_golden(site: SiteConfig) -> None:
    add_seed(site, SAMPLE.name, SAMPLE.read_bytes())
    report = ingest(site)
    assert report.written == [article_path(SAMPLE_SLUG)]
    assert summary(report) == (1, 0, 0, 0)
    # The sample has no date line: dated from the file (no git history here), and says so.
    [warning] = report.diagnostics
    assert (warning.severity, warning.message) == (
        "warning", "no date line; dated 2016-04-21T09:30:00+00:00 from the seed file's "
        "modification time")
    assert warning.location is not None and warning.location.path.name == SAMPLE.name
    assert warning.hint is not None and "Published: 2016-04-21" in warning.hint
    text = (site.root / article_path(SAMPLE_SLUG)).read_text(encoding="utf-8")
    if os.environ.get("NEWSGEN_REGENERATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_sample_front_matter_and_body(site: SiteConfig) -> None:
    add_seed(site, SAMPLE.name, SAMPLE.read_bytes())
    ingest(site)
    meta, body = read_article(site, article_path(SAMPLE_SLUG))
    assert list(meta) == ["title", "slug", "date", "summary", "authors", "section", "tags",
                          "image_credit", "source", "source_sha256", "ingest_version",
                          "ingest_checksum"]
    seed = parse_seed(SAMPLE.read_bytes(), SAMPLE)
    assert meta["title"] == "We will soon decide whether to Deploy American Troops in Libya"
    assert meta["slug"] == SAMPLE_SLUG
    assert meta["date"] == "2016-04-21T09:30:00+00:00"  # the seed's mtime: no date, no git
    assert meta["summary"] == (
        "According to Marine Gen. Joseph Dunford, chairman of the Joint Chiefs of Staff, the US "
        "wants to make her contribution to what is happening in Libya and remained stable in the "
        "forces")
    assert meta["authors"] == []
    assert meta["section"] == "world"
    assert meta["section"] == pick_section(seed, [(s.slug, s.keywords) for s in site.sections],
                                           site.default_section)
    assert meta["tags"] == list(derive_tags(seed))
    assert set(meta["tags"]) >= {"Dunford", "Libya", "Islamic State"}
    assert meta["image_credit"] == "AP"
    assert meta["source"] == "seeds/000_58ad658e4daf8054.txt"
    assert meta["source_sha256"] == hashlib.sha256(SAMPLE.read_bytes()).hexdigest()
    # The body is the six paragraphs after "Photo: AP", escaped, one blank line apart; the
    # repeated headline and the credit line are gone.
    paragraphs = SAMPLE.read_text(encoding="utf-8").split("\n\n")[4:]
    assert body == "\n" + "\n\n".join(escape_paragraph(p) for p in paragraphs) + "\n"
    assert "Government of National Accord \\(GNA\\)" in body
    assert "Photo: AP" not in body and meta["title"] not in body
    # ...and every character of the news text renders literally.
    assert rendered_paragraphs(site, article_path(SAMPLE_SLUG)) == paragraphs


def test_sample_through_the_cli(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "project", content=False)
    os.utime(root / "seeds" / SAMPLE.name, (MTIME.timestamp(), MTIME.timestamp()))
    result = run_cli(root, "ingest")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ingest: 1 written, 0 unchanged, 0 kept (hand-edited), 0 failed\n"
    assert result.stderr.startswith(f"seeds/{SAMPLE.name}: warning: no date line; dated ")
    assert result.stderr.count("warning:") == 1
    written = (root / article_path(SAMPLE_SLUG)).read_text(encoding="utf-8")
    assert written == GOLDEN.read_text(encoding="utf-8")


def test_project_article_matches_its_seed() -> None:
    # The committed article was ingested from the committed seed and never edited by hand.
    text = (ROOT / article_path(SAMPLE_SLUG)).read_text(encoding="utf-8")
    assert not is_hand_edited(text)
    meta = yaml.safe_load(text.split("\n---\n", 1)[0][4:])
    assert meta["source_sha256"] == hashlib.sha256(SAMPLE.read_bytes()).hexdigest()


# --- dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "timezone", "date"),
    [
        ("Published: 2016-04-21 09:30", "America/New_York", "2016-04-21T09:30:00-04:00"),
        ("April 21, 2016", "Europe/Paris", "2016-04-21T00:00:00+02:00"),
        ("Published: 2016-04-21T09:30:00Z", "America/New_York", "2016-04-21T09:30:00+00:00"),
        ("2016-01-15 08:00", "UTC", "2016-01-15T08:00:00+00:00"),
        # A zone in the line wins over the site's; without one the site's applies.
        ("April 21, 2016 10:30 AM EDT", "Europe/Paris", "2016-04-21T10:30:00-04:00"),
        ("Published April 21, 2016 10:30 AM ET", "UTC", "2016-04-21T10:30:00-04:00"),
        ("Thu 21 Apr 2016 14.30", "America/New_York", "2016-04-21T14:30:00-04:00"),
        ("2016-04-21 14:30:00 UTC", "Europe/Paris", "2016-04-21T14:30:00+00:00"),
    ],
)
def test_date_from_the_seed(tmp_path: Path, line: str, timezone: str, date: str) -> None:
    config = make_site(tmp_path, timezone)
    add_seed(config, "a.txt", f"Headline\n\nStandfirst\n\n{line}\n\nBody one.\n\nBody two.")
    ingest(config)
    meta, _ = read_article(config, article_path("headline"))
    assert meta["date"] == date
    assert load_document(config.root / article_path("headline"), config).meta.date == \
        datetime.fromisoformat(date)


def test_an_update_time_is_written_as_updated(site: SiteConfig) -> None:
    add_seed(site, "a.txt", "Headline\n\nStandfirst\n\nThu 21 Apr 2016 15.00 BST First "
             "published on Thu 21 Apr 2016 13.00 BST\n\nBody one.\n\nBody two.")
    report = ingest(site)
    assert report.diagnostics == []
    meta, body = read_article(site, article_path("headline"))
    assert (meta["date"], meta["updated"]) == ("2016-04-21T13:00:00+01:00",
                                               "2016-04-21T15:00:00+01:00")
    assert list(meta)[:4] == ["title", "slug", "date", "updated"]
    assert body == "\nBody one.\n\nBody two.\n"
    document = load_document(site.root / article_path("headline"), site)
    assert document.meta.updated == datetime(2016, 4, 21, 14, tzinfo=UTC)


def test_every_date_fallback_warns_naming_the_seed(tmp_path: Path) -> None:
    config = make_site(tmp_path)
    git(config.root, "init", "-q")
    add_seed(config, "a.txt", SIMPLE)
    git(config.root, "add", "seeds")
    git(config.root, "commit", "-q", "-m", "add", date="2015-01-02T03:04:05+00:00")
    add_seed(config, "b.txt", SIMPLE.replace("Troops", "Others"))  # not committed
    add_seed(config, "c.txt", SIMPLE.replace("\n\nBody one", "\n\nPublished: 2016-04-21"
                                             "\n\nBody one").replace("Troops", "Dated"))
    warnings = {str(d.location): (d.message, d.hint) for d in ingest(config).diagnostics}
    assert warnings.keys() == {"seeds/a.txt", "seeds/b.txt"}
    assert warnings["seeds/a.txt"][0] == ("no date line; dated 2015-01-02T03:04:05+00:00 from the "
                                          "commit that added the seed")
    assert warnings["seeds/b.txt"][0] == ("no date line; dated 2016-04-21T09:30:00+00:00 from the "
                                          "seed file's modification time")
    for _, hint in warnings.values():
        assert hint is not None and "Published: 2016-04-21" in hint and "date:" in hint


def test_undated_seed_outside_git_takes_its_mtime(tmp_path: Path) -> None:
    config = make_site(tmp_path, "America/New_York")
    add_seed(config, "a.txt", SIMPLE)
    ingest(config)
    assert read_article(config, article_path("troops-head-to-libya"))[0]["date"] == \
        "2016-04-21T05:30:00-04:00"


def test_an_undated_seed_saved_after_the_builds_now_is_dated_now(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With SOURCE_DATE_EPOCH set (the build's "now"), a later mtime is clamped to it: the
    article must not become a future one that the build then hides."""
    config = make_site(tmp_path, "UTC")
    add_seed(config, "a.txt", SIMPLE)
    seed = config.root / "seeds" / "a.txt"
    os.utime(seed, (1_900_000_000, 1_900_000_000))  # 2030-03-17
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")  # 2027-01-15T08:00:00Z
    ingest(config)
    assert read_article(config, article_path("troops-head-to-libya"))[0]["date"] == \
        "2027-01-15T08:00:00+00:00"


def test_the_build_passes_its_own_now_to_the_clamp(tmp_path: Path) -> None:
    """`newsgen build --now` (or any caller's `now`) clamps the date as SOURCE_DATE_EPOCH does."""
    config = make_site(tmp_path, "UTC")
    add_seed(config, "a.txt", SIMPLE, mtime=datetime(2030, 3, 17, tzinfo=UTC))
    ingest(config, now=datetime(2027, 1, 15, 8, tzinfo=UTC))
    assert read_article(config, article_path("troops-head-to-libya"))[0]["date"] == \
        "2027-01-15T08:00:00+00:00"


def git(root: Path, *args: str, date: str = "2015-01-02T03:04:05+00:00") -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.org",
           "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    subprocess.run(["git", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
                   cwd=root, env=env, check=True, capture_output=True)


def test_undated_seed_in_git_takes_its_first_commit(tmp_path: Path) -> None:
    config = make_site(tmp_path, "Europe/Paris")
    root = config.root
    git(root, "init", "-q")
    add_seed(config, "a.txt", SIMPLE)
    add_seed(config, "Zürich é.txt", SIMPLE.replace("Troops", "Zürich"))
    git(root, "add", "seeds")
    git(root, "commit", "-q", "-m", "add", date="2015-01-02T03:04:05+00:00")
    add_seed(config, "a.txt", SIMPLE + "\n\nBody three.")
    git(root, "commit", "-q", "-am", "edit", date="2015-06-01T00:00:00+00:00")
    add_seed(config, "uncommitted.txt", SIMPLE.replace("Troops", "Others"))
    report = ingest(config)
    assert summary(report) == (3, 0, 0, 0)
    dates = {p.stem: read_article(config, p)[0]["date"] for p in report.written}
    assert dates == {
        "troops-head-to-libya": "2015-01-02T04:04:05+01:00",  # first commit, site time zone
        "zurich-head-to-libya": "2015-01-02T04:04:05+01:00",  # non-ASCII file name
        "others-head-to-libya": "2016-04-21T11:30:00+02:00",  # not committed: mtime
    }


def test_project_in_a_subfolder_of_a_repository(tmp_path: Path) -> None:
    config = make_site(tmp_path)
    git(tmp_path, "init", "-q")
    add_seed(config, "a.txt", SIMPLE)
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "add", date="2015-01-02T03:04:05+00:00")
    ingest(config)
    assert read_article(config, article_path("troops-head-to-libya"))[0]["date"] == \
        "2015-01-02T03:04:05+00:00"


def test_date_is_written_once(site: SiteConfig) -> None:
    add_seed(site, "a.txt", SIMPLE)
    ingest(site)
    # A later edit of an undated seed (new mtime, new headline) keeps the article's date and slug.
    add_seed(site, "a.txt", SIMPLE.replace("Troops head", "Troops will head"),
             mtime=datetime(2017, 1, 1, tzinfo=UTC))
    report = ingest(site)
    assert report.written == [article_path("troops-head-to-libya")]
    meta, _ = read_article(site, article_path("troops-head-to-libya"))
    assert meta["title"] == "Troops will head to Libya"
    assert meta["date"] == "2016-04-21T09:30:00+00:00"


# --- idempotence and updates -------------------------------------------------------------------


def test_second_run_writes_nothing(site: SiteConfig) -> None:
    add_seed(site, SAMPLE.name, SAMPLE.read_bytes())
    add_seed(site, "b.txt", SIMPLE)
    assert summary(ingest(site)) == (2, 0, 0, 0)
    before = snapshot(site.root)
    report = ingest(site)
    assert summary(report) == (0, 2, 0, 0)
    assert report.diagnostics == []
    assert snapshot(site.root) == before  # same bytes, same mtimes, no stray temporary files


def test_touched_seed_is_still_unchanged(site: SiteConfig) -> None:
    seed = add_seed(site, "a.txt", SIMPLE)
    ingest(site)
    before = snapshot(site.root / "content")
    os.utime(seed, (MTIME.timestamp() + 3600, MTIME.timestamp() + 3600))
    assert summary(ingest(site)) == (0, 1, 0, 0)
    assert snapshot(site.root / "content") == before


def test_second_run_through_the_cli(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "project", content=False)
    assert run_cli(root, "ingest").returncode == 0
    before = snapshot(root / "content")
    result = run_cli(root, "ingest")
    assert result.returncode == 0
    assert result.stdout == "ingest: 0 written, 1 unchanged, 0 kept (hand-edited), 0 failed\n"
    assert snapshot(root / "content") == before


def test_changed_seed_regenerates_its_article(site: SiteConfig) -> None:
    add_seed(site, "a.txt", SIMPLE)
    ingest(site)
    old, _ = read_article(site, article_path("troops-head-to-libya"))
    changed = SIMPLE.replace("Troops head", "Troops *will* head") + "\n\nBody three."
    add_seed(site, "a.txt", changed, mtime=datetime(2020, 1, 1, tzinfo=UTC))
    report = ingest(site)
    assert report.written == [article_path("troops-head-to-libya")]
    assert summary(report) == (1, 0, 0, 0)
    new, body = read_article(site, article_path("troops-head-to-libya"))
    assert new["title"] == "Troops *will* head to Libya"
    assert (new["slug"], new["date"]) == (old["slug"], old["date"])
    assert new["source_sha256"] == hashlib.sha256(changed.encode()).hexdigest()
    assert body == "\nBody one.\n\nBody two.\n\nBody three.\n"
    assert sorted(p.name for p in (site.root / "content" / "articles").iterdir()) == [
        "troops-head-to-libya.md"]


@pytest.mark.parametrize(
    "edit",
    [
        lambda text: text.replace("Body two.", "Body two, corrected by an editor."),
        lambda text: text.replace("tags:", "tags:\n- Editors pick"),
        lambda text: text + "\nAn added paragraph.\n",
    ],
    ids=["body", "front-matter", "appended"],
)
def test_hand_edited_article_is_kept_with_a_warning(site: SiteConfig, edit: Any) -> None:
    add_seed(site, "a.txt", SIMPLE)
    ingest(site)
    path = site.root / article_path("troops-head-to-libya")
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    edited = path.read_bytes()
    # Unchanged seed: nothing to say.
    report = ingest(site)
    assert summary(report) == (0, 1, 0, 0) and report.diagnostics == []
    # Changed seed: the edit wins, and the warning names the file.
    add_seed(site, "a.txt", SIMPLE + "\n\nBody three.")
    report = ingest(site)
    assert summary(report) == (0, 0, 1, 0)
    assert report.kept == [article_path("troops-head-to-libya")]
    [warning] = report.diagnostics
    assert warning.severity == "warning"
    assert "content/articles/troops-head-to-libya.md" in warning.message
    assert warning.location is not None
    assert warning.location.path == article_path("troops-head-to-libya")
    assert warning.hint is not None and "seeds/a.txt" in warning.hint
    assert path.read_bytes() == edited


def test_hand_written_article_claiming_a_seed_is_never_overwritten(site: SiteConfig) -> None:
    path = site.root / article_path("my-story")
    path.write_text("---\ntitle: Mine\ndate: 2016-01-01\nsource: seeds/a.txt\n---\n\nMine.\n",
                    encoding="utf-8")
    add_seed(site, "a.txt", SIMPLE)
    report = ingest(site)
    assert report.kept == [article_path("my-story")]
    assert path.read_text(encoding="utf-8").endswith("Mine.\n")
    assert not (site.root / article_path("troops-head-to-libya")).exists()


def test_broken_article_does_not_stop_ingest(site: SiteConfig) -> None:
    (site.root / article_path("broken")).write_text(
        "---\ntitle: X\ndate: 2016-13-45\nsource: seeds/b.txt\n---\nBody\n", encoding="utf-8")
    (site.root / article_path("binary")).write_bytes(b"\xff\xfe\x00\x01")
    add_seed(site, "a.txt", SIMPLE)
    report = ingest(site)
    assert report.written == [article_path("troops-head-to-libya")]


BROKEN = ("content/articles/troops-head-to-libya.md cannot be read (line {}: ", "), so seeds/a.txt "
          "was not ingested again")


@pytest.mark.parametrize(("typo", "line", "problem"), [
    (lambda text: text.replace("tags:", "tags: [oops", 1), 8, "did not find expected ',' or ']'"),
    (lambda text: text.replace("date: ", "date: 2016-13-45 #", 1), 4,
     "impossible date '2016-13-45' (month must be in 1..12)"),
    (lambda text: text.replace("\nsource_sha256:", "\nsource_sha256: : :", 1), 11,
     "mapping values are not allowed"),
    (lambda text: text.replace("---\n\n", "\n", 1), 1,
     "its front matter has no closing '---' line"),
    (lambda text: text.replace("---\n", "", 1), 1, "it does not start with a '---' line"),
    (lambda text: text.replace("title: ", "title: caf\udce9 ", 1), 2, "it is not valid UTF-8"),
], ids=["unclosed-list", "impossible-date", "bookkeeping-line", "lost-closing-fence",
        "lost-opening-fence", "not-utf8"])
def test_a_typo_in_an_articles_front_matter_never_duplicates_it(
        site: SiteConfig, typo: Any, line: int, problem: str) -> None:
    add_seed(site, "a.txt", SIMPLE)
    ingest(site)
    path = site.root / article_path("troops-head-to-libya")
    path.write_bytes(typo(path.read_text(encoding="utf-8")).encode("utf-8", "surrogateescape"))
    broken = path.read_bytes()
    for seed in (SIMPLE, SIMPLE + "\n\nBody three."):  # unchanged, then changed
        add_seed(site, "a.txt", seed)
        for known in (None, ingest(site).records):  # a cold build, then the next one
            report = ingest(site, known)
            assert (report.written, report.kept) == ([], [article_path("troops-head-to-libya")])
            [warning] = report.diagnostics
            before, after = BROKEN[0].format(line), BROKEN[1]
            assert warning.message.startswith(before + problem) and warning.message.endswith(after)
            assert warning.location == SourceLocation(article_path("troops-head-to-libya"), line)
            assert warning.hint is not None and "fix its front matter" in warning.hint
            assert path.read_bytes() == broken
            assert [p.name for p in (site.root / "content" / "articles").iterdir()] == [path.name]


def test_a_byte_order_mark_or_crlf_does_not_hide_an_article(site: SiteConfig) -> None:
    add_seed(site, "a.txt", SIMPLE)
    ingest(site)
    path = site.root / article_path("troops-head-to-libya")
    text = path.read_text(encoding="utf-8")
    for saved in ("\ufeff" + text, text.replace("\n", "\r\n")):  # as some editors save it
        path.write_text(saved, encoding="utf-8", newline="")
        add_seed(site, "a.txt", SIMPLE)
        assert summary(ingest(site)) == (0, 1, 0, 0)
        add_seed(site, "a.txt", SIMPLE + "\n\nBody three.")
        report = ingest(site)
        assert summary(report) == (0, 0, 1, 0) or report.written == [
            article_path("troops-head-to-libya")]
        assert [p.name for p in (site.root / "content" / "articles").iterdir()] == [path.name]
        path.write_text(text, encoding="utf-8")


def delete_source_line(path: Path, *others: str) -> bytes:
    """Delete the article's `source:` line (and the other keys named), as an editor would."""
    keys = ("source:", *(f"{key}:" for key in others))
    text = path.read_text(encoding="utf-8")
    path.write_text("".join(line for line in text.splitlines(keepends=True)
                            if not line.startswith(keys)), encoding="utf-8")
    return path.read_bytes()


TAKEN_OVER = ("content/articles/troops-head-to-libya.md no longer names its seed (its source: "
              "line was deleted), so seeds/001_aaaaaaaaaaaaaaaa.txt was not ingested again")


@pytest.mark.parametrize(("deleted", "name"), [
    (("title", "source_sha256"), "troops-head-to-libya"),  # found by its file name
    (("slug", "source_sha256"), "renamed-by-the-editor"),  # ... or by its title
], ids=["by-file-name", "by-title"])
def test_an_article_whose_source_line_was_deleted_stays_its_editors_without_a_cache(
        site: SiteConfig, deleted: tuple[str, ...], name: str) -> None:
    """No build cache (a fresh clone, CI, --clean): the article is still the seed's."""
    add_seed(site, "001_aaaaaaaaaaaaaaaa.txt", SIMPLE)
    ingest(site)
    path = site.root / article_path(name)
    (site.root / article_path("troops-head-to-libya")).rename(path)
    edited = delete_source_line(path, *deleted)
    report = ingest(site)
    assert (report.written, report.failed) == ([], 0)
    add_seed(site, "001_aaaaaaaaaaaaaaaa.txt", SIMPLE + "\n\nBody three.")
    for known in (None, None, report.records):  # a cold build, again, then a warm one
        report = ingest(site, known)
        assert summary(report) == (0, 0, 1, 0)
        [warning] = report.diagnostics
        assert warning.message == TAKEN_OVER.replace("troops-head-to-libya", name)
        assert warning.location == SourceLocation(article_path(name))
        assert warning.hint is not None and "source: seeds/001_aaaaaaaaaaaaaaaa.txt" in warning.hint
        assert path.read_bytes() == edited
        assert [p.name for p in (site.root / "content" / "articles").iterdir()] == [path.name]


def test_an_article_whose_source_line_was_deleted_from_an_unchanged_seed_is_quiet(
        site: SiteConfig) -> None:
    # Renamed and retitled too: its source_sha256 still matches the seed's bytes.
    add_seed(site, "001_aaaaaaaaaaaaaaaa.txt", SIMPLE)
    ingest(site)
    path = site.root / article_path("renamed-by-the-editor")
    (site.root / article_path("troops-head-to-libya")).rename(path)
    edited = delete_source_line(path, "title", "slug")
    for _ in range(2):
        report = ingest(site)
        assert summary(report) == (0, 1, 0, 0) and report.diagnostics == []
        assert report.records["seeds/001_aaaaaaaaaaaaaaaa.txt"][2] == \
            "content/articles/renamed-by-the-editor.md"
    assert path.read_bytes() == edited
    assert [p.name for p in (site.root / "content" / "articles").iterdir()] == [path.name]


def test_a_hand_written_article_with_the_seeds_headline_is_not_taken(site: SiteConfig) -> None:
    # Only what ingest wrote (its bookkeeping lines) can be the seed's article without naming it.
    mine = site.root / article_path("troops-head-to-libya")
    mine.write_text("---\ntitle: Troops head to Libya\ndate: 2016-01-01\n---\n\nMine.\n",
                    encoding="utf-8")
    add_seed(site, "001_aaaaaaaaaaaaaaaa.txt", SIMPLE)
    assert ingest(site).written == [article_path("troops-head-to-libya-aaaaaaaa")]


def test_an_article_whose_source_line_was_deleted_is_taken_over(site: SiteConfig) -> None:
    add_seed(site, "001_aaaaaaaaaaaaaaaa.txt", SIMPLE)
    first = ingest(site)
    path = site.root / article_path("troops-head-to-libya")
    path.write_text(path.read_text(encoding="utf-8").replace("source: seeds/", "# was: "),
                    encoding="utf-8")
    edited = path.read_bytes()
    # The last build's records (the build cache) still say which article the seed became.
    add_seed(site, "001_aaaaaaaaaaaaaaaa.txt", SIMPLE + "\n\nBody three.")
    report = ingest(site, first.records)
    assert (report.written, report.kept) == ([], [article_path("troops-head-to-libya")])
    assert path.read_bytes() == edited
    assert [p.name for p in (site.root / "content" / "articles").iterdir()] == [path.name]


def test_newsgen_ingest_reads_the_last_builds_records(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "site")
    assert run_cli(root, "build", "--no-search", "--no-daemon").returncode == 0
    [article] = (root / "content" / "articles").glob("*.md")
    article.write_text("\n".join(line for line in article.read_text(encoding="utf-8").splitlines()
                                 if not line.startswith("source:")) + "\n", encoding="utf-8")
    seed = next((root / "seeds").glob("*.txt"))
    seed.write_bytes(seed.read_bytes() + b"\n\nA late paragraph.")
    result = run_cli(root, "ingest")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ingest: 0 written, 0 unchanged, 1 kept (hand-edited)")
    assert [p.name for p in (root / "content" / "articles").glob("*.md")] == [article.name]


def test_a_headline_only_seed_is_a_draft_until_its_story_arrives(site: SiteConfig) -> None:
    add_seed(site, "a.txt", '"Troops head to Libya"\n')
    report = ingest(site)
    assert report.written == [article_path("troops-head-to-libya")]
    assert report.diagnostics[0].message.startswith("no body: the seed has only a headline; its "
                                                    "article is a draft")
    meta, body = read_article(site, article_path("troops-head-to-libya"))
    assert (meta["draft"], body) == (True, "")
    assert load_document(site.root / article_path("troops-head-to-libya"), site).meta.draft
    # The story arrives: the article is regenerated and published.
    add_seed(site, "a.txt", SIMPLE)
    assert ingest(site).written == [article_path("troops-head-to-libya")]
    meta, _ = read_article(site, article_path("troops-head-to-libya"))
    assert "draft" not in meta


def test_a_seed_that_loses_its_body_keeps_the_published_article(site: SiteConfig) -> None:
    add_seed(site, "a.txt", SIMPLE)
    ingest(site)
    path = site.root / article_path("troops-head-to-libya")
    published = path.read_bytes()
    add_seed(site, "a.txt", "Troops head to Libya\n")  # a broken feed, most likely
    report = ingest(site)
    assert summary(report) == (0, 0, 1, 0)
    [warning] = report.diagnostics
    assert warning.message == ("seeds/a.txt now has only a headline; kept "
                               "content/articles/troops-head-to-libya.md as it was")
    assert warning.hint is not None and "draft: true" in warning.hint
    assert path.read_bytes() == published


def test_ingest_writes_only_articles(site: SiteConfig) -> None:
    add_seed(site, "a.txt", SIMPLE)
    add_seed(site, "b.txt", b"")
    seeds = snapshot(site.root / "seeds")
    config_bytes = site.path.read_bytes()
    ingest(site)
    assert snapshot(site.root / "seeds") == seeds
    assert site.path.read_bytes() == config_bytes
    assert sorted(p.relative_to(site.root).as_posix() for p in site.root.rglob("*")
                  if p.is_file()) == ["content/articles/troops-head-to-libya.md", "seeds/a.txt",
                                      "seeds/b.txt", "site.toml"]


# --- slugs -------------------------------------------------------------------------------------


def test_same_headline_gets_distinct_slugs(site: SiteConfig) -> None:
    add_seed(site, "001_aaaaaaaaaaaaaaaa.txt", SIMPLE)
    add_seed(site, "002_bbbbbbbbbbbbbbbb.txt", SIMPLE.replace("Body one", "Other one"))
    add_seed(site, "003_bbbbbbbb00000000.txt", SIMPLE.replace("Body one", "Third one"))
    add_seed(site, "plain name.txt", SIMPLE.replace("Body one", "Fourth one"))
    report = ingest(site)
    assert report.written == [article_path("troops-head-to-libya"),
                              article_path("troops-head-to-libya-bbbbbbbb"),
                              article_path("troops-head-to-libya-bbbbbbbb-2"),
                              article_path("troops-head-to-libya-plain-name")]
    sources = {read_article(site, p)[0]["source"] for p in report.written}
    assert len(sources) == 4
    # Stable: nothing moves on the next run.
    assert summary(ingest(site)) == (0, 4, 0, 0)


def test_slug_never_takes_a_hand_written_article(site: SiteConfig) -> None:
    mine = site.root / article_path("troops-head-to-libya")
    mine.write_text("---\ntitle: Mine\ndate: 2016-01-01\n---\n\nMine.\n", encoding="utf-8")
    add_seed(site, "001_aaaaaaaaaaaaaaaa.txt", SIMPLE)
    assert ingest(site).written == [article_path("troops-head-to-libya-aaaaaaaa")]
    assert mine.read_text(encoding="utf-8").endswith("Mine.\n")


@pytest.mark.parametrize(("headline", "slug"), [("Con", "con-1"), ("日本のニュース", "日本のニュース"),
                                                ("Straße", "strasse"), ("..", "untitled")])
def test_slug_from_awkward_headlines(site: SiteConfig, headline: str, slug: str) -> None:
    add_seed(site, "a.txt", f"{headline}\n\nStandfirst\n\nBody.\n\nMore.")
    assert ingest(site).written == [article_path(slug)]


# --- bad seeds ---------------------------------------------------------------------------------


def test_bad_seeds_do_not_stop_the_others(site: SiteConfig) -> None:
    add_seed(site, "001_binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    add_seed(site, "002_empty.txt", b"")
    add_seed(site, "003_good.txt", SIMPLE)
    add_seed(site, "004_utf16.txt", "Headline\n\nBody".encode("utf-16"))
    report = ingest(site)
    assert report.written == [article_path("troops-head-to-libya")]
    assert report.failed == 3
    errors = [d for d in report.diagnostics if d.severity == "error"]
    assert [str(d.location) for d in errors] == [
        "seeds/001_binary.txt", "seeds/002_empty.txt", "seeds/004_utf16.txt"]
    assert all(d.hint for d in errors)


def test_bad_seeds_through_the_cli(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "project")
    (root / "seeds" / "900_empty.txt").write_bytes(b"")
    (root / "seeds" / "901_binary.txt").write_bytes(bytes(range(256)))
    (root / "seeds" / "902_good.txt").write_text(SIMPLE, encoding="utf-8")
    result = run_cli(root, "ingest")
    assert result.returncode == 1
    assert result.stdout == "ingest: 1 written, 1 unchanged, 0 kept (hand-edited), 2 failed\n"
    assert "seeds/900_empty.txt: error: seeds/900_empty.txt is empty" in result.stderr
    assert "seeds/901_binary.txt: error: seeds/901_binary.txt is not a text file" in result.stderr
    assert result.stderr.count("  hint: ") == 3  # the errors', and the good seed's dating
    assert "seeds/902_good.txt: warning: no date line" in result.stderr
    assert (root / article_path("troops-head-to-libya")).is_file()


def test_unreadable_seed(site: SiteConfig) -> None:
    (site.root / "seeds" / "folder.txt").mkdir()  # not a file: skipped, not a crash
    add_seed(site, "a.txt", SIMPLE)
    assert summary(ingest(site)) == (1, 0, 0, 0)


# --- every SEED-FORMAT variant -----------------------------------------------------------------

BODY = "\n\nThe standfirst\n\nBody one.\n\nBody two."
VARIANTS: dict[str, tuple[bytes, dict[str, Any]]] = {
    "headline-unquoted": (f"Troops head to Libya{BODY}".encode(),
                          {"title": "Troops head to Libya"}),
    "headline-straight-quotes": (f'"Troops head to Libya"{BODY}'.encode(),
                                 {"title": "Troops head to Libya"}),
    "headline-curly-quotes": (f"“Troops head to Libya”{BODY}".encode(),
                              {"title": "Troops head to Libya"}),
    "headline-inner-quotes": (f"“Trump: ‘We will win’ in Libya”{BODY}".encode(),
                              {"title": "Trump: ‘We will win’ in Libya"}),
    "no-standfirst": (b"Headline\n\nBy Jane Doe\n\nBody one.\n\nBody two.",
                      {"summary": "", "authors": ["Jane Doe"]}),
    "no-repeated-headline": (b"Headline\n\nStandfirst\n\nPhoto: AP\n\nBody one.\n\nBody two.",
                             {"summary": "Standfirst", "image_credit": "AP"}),
    "repeated-headline-other-case": (
        b'"Troops head to Libya"\n\nStandfirst\n\n\xe2\x80\x9cTROOPS HEAD TO LIBYA\xe2\x80\x9d\n\n'
        b"Body one.\n\nBody two.", {"summary": "Standfirst"}),
    "credit-reuters": (f"Headline{BODY}".replace("Body one", "Photo: Reuters/Jane Doe\n\nBody one")
                       .encode(), {"image_credit": "Reuters/Jane Doe"}),
    "credit-photograph": (b"Headline\n\nStandfirst\n\nPhotograph: Jane Doe/The Guardian\n\n"
                          b"Body one.\n\nBody two.", {"image_credit": "Jane Doe/The Guardian"}),
    "credit-image": (b"Headline\n\nStandfirst\n\nImage: Getty Images\n\nBody one.\n\nBody two.",
                     {"image_credit": "Getty Images"}),
    "credit-ap-photo": (b"Headline\n\nStandfirst\n\n(AP Photo/Jane Doe)\n\nBody one.\n\nBody two.",
                        {"image_credit": "AP Photo/Jane Doe"}),
    "no-credit": (f"Headline{BODY}".encode(), {"image_credit": ""}),
    "caption-beside-credit": (
        b"Headline\n\nStandfirst\n\nPhoto: Reuters/Jane Doe\nProtesters gather in Cairo.\n\n"
        b"Body one.\n\nBody two.",
        {"image_credit": "Reuters/Jane Doe", "image_caption": "Protesters gather in Cairo."}),
    "byline-two-authors": (b"Headline\n\nStandfirst\n\nBy Jane Doe and John Roe\n\nBody one.",
                           {"authors": ["Jane Doe", "John Roe"]}),
    "byline-agency": (b"Headline\n\nStandfirst\n\nJane Doe, Reuters\n\nBody one.\n\nBody two.",
                      {"authors": ["Jane Doe"]}),
    "dateline-dash": ("Headline\n\nStandfirst\n\nWASHINGTON — Body one.\n\nBody two.".encode(),
                      {"dateline": "WASHINGTON"}),
    "dateline-agency": (b"Headline\n\nStandfirst\n\nLONDON (Reuters) - Body one.\n\nBody two.",
                        {"dateline": "LONDON (Reuters)"}),
    "date-published": (b"Headline\n\nStandfirst\n\nPublished: 2016-04-21\n\nBody one.\n\nBody two.",
                       {"date": "2016-04-21T00:00:00+00:00"}),
    "date-words": (b"Headline\n\nStandfirst\n\nApril 21, 2016\n\nBody one.\n\nBody two.",
                   {"date": "2016-04-21T00:00:00+00:00"}),
    "date-zone": (b"Headline\n\nStandfirst\n\nApril 21, 2016 10:30 AM EDT\n\nBody one.\n\n"
                  b"Body two.", {"date": "2016-04-21T10:30:00-04:00"}),
    "date-guardian": (b"Headline\n\nStandfirst\n\nThu 21 Apr 2016 15.00 BST First published on "
                      b"Thu 21 Apr 2016 13.00 BST\n\nBody one.\n\nBody two.",
                      {"date": "2016-04-21T13:00:00+01:00",
                       "updated": "2016-04-21T15:00:00+01:00"}),
    "caption-above-credit": (b"Headline\n\nStandfirst\n\nRescue workers in Leeds on Monday.\n"
                             b"Photo: PA\n\nBody one.\n\nBody two.",
                             {"image_credit": "PA",
                              "image_caption": "Rescue workers in Leeds on Monday."}),
    "caption-guardian": (b"Headline\n\nStandfirst\n\nSoldiers patrol the streets of Tripoli. "
                         b"Photograph: Getty Images\n\nBody one.\n\nBody two.",
                         {"image_credit": "Getty Images",
                          "image_caption": "Soldiers patrol the streets of Tripoli."}),
    "crlf": (b"Headline\r\n\r\nStandfirst\r\n\r\nBody one.\r\n\r\nBody two.\r\n",
             {"title": "Headline", "summary": "Standfirst"}),
    "cr": (b"Headline\r\rStandfirst\r\rBody one.\r\rBody two.", {"summary": "Standfirst"}),
    "bom": (b"\xef\xbb\xbfHeadline\n\nStandfirst\n\nBody one.\n\nBody two.", {"title": "Headline"}),
    "trailing-whitespace-and-tabs": (
        b"Headline  \t\n \n\nStandfirst\t\n\n\n\n\n\tBody\tone.  \n\nBody two.\t",
        {"title": "Headline", "summary": "Standfirst"}),
    "markup-lookalikes": (
        b"*Not* a _headline_: #1\n\nStandfirst with <b>tags</b> & [links](x)\n\n"
        b"# Not a heading\n\n1. Not a list\n\n<script>alert('x')</script> &amp; &lt;\n\n"
        b"- dash `code` \\escaped",
        {"title": "*Not* a _headline_: #1", "summary": "Standfirst with <b>tags</b> & [links](x)"}),
    "yaml-lookalike-headline": (b"- yes: no # null\n\n'Standfirst': {a}\n\nBody one.\n\nBody two.",
                                {"title": "- yes: no # null", "summary": "'Standfirst': {a}"}),
    "windows-1252": ("Café “news” – ok\n\nStandfirst\n\nBody one.\n\nBody two.".encode("cp1252"),
                     {"title": "Café “news” – ok"}),
    "headline-only": (b'"Just a headline"\n', {"title": "Just a headline", "summary": "",
                                               "draft": True}),
    "long": (b"Headline\n\nStandfirst\n\n" + b"\n\n".join(
        [SAMPLE.read_bytes().split(b"\n\n")[-1]] * 2500), {"title": "Headline"}),
}
BAD_VARIANTS = {
    "empty": (b"", "is empty"),
    "blank-lines-only": (b"\xef\xbb\xbf\n \n\t\r\n", "is empty"),
    "png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is not a text file"),
    "utf-16": ("Headline\n\nBody".encode("utf-16"), "is not a text file"),
}


@pytest.fixture(scope="module")
def variants_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[SiteConfig, IngestReport]:
    """All variants ingested together, so one bad seed is seen not to stop the others."""
    config = make_site(tmp_path_factory.mktemp("variants"))
    for index, name in enumerate([*VARIANTS, *BAD_VARIANTS]):
        raw = VARIANTS[name][0] if name in VARIANTS else BAD_VARIANTS[name][0]
        add_seed(config, f"{index:03d}_{name}.txt", raw)
    return config, ingest(config)


def written_for(config: SiteConfig, report: IngestReport, name: str) -> Path:
    [path] = [p for p in report.written if read_article(config, p)[0]["source"].endswith(
        f"_{name}.txt")]
    return path


@pytest.mark.parametrize("name", list(VARIANTS))
def test_variant_ingests(variants_site: tuple[SiteConfig, IngestReport], name: str) -> None:
    config, report = variants_site
    raw, expected = VARIANTS[name]
    path = written_for(config, report, name)
    meta, _ = read_article(config, path)
    assert {key: meta.get(key, "") for key in expected} == expected
    # Whatever the seed stage read, the article says exactly that...
    seed = parse_seed(raw, Path(meta["source"]))
    assert meta["title"] == seed.headline
    assert meta["summary"] == (seed.standfirst or "")
    assert meta["authors"] == list(seed.authors)
    assert meta.get("dateline") == seed.dateline
    assert meta.get("image_caption") == seed.image_caption
    # ...loads in the content stage, and renders every paragraph literally.
    doc = load_document(config.root / path, config)
    assert doc.meta.title == seed.headline
    assert rendered_paragraphs(config, path) == [visible_text(p) for p in seed.paragraphs]


@pytest.mark.parametrize("name", list(BAD_VARIANTS))
def test_bad_variant_gets_a_clear_per_file_error(
        variants_site: tuple[SiteConfig, IngestReport], name: str) -> None:
    _, report = variants_site
    [error] = [d for d in report.diagnostics
               if d.location and d.location.path.name.endswith(f"_{name}.txt")]
    assert error.severity == "error"
    assert error.message.endswith(BAD_VARIANTS[name][1])
    assert error.location is not None and error.location.path.parent == Path("seeds")
    assert error.hint


def test_variants_summary(variants_site: tuple[SiteConfig, IngestReport]) -> None:
    _, report = variants_site
    assert summary(report) == (len(VARIANTS), 0, 0, len(BAD_VARIANTS))
    warnings = {d.location.path.name.split("_", 1)[1] for d in report.diagnostics
                if d.severity == "warning" and d.location}
    # Fallbacks are said out loud.
    assert {"no-standfirst.txt", "windows-1252.txt", "headline-only.txt"} <= warnings


# --- front matter survives any text ------------------------------------------------------------

LINE = st.text(st.characters(exclude_categories=("Cs",)), min_size=1).map(
    lambda t: " ".join(t.split())).filter(bool)


@settings(max_examples=200, deadline=None)
@given(headline=LINE, standfirst=st.none() | LINE, credit=st.none() | LINE,
       authors=st.lists(LINE, max_size=3, unique=True), paragraphs=st.lists(LINE, max_size=3))
def test_any_text_round_trips_through_front_matter(
        tmp_path_factory: pytest.TempPathFactory, headline: str, standfirst: str | None,
        credit: str | None, authors: list[str], paragraphs: list[str]) -> None:
    config = _round_trip_site(tmp_path_factory)
    seed = Seed(path=Path("seeds/x.txt"), headline=headline, standfirst=standfirst,
                image_credit=credit, image_caption=None, authors=tuple(authors), dateline=None,
                date=None, paragraphs=tuple(paragraphs), warnings=())
    text = article_text(seed, "x", MTIME, "0" * 64, Path("seeds/x.txt"), config)
    assert not is_hand_edited(text)
    path = config.root / article_path("x")
    path.write_text(text, encoding="utf-8")
    doc = load_document(path, config)
    assert doc.meta.title == headline
    assert doc.meta.summary == (standfirst or "")
    assert doc.meta.image_credit == (credit or "")
    assert doc.meta.authors == tuple(authors)
    assert doc.meta.date == MTIME


_ROUND_TRIP: list[SiteConfig] = []


def _round_trip_site(factory: pytest.TempPathFactory) -> SiteConfig:
    if not _ROUND_TRIP:
        _ROUND_TRIP.append(make_site(factory.mktemp("roundtrip")))
    return _ROUND_TRIP[0]
