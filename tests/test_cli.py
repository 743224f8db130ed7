"""The command line as a user runs it: `python -m generator ...` in a project folder.

Exit codes: 0 success, 1 content/config errors (path:line, message and hint on stderr), 2 usage
errors. Fixture sites in tests/sites/invalid-*/ must each fail with the locations listed in their
expected.txt ("path:line[:column]<TAB>message start", one error per line).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import FIXED_EPOCH, age, copy_project, run_cli

from generator import __version__

SITES = Path(__file__).parent / "sites"
INVALID = sorted(p.name for p in SITES.glob("invalid-*") if p.is_dir())
DATED_SEED = ("Troops head to Libya\n\nThe standfirst\n\nPublished: 2016-04-21 09:30\n\n"
              "Body one.\n\nBody two.")
DATED_SLUG = "troops-head-to-libya"
# The build's own files in the project folder (cache and lock), outside the sources.
BOOKKEEPING = (".cache", ".newsgen.lock")


def hashes(folder: Path) -> dict[str, str]:
    """Every file (hidden ones too) under `folder` -> sha256 of its bytes."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


class _Headings(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.h1: list[str] = []
        self._in_h1 = False

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "h1":
            self._in_h1 = True
            self.h1.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "h1":
            self._in_h1 = False

    def handle_data(self, data: str) -> None:
        if self._in_h1:
            self.h1[-1] += data


def h1_text(path: Path) -> list[str]:
    parser = _Headings()
    parser.feed(path.read_text(encoding="utf-8"))
    return [text.strip() for text in parser.h1]


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """The project's sources without its sample article (so nothing depends on its date)."""
    return copy_project(tmp_path / "site", seeds=False, content=False)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project built once; tests copy it again before changing anything."""
    root = copy_project(tmp_path_factory.mktemp("built") / "site")
    (root / "seeds" / "900_dated.txt").write_text(DATED_SEED, encoding="utf-8")
    result = run_cli(root, "build")
    assert result.returncode == 0, result.stderr
    return root


def clone(built: Path, tmp_path: Path) -> Path:
    target = tmp_path / "site"
    shutil.copytree(built, target, symlinks=True)
    return target


# --- help, version, usage errors ---------------------------------------------------------------


def test_help(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: newsgen ")
    for command in ("ingest", "build", "new", "serve"):
        assert f"    {command} " in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize("command", ["ingest", "build", "new", "serve"])
def test_subcommand_help(tmp_path: Path, command: str) -> None:
    result = run_cli(tmp_path, command, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith(f"usage: newsgen {command} ")
    assert "-q, --quiet" in result.stdout and "-v, --verbose" in result.stdout
    assert not list(tmp_path.iterdir())  # help touches nothing


def test_build_help_documents_its_flags(tmp_path: Path) -> None:
    out = run_cli(tmp_path, "build", "--help").stdout
    for flag in ("--no-ingest", "--drafts", "--future", "--now", "--root"):
        assert flag in out


def test_version(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "--version")
    assert (result.returncode, result.stdout) == (0, f"newsgen {__version__}\n")


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--bogus"],
        ["frobnicate"],
        ["build", "--bogus"],
        ["build", "--now", "yesterday"],
        ["build", "-q", "-v"],
        ["build", "--jobs", "0"],
        ["new"],
        ["new", "--section"],
        ["ingest", "extra-argument"],
        ["serve", "--port", "http"],
    ],
    ids=lambda args: " ".join(args) or "no-command",
)
def test_usage_errors_exit_2(site: Path, args: list[str]) -> None:
    result = run_cli(site, *args)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("usage: newsgen")
    assert "error: " in result.stderr
    assert not (site / "public").exists()


# --- success, -q and -v ------------------------------------------------------------------------


def test_build_succeeds_and_reports(site: Path) -> None:
    (site / "seeds" / "900_dated.txt").write_text(DATED_SEED, encoding="utf-8")
    result = run_cli(site, "build")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "ingest: 1 written, 0 unchanged, 0 kept, 0 failed"
    assert lines[1].startswith("built ") and " pages, " in lines[1] and " feeds, " in lines[1]
    assert "warning(s)" in lines[1]
    assert lines[-1] == f"site: {site.resolve() / 'public'}/ (preview it with `newsgen serve`)"
    assert (site / "public" / "index.html").is_file()
    assert (site / "public" / ".nojekyll").is_file()


def test_the_command_exits_fast_but_leaves_everything_finished(site: Path) -> None:
    # cli.run() ends with os._exit (no interpreter teardown): output must still be flushed to
    # a pipe, the exit code kept, and the cache closed, its write-ahead log folded back in.
    result = run_cli(site, "build", "--no-search", "-v")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == (
        f"site: {site.resolve() / 'public'}/ (preview it with `newsgen serve`)")
    cache = site / ".cache"
    assert (cache / "newsgen.sqlite").is_file()
    assert not (cache / "newsgen.sqlite-wal").exists()
    broken = run_cli(site, "build", "--now", "not-a-date")
    assert broken.returncode == 2 and "not an ISO 8601 date-time" in broken.stderr
    # Started with standard output closed (`newsgen build >&-`): nothing to flush, still 0.
    closed = subprocess.run(["bash", "-c", f"'{sys.executable}' -m generator build >&-"],
                            cwd=site, capture_output=False, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "SOURCE_DATE_EPOCH": FIXED_EPOCH}, check=False)
    assert closed.returncode == 0, closed.stderr
    # And with both closed (`>&- 2>&-`, as some schedulers start jobs): the progress line
    # asked a missing stderr whether it was a terminal.
    both = subprocess.run(["bash", "-c", f"'{sys.executable}' -m generator build --clean >&- 2>&-"],
                          cwd=site, env={**os.environ, "SOURCE_DATE_EPOCH": FIXED_EPOCH},
                          check=False)
    assert both.returncode == 0
    (site / "site.toml").write_text("title = [\n", encoding="utf-8")
    failed = run_cli(site, "build")
    assert failed.returncode == 1 and "site.toml:" in failed.stderr


def test_quiet_prints_nothing_on_success(site: Path) -> None:
    (site / "seeds" / "900_dated.txt").write_text(DATED_SEED, encoding="utf-8")
    for args in (["ingest", "-q"], ["build", "-q"], ["build", "--quiet", "--no-ingest"],
                 ["new", "-q", "Quiet story"]):
        result = run_cli(site, *args)
        assert (result.returncode, result.stdout, result.stderr) == (0, "", ""), args
    assert (site / "public" / "index.html").is_file()
    assert (site / "content" / "articles" / "quiet-story.md").is_file()


def test_quiet_hides_warnings_but_not_errors(site: Path) -> None:
    (site / "seeds" / "900_no_standfirst.txt").write_text("Headline\n\nOnly one paragraph.",
                                                           encoding="utf-8")
    assert run_cli(site, "ingest", "-q").stderr == ""
    (site / "seeds" / "901_empty.txt").write_bytes(b"")
    result = run_cli(site, "ingest", "-q")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "seeds/901_empty.txt: error: " in result.stderr


def test_verbose_prints_stage_timings(site: Path) -> None:
    (site / "seeds" / "900_dated.txt").write_text(DATED_SEED, encoding="utf-8")
    result = run_cli(site, "build", "-v")
    assert result.returncode == 0, result.stderr
    stages = {line.split()[0]: line.split()[-1] for line in result.stdout.splitlines()
              if line.startswith("  ") and line.rstrip().endswith(" ms")}
    assert {"ingest", "load", "index"} <= set(stages)
    assert any(stage.startswith("render") for stage in stages)
    for line in result.stdout.splitlines():
        if line.startswith("  ") and line.rstrip().endswith(" ms"):
            float(line.split()[-2])  # a number of milliseconds


def test_verbose_ingest_lists_written_files(site: Path) -> None:
    (site / "seeds" / "900_dated.txt").write_text(DATED_SEED, encoding="utf-8")
    result = run_cli(site, "ingest", "-v")
    assert result.returncode == 0
    assert f"  wrote content/articles/{DATED_SLUG}.md" in result.stdout.splitlines()


def test_global_options_before_the_command(site: Path, tmp_path: Path) -> None:
    # `newsgen --help` lists --root, -v and -q before COMMAND: they must work there too.
    (site / "seeds" / "900_dated.txt").write_text(DATED_SEED, encoding="utf-8")
    result = run_cli(site, "-v", "ingest")
    assert f"  wrote content/articles/{DATED_SLUG}.md" in result.stdout.splitlines()
    result = run_cli(site, "-q", "build")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run_cli(elsewhere, "--root", str(site), "build", "--no-ingest")
    assert result.returncode == 0, result.stderr


def test_root_option(site: Path, tmp_path: Path) -> None:
    (site / "seeds" / "900_dated.txt").write_text(DATED_SEED, encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run_cli(elsewhere, "build", "--root", str(site))
    assert result.returncode == 0, result.stderr
    assert (site / "public" / "2016" / "04" / DATED_SLUG / "index.html").is_file()
    assert list(elsewhere.iterdir()) == []


# --- ingest as part of build -------------------------------------------------------------------


def test_build_ingests_first(site: Path) -> None:
    (site / "seeds" / "900_dated.txt").write_text(DATED_SEED, encoding="utf-8")
    assert run_cli(site, "build").returncode == 0
    assert (site / "content" / "articles" / f"{DATED_SLUG}.md").is_file()
    page = site / "public" / "2016" / "04" / DATED_SLUG / "index.html"
    assert h1_text(page) == ["Troops head to Libya"]


def test_build_without_ingest(site: Path) -> None:
    (site / "seeds" / "900_dated.txt").write_text(DATED_SEED, encoding="utf-8")
    result = run_cli(site, "build", "--no-ingest")
    assert result.returncode == 0, result.stderr
    assert "ingest:" not in result.stdout
    assert list((site / "content" / "articles").iterdir()) == []
    assert not (site / "public" / "2016").exists()


def test_build_with_a_bad_seed_ingests_the_others_and_exits_1(site: Path) -> None:
    (site / "seeds" / "900_dated.txt").write_text(DATED_SEED, encoding="utf-8")
    (site / "seeds" / "901_binary.txt").write_bytes(b"\x00\x01\x02binary")
    result = run_cli(site, "build")
    assert result.returncode == 1
    assert "seeds/901_binary.txt: error: seeds/901_binary.txt is not a text file" in result.stderr
    assert "  hint: " in result.stderr
    assert (site / "content" / "articles" / f"{DATED_SLUG}.md").is_file()


# --- errors: exit 1 with path:line and a hint --------------------------------------------------


def expected_errors(name: str) -> list[tuple[str, str]]:
    lines = (SITES / name / "expected.txt").read_text(encoding="utf-8").splitlines()
    return [(where, message) for where, message in (line.split("\t", 1) for line in lines)]


@pytest.mark.parametrize("name", INVALID)
def test_invalid_site_fails_at_the_right_place(tmp_path: Path, name: str) -> None:
    root = copy_project(tmp_path / "site", seeds=False, content=False)
    shutil.copytree(SITES / name, root, dirs_exist_ok=True)
    (root / "expected.txt").unlink()
    sources = hashes(root)
    result = run_cli(root, "build", "--no-ingest")
    assert result.returncode == 1, result.stdout + result.stderr
    # Paths print relative to the project, or absolute for site.toml: compare without the root.
    stderr = result.stderr.replace(f"{root.resolve()}/", "")
    lines = stderr.splitlines()
    for where, message in expected_errors(name):
        [index] = [i for i, line in enumerate(lines) if line.startswith(f"{where}: error: ")]
        assert lines[index].removeprefix(f"{where}: error: ").startswith(message), lines[index]
        assert lines[index + 1].startswith("  hint: "), stderr
    assert stderr.count(": error: ") == len(expected_errors(name)), stderr
    assert not (root / "public").exists()
    # A failed build never writes into the sources (the build cache and lock may appear).
    assert {k: v for k, v in hashes(root).items() if not k.startswith(BOOKKEEPING)} == sources


def test_invalid_sites_exist() -> None:
    assert len(INVALID) >= 8


def test_config_error_shows_the_offending_line(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "site", seeds=False, content=False)
    shutil.copy(SITES / "invalid-config-unknown-key" / "site.toml", root / "site.toml")
    result = run_cli(root, "ingest")
    assert result.returncode == 1
    assert "  hint: did you mean 'paginate'?" in result.stderr
    assert ">  8 | paginat = 10" in result.stderr


def test_missing_site_toml(tmp_path: Path) -> None:
    for command in (["build"], ["ingest"], ["new", "Headline"]):
        result = run_cli(tmp_path, *command)
        assert result.returncode == 1
        assert f"{tmp_path.resolve()}/site.toml: error: site.toml not found" in result.stderr
        assert "  hint: " in result.stderr
    assert list(tmp_path.iterdir()) == []


# --- new ---------------------------------------------------------------------------------------


def test_new_article_is_a_draft_until_published(site: Path) -> None:
    result = run_cli(site, "new", "Some headline")
    assert (result.returncode, result.stdout) == (0, "created content/articles/some-headline.md\n")
    path = site / "content" / "articles" / "some-headline.md"
    meta = yaml.safe_load(path.read_text(encoding="utf-8").split("---\n")[1])
    assert meta["title"] == "Some headline"
    assert meta["draft"] is True
    assert meta["section"] == "news"
    # Dated "now" (SOURCE_DATE_EPOCH here), in the site's time zone.
    assert datetime.fromisoformat(meta["date"]).timestamp() == int(FIXED_EPOCH)
    url = datetime.fromisoformat(meta["date"]).strftime("%Y/%m") + "/some-headline/index.html"

    assert run_cli(site, "build", "--no-ingest").returncode == 0
    assert not (site / "public" / url).exists()
    assert "some-headline" not in (site / "public" / "index.html").read_text(encoding="utf-8")

    result = run_cli(site, "build", "--no-ingest", "--drafts")
    assert result.returncode == 0, result.stderr
    assert h1_text(site / "public" / url) == ["Some headline"]

    assert run_cli(site, "build", "--no-ingest").returncode == 0
    assert not (site / "public" / url).exists()  # gone again without --drafts


def test_new_refuses_to_overwrite(site: Path) -> None:
    assert run_cli(site, "new", "Some headline").returncode == 0
    path = site / "content" / "articles" / "some-headline.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nMy words.\n", encoding="utf-8")
    before = path.read_bytes()
    result = run_cli(site, "new", "Some Headline!")
    assert result.returncode == 1
    assert "content/articles/some-headline.md already exists" in result.stderr
    assert "  hint: " in result.stderr
    assert path.read_bytes() == before


def test_new_page_and_section(site: Path) -> None:
    result = run_cli(site, "new", "--page", "Contact the desk")
    assert result.stdout == "created content/pages/contact-the-desk.md\n"
    page = yaml.safe_load((site / "content" / "pages" / "contact-the-desk.md")
                          .read_text(encoding="utf-8").split("---\n")[1])
    assert page == {"title": "Contact the desk", "draft": True}
    assert run_cli(site, "new", "--section", "world", "Troops").returncode == 0
    article = (site / "content" / "articles" / "troops.md").read_text(encoding="utf-8")
    assert "\nsection: world\n" in article
    assert run_cli(site, "build", "--no-ingest").returncode == 0
    # A draft until the editor says otherwise, like an article: the placeholder stays offline.
    assert not (site / "public" / "contact-the-desk").exists()
    assert run_cli(site, "build", "--no-ingest", "--drafts").returncode == 0
    assert h1_text(site / "public" / "contact-the-desk" / "index.html") == ["Contact the desk"]


def test_new_with_an_unknown_section(site: Path) -> None:
    result = run_cli(site, "new", "--section", "weather", "Rain")
    assert result.returncode == 1
    assert "unknown section 'weather'" in result.stderr
    assert not (site / "content" / "articles" / "rain.md").exists()


def test_new_with_an_awkward_title(site: Path) -> None:
    result = run_cli(site, "new", 'Breaking: "yes" # no')
    assert result.stdout == "created content/articles/breaking-yes-no.md\n"
    assert run_cli(site, "build", "--no-ingest", "--drafts").returncode == 0
    [page] = (site / "public").glob("*/*/breaking-yes-no/index.html")
    assert h1_text(page) == ['Breaking: "yes" # no']


# --- a failed build changes nothing ------------------------------------------------------------


def _break_content(root: Path) -> None:
    (root / "content" / "articles" / "broken.md").write_text(
        "---\ntitle: Broken\ndate: 2016-04-21\ntags: [unclosed\n---\n\nBody.\n", encoding="utf-8")


def _break_template(root: Path) -> None:
    # Every page changes (new site title), and one page kind fails late in the render.
    config = root / "site.toml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        'title = "The Daily Seed"', 'title = "The Changed Seed"'), encoding="utf-8")
    (root / "layouts" / "404.html").write_text(
        '{% extends "base.html" %}{% block main %}{{ no_such_variable.x }}{% endblock %}',
        encoding="utf-8")


def _break_seed(root: Path) -> None:
    (root / "seeds" / "999_binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")


def _break_config(root: Path) -> None:
    config = root / "site.toml"
    config.write_text(config.read_text(encoding="utf-8") + "\nunknown_key = 1\n", encoding="utf-8")


def _new_article_and_broken_one(root: Path) -> None:
    # One good new article (the site would change) and one bad one: nothing is published.
    (root / "seeds" / "950_new.txt").write_text(DATED_SEED.replace("Troops", "Ships"),
                                                encoding="utf-8")
    _break_content(root)


@pytest.mark.parametrize(
    "breakage",
    [_break_content, _break_template, _break_seed, _break_config, _new_article_and_broken_one],
    ids=["content", "template", "seed", "config", "new-and-broken"],
)
def test_failed_build_leaves_public_intact(built: Path, tmp_path: Path, breakage: Any) -> None:
    root = clone(built, tmp_path)
    public = hashes(root / "public")
    assert public, "the first build wrote nothing"
    breakage(root)
    content, seeds = hashes(root / "content"), hashes(root / "seeds")
    result = run_cli(root, "build")
    assert result.returncode == 1, result.stdout + result.stderr
    assert ": error: " in result.stderr
    assert hashes(root / "public") == public
    if breakage is not _new_article_and_broken_one:
        assert hashes(root / "content") == content  # ingest only writes new or changed seeds
    assert hashes(root / "seeds") == seeds
    leftovers = [p.name for p in root.iterdir() if p.name not in
                 {"site.toml", "layouts", "seeds", "content", "public", *BOOKKEEPING}]
    assert leftovers == []  # no staging folders left behind


def test_rebuild_after_fixing_the_error(built: Path, tmp_path: Path) -> None:
    root = clone(built, tmp_path)
    _break_content(root)
    assert run_cli(root, "build").returncode == 1
    (root / "content" / "articles" / "broken.md").unlink()
    result = run_cli(root, "build")
    assert result.returncode == 0, result.stderr
    assert hashes(root / "public") == hashes(built / "public")


# --- start-up cost ---------------------------------------------------------------------------

# What a build that finds nothing changed must not import: Markdown, Jinja, YAML and the seed
# parser cost it 60 ms of its ~130 (see the README's benchmark). A module-level import added to
# the wrong module would put them back silently; timing is too noisy to catch it. (The `newsgen`
# command, which scans in a child, imports some of them on purpose while it waits: main()
# without scan_ahead never does.)
HEAVY_MODULES = ("markdown", "jinja2", "yaml", "frontmatter", "generator.seed", "generator.seedlines",
                 "generator.render")


def test_a_no_change_build_imports_no_renderer(built: Path, tmp_path: Path) -> None:
    root = tmp_path / "site"
    shutil.copytree(built, root)
    probe = ("import sys\nfrom generator.cli import main\ncode = main(['build', '--no-search'])\n"
             f"print(code, *sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules))\n")
    age(root)
    first = run_cli(root, "build", "--no-search")
    assert first.returncode == 0, first.stderr
    result = subprocess.run([sys.executable, "-c", probe], cwd=root, capture_output=True,
                            text=True, timeout=120, check=False,
                            env={**os.environ, "SOURCE_DATE_EPOCH": FIXED_EPOCH})
    assert result.returncode == 0, result.stderr
    *_, last = result.stdout.splitlines()
    assert "up to date" in result.stdout, result.stdout
    assert last == "0", f"a no-change build imported: {last.split()[1:]}"
