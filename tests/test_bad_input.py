"""Bad input through the command line: a clear error (file, line, hint), exit 1, nothing lost.

Each case starts from a built project, breaks one input and runs `newsgen build` (in-process
through `cli.main`, or in a subprocess where a hang or a privilege drop is at stake). Afterwards
public/, content/, seeds/, layouts/ and site.toml are byte for byte what they were, and nothing
appeared outside public/. Unit-level message details live in test_config, test_content,
test_seed, test_ingest and test_templates; tests/sites/invalid-* cover the front-matter cases.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from conftest import FIXED_EPOCH, ROOT, copy_project, run_cli
from htmlutil import parse
from sitefactory import NOW, Article, corpus, write_article, write_project

from generator.cli import main

SOURCES = ("public", "content", "seeds", "layouts", "site.toml")
BOOKKEEPING = {".cache", ".newsgen.lock"}
SAMPLE_SEED = ROOT / "seeds" / "000_58ad658e4daf8054.txt"
Breakage = Callable[[Path], None]


def snapshot(root: Path, names: tuple[str, ...] = SOURCES) -> dict[str, str]:
    """sha256 of every file under the named folders (and files) of the project."""
    found = {}
    for name in names:
        path = root / name
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            found[file.relative_to(root).as_posix()] = hashlib.sha256(file.read_bytes()).hexdigest()
    return found


@pytest.fixture(autouse=True)
def _fixed_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", FIXED_EPOCH)


def newsgen(root: Path, *args: str) -> tuple[int, str, str]:
    """`newsgen ARGS --root ROOT` in this process: (exit code, stdout, stderr with the project
    path removed). An exception escaping `main` fails the test, as a traceback would."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([*args, "--root", str(root)])
    return code, out.getvalue(), err.getvalue().replace(f"{root.resolve()}/", "")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six articles, the about page and the sample seed, built once."""
    root = write_project(tmp_path_factory.mktemp("bad-input") / "site", corpus(6))
    shutil.copy(SAMPLE_SEED, root / "seeds")
    result = run_cli(root, "build", "--no-search")
    assert result.returncode == 0, result.stderr
    return root


@pytest.fixture
def site(built: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(built, tmp_path / "site", symlinks=True))


def key_line(root: Path, key: str) -> int:
    lines = (root / "site.toml").read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.startswith(f"{key} "))


def set_key(root: Path, key: str, value: str) -> None:
    config = root / "site.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(re.sub(rf"(?m)^{key} = .*$", lambda _: f"{key} = {value}", text, count=1),
                      encoding="utf-8")


def assert_fails_cleanly(root: Path, *args: str, errors: list[tuple[str, str]]) -> str:
    """Build: exit 1, every expected `where: error: message...` line followed by a hint, and
    public/ and the sources unchanged. Returns stderr."""
    before = snapshot(root)
    assert before.get("public/index.html"), "the project has no previous site"
    code, out, err = newsgen(root, "build", "--no-search", *args)
    assert code == 1, out + err
    lines = err.splitlines()
    for where, message in errors:
        found = [i for i, line in enumerate(lines) if line.startswith(f"{where}: error: ")]
        assert found, f"no error at {where}:\n{err}"
        assert lines[found[0]].removeprefix(f"{where}: error: ").startswith(message), err
        assert lines[found[0] + 1].startswith("  hint: "), err
    assert snapshot(root) == before
    return err


# --- site.toml (invalid TOML, unknown keys, wrong types, a missing file: see test_cli) ----------

CONFIG_CASES = {
    "base-url-without-scheme": ("base_url", '"example.github.io/news/"',
                                "base_url 'example.github.io/news/' is not an absolute http(s) URL"),
    "base-url-with-query": ("base_url", '"https://example.org/news/?x=1"', "base_url "),
    "time-zone": ("timezone", '"Mars/Olympus_Mons"', "unknown time zone 'Mars/Olympus_Mons'"),
    "permalink-without-slash": ("permalink", '"/{year}/{slug}"', "bad permalink pattern"),
    "permalink-unknown-field": ("permalink", '"/{year}/{author}/{slug}/"', "bad permalink pattern"),
    "permalink-without-slug": ("permalink", '"/{year}/{month}/"', "bad permalink pattern"),
    "permalink-climbing": ("permalink", '"/../../{slug}/"', "bad permalink pattern"),
    "permalink-stray-brace": ("permalink", '"/{slug}/{/"', "bad permalink pattern"),
}


@pytest.mark.parametrize("case", list(CONFIG_CASES))
def test_bad_config_value(site: Path, case: str) -> None:
    key, value, message = CONFIG_CASES[case]
    set_key(site, key, value)
    err = assert_fails_cleanly(site, errors=[(f"site.toml:{key_line(site, key)}", message)])
    assert "previous site was left in place" in err


@pytest.mark.parametrize("output", [".", "..", "/", "content", "layouts/static", "public/../..",
                                    "ROOT", "../neighbour", "archive"])
def test_dangerous_output_is_refused_before_anything_is_deleted(
        site: Path, tmp_path: Path, output: str) -> None:
    neighbour = copy_project(tmp_path / "neighbour", seeds=False)  # another project beside it
    # A folder inside the project holding someone's content/ (an old copy of the site).
    (site / "archive" / "content").mkdir(parents=True)
    (site / "archive" / "content" / "keep.md").write_text("---\ntitle: Keep\n---\n")
    value = str(site.resolve()) if output == "ROOT" else output
    set_key(site, "output", f'"{value}"')
    everything = snapshot(site, tuple(p.name for p in site.iterdir()))
    listing = sorted(p.name for p in tmp_path.iterdir())
    err = assert_fails_cleanly(site, errors=[(f"site.toml:{key_line(site, 'output')}",
                                              f"refusing output folder '{value}'")])
    assert "dedicated folder" in err
    assert snapshot(site, tuple(p.name for p in site.iterdir())) == everything
    assert sorted(p.name for p in tmp_path.iterdir()) == listing
    assert (neighbour / "content" / "pages" / "about.md").is_file()
    assert (site / "archive" / "content" / "keep.md").is_file()


# --- content/ (malformed YAML, missing title, bad dates, tags: 5, unknown section, bad UTF-8:
#     tests/sites/invalid-*) --------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00",
                                  b"---\ntitle: Nul\x00\n---\n"], ids=["png", "nul"])
def test_binary_file_in_content(site: Path, data: bytes) -> None:
    (site / "content" / "articles" / "photo.md").write_bytes(data)
    assert_fails_cleanly(site, errors=[("content/articles/photo.md", "binary file in content/")])


def test_two_articles_with_the_same_url_are_both_named(site: Path) -> None:
    original = site / "content" / "articles" / "story-01.md"
    (site / "content" / "articles" / "copy-of-story.md").write_bytes(original.read_bytes())
    err = assert_fails_cleanly(site, errors=[("content/articles/story-01.md", "")])
    [line] = [line for line in err.splitlines() if ": error: " in line]
    assert "content/articles/copy-of-story.md" in line and "both resolve to /news/" in line


def test_a_page_taking_a_listing_url_is_named(site: Path) -> None:
    (site / "content" / "pages" / "tags.md").write_text("---\ntitle: Our tags\n---\n\nText.\n",
                                                       encoding="utf-8")
    err = assert_fails_cleanly(site, errors=[])
    # The error names the page and the generated listing it collides with (no line to point at).
    [line] = [line for line in err.splitlines() if "error: " in line]
    assert "two pages write tags/index.html" in line and "content/pages/tags.md" in line
    assert "tags page" in line


# --- slugs and layouts that try to leave public/ -----------------------------------------------

ESCAPES = {
    "climbing": ("slug", "../../outside", "slug '../../outside' may not contain"),
    "absolute": ("slug", "/tmp/outside", "slug '/tmp/outside' may not contain"),
    "backslash": ("slug", "..\\..\\outside", "slug '..\\\\..\\\\outside' may not contain"),
    "dots": ("slug", "..", "slug '..' may not contain"),
    "layout-climbing": ("layout", "../../site.toml",
                        "layout '../../site.toml' is not a file name under layouts/"),
    "layout-absolute": ("layout", "/etc/passwd", "layout '/etc/passwd' is not a file name"),
    "layout-missing": ("layout", "special.html",
                       "layout 'special.html' not found: there is no layouts/special.html"),
    "image-climbing": ("image", "../../../etc/passwd", "image '../../../etc/passwd' is outside"),
}


def listings(site: Path) -> dict[str, list[str] | bool]:
    """What a stray write would change: the project's parent and grandparent, /, and the files
    the escaping slugs aim at. (Not all of /tmp: other programs write there.)"""
    folders = (site.parent, site.parent.parent, Path("/"))
    found: dict[str, list[str] | bool] = {str(f): sorted(p.name for p in f.iterdir())
                                          for f in folders}
    for target in (site.parent / "outside", site.parent.parent / "outside", Path("/tmp/outside"),
                   Path("/tmp/outside/index.html"), site.parent / "x"):
        found[str(target)] = target.exists()
    return found


@pytest.mark.parametrize("case", list(ESCAPES))
def test_escaping_paths_are_refused_and_nothing_is_written_outside(site: Path, case: str) -> None:
    key, value, message = ESCAPES[case]
    article = Article("escape", "Escape", NOW.replace(day=20), extra={key: value})
    path = write_article(site, article)
    line = next(n for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if text.startswith(f"{key}:"))
    before = listings(site)
    where = f"content/articles/escape.md:{line}"
    err = assert_fails_cleanly(site, errors=[(where, message)])
    assert message in err
    assert listings(site) == before
    assert sorted(p.name for p in site.iterdir()) == sorted({*SOURCES, *BOOKKEEPING})


@pytest.mark.parametrize(("slug", "folder"), [("a\x00b", "a-b"), ("con", "con-1"),
                                              ("AUX", "aux-1"), ("Straße/../x", None)])
def test_unsafe_slugs_are_sanitised_or_refused(site: Path, slug: str, folder: str | None) -> None:
    write_article(site, Article("x", "Sanitised", NOW.replace(day=20), extra={"slug": slug}))
    before = listings(site)
    code, _out, err = newsgen(site, "build", "--no-search")
    if folder is None:
        assert code == 1 and "may not contain" in err, err
    else:
        assert code == 0, err
        page = site / "public" / NOW.strftime("%Y/%m") / folder / "index.html"
        assert parse(page.read_text(encoding="utf-8")).one("h1").text() == "Sanitised"
    assert listings(site) == before
    assert sorted(p.name for p in site.iterdir()) == sorted({*SOURCES, *BOOKKEEPING})


# --- seeds: every SEED-FORMAT variant through the command line ---------------------------------

GOOD_SEEDS = {
    "901_windows1252.txt": ("Café “news” – ok\n\nStandfirst here\n\nBody one.\n\nBody two."
                            .encode("cp1252"), "Café “news” – ok",
                            "not valid UTF-8 (first bad byte at offset 3); decoded as Windows-1252"),
    "902_headline_only.txt": (b'"Just a headline"', "Just a headline",
                              "no body: the seed has only a headline"),
    "903_crlf_bom.txt": (b"\xef\xbb\xbfCRLF story\r\n\r\nIts standfirst\r\n\r\nBody.\r\n\r\nMore.",
                         "CRLF story", None),
    "904_cr.txt": (b"CR story\r\rIts standfirst\r\rBody.\r\rMore.", "CR story", None),
    "905_markup.txt": (b"*Not* _markup_ #1 <b>x</b>\n\n# Not a heading\n\n1. Not a list\n\n"
                       b"<script>alert(1)</script> &amp; [x](y)", "*Not* _markup_ #1 <b>x</b>",
                       None),
    "906_byline_dateline.txt": (b"Wire story\n\nThe dek\n\nBy Jane Doe and John Roe\n\n"
                                b"Published: 2016-04-21\n\nWASHINGTON \xe2\x80\x94 Body.\n\nMore.",
                                "Wire story", None),
}
BAD_SEEDS = {
    "951_empty.txt": (b"", "seeds/951_empty.txt is empty"),
    "952_blank.txt": (b"\xef\xbb\xbf \n\t\r\n", "seeds/952_blank.txt is empty"),
    "953_png.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "seeds/953_png.txt is not a text file"),
    "954_utf16.txt": ("Headline\n\nBody".encode("utf-16"), "seeds/954_utf16.txt is not a text file"),
    "955_nul.txt": (b"Headline\n\nBody with a \x00 inside", "seeds/955_nul.txt is not a text file"),
}


def test_odd_but_readable_seeds_build_with_warnings(site: Path) -> None:
    for name, (data, _, _) in GOOD_SEEDS.items():
        (site / "seeds" / name).write_bytes(data)
    # A headline-only seed becomes a draft (an empty story must not go live): shown here.
    code, out, err = newsgen(site, "build", "--no-search", "--drafts")
    assert code == 0, err
    assert f"ingest: {len(GOOD_SEEDS)} written" in out
    for name, (_, title, warning) in GOOD_SEEDS.items():
        if warning:
            assert re.search(rf"^seeds/{name}(:\d+)*: warning: {re.escape(warning)}", err,
                             re.MULTILINE), (name, err)
        [article] = [p for p in (site / "content" / "articles").glob("*.md")
                     if f"source: seeds/{name}\n" in p.read_text(encoding="utf-8")]
        meta = yaml.safe_load(article.read_text(encoding="utf-8").split("---\n")[1])
        assert meta["title"] == title
        [page] = (site / "public").glob(f"*/*/{article.stem}/index.html")
        assert parse(page.read_text(encoding="utf-8")).one("h1").text() == title


def test_a_headline_only_seed_is_a_draft(site: Path) -> None:
    (site / "seeds" / "902_headline_only.txt").write_bytes(b'"Just a headline"')
    code, _out, err = newsgen(site, "build", "--no-search")
    assert code == 0, err
    assert "its article is a draft (draft: true), left out of the site" in err
    article = site / "content" / "articles" / "just-a-headline.md"
    assert yaml.safe_load(article.read_text(encoding="utf-8").split("---\n")[1])["draft"] is True
    assert not list((site / "public").glob("*/*/just-a-headline/index.html"))


def test_unusable_seeds_are_errors_and_change_nothing(site: Path) -> None:
    for name, (data, _) in BAD_SEEDS.items():
        (site / "seeds" / name).write_bytes(data)
    err = assert_fails_cleanly(site, errors=[(f"seeds/{name}", message)
                                             for name, (_, message) in BAD_SEEDS.items()])
    assert "Traceback" not in err


def test_a_ten_megabyte_seed_ingests(site: Path) -> None:
    paragraph = SAMPLE_SEED.read_text(encoding="utf-8").split("\n\n")[-1]
    count = 10 * 1024 * 1024 // (len(paragraph.encode()) + 2) + 1
    (site / "seeds" / "990_huge.txt").write_text(
        "A very long wire story\n\nIts standfirst\n\n" + "\n\n".join([paragraph] * count),
        encoding="utf-8")
    code, _out, err = newsgen(site, "ingest")
    assert code == 0, err
    article = site / "content" / "articles" / "a-very-long-wire-story.md"
    text = article.read_text(encoding="utf-8")
    _, front, body = text.split("---\n", 2)
    assert yaml.safe_load(front)["title"] == "A very long wire story"
    assert body.strip().count("\n\n") + 1 == count


# --- symlink loops, FIFOs, folders named like files, unreadable files ---------------------------

SPECIAL_PLACES = {"seeds": "seeds/x.txt", "content": "content/articles/x.md",
                  "layouts": "layouts/partials/x.html", "static": "layouts/static/x.css"}


def make_special(root: Path, relative: str, kind: str) -> None:
    path = root / relative
    if kind == "symlink-loop":
        path.symlink_to(path.name)
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.mkdir()


@pytest.mark.parametrize("kind", ["symlink-loop", "fifo", "folder"])
@pytest.mark.parametrize("place", list(SPECIAL_PLACES))
def test_special_files_are_skipped_without_hanging(site: Path, place: str, kind: str) -> None:
    make_special(site, SPECIAL_PLACES[place], kind)
    # A new seed makes ingest look at every article (a FIFO there would block a read forever).
    (site / "seeds" / "960_new.txt").write_text("New story\n\nIts dek\n\nBody.\n\nMore.",
                                                encoding="utf-8")
    before = snapshot(site, ("content", "layouts"))
    try:
        result = run_cli(site, "build", "--no-search", timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the build hung on a {kind} in {place}/")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert list((site / "public").glob("*/*/new-story/index.html"))
    after = snapshot(site, ("content", "layouts"))
    assert {k: v for k, v in after.items() if k != "content/articles/new-story.md"} == before


UNREADABLE = {
    "seed": ("seeds/000_58ad658e4daf8054.txt", "seeds/000_58ad658e4daf8054.txt",
             "cannot read seed"),
    "article": ("content/articles/story-02.md", "content/articles/story-02.md",
                "cannot read file"),
    "page": ("content/pages/about.md", "content/pages/about.md", "cannot read file"),
    "partial": ("layouts/partials/footer.html", "layouts/partials/footer.html", "cannot read"),
    "static": ("layouts/static/style.css", "layouts/static/style.css", "cannot read"),
    "config": ("site.toml", "site.toml", "cannot read site.toml"),
}


def build_as_nobody(root: Path) -> tuple[int, str]:
    """Run `newsgen build` in a forked child that dropped root (whom file modes do not stop)."""
    nobody = pwd.getpwnam("nobody")
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code, text = 99, ""
        try:
            os.close(reader)
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            code, out, err = newsgen(root, "build", "--no-search")
            text = out + err
        except BaseException:
            text = traceback.format_exc()
        finally:
            os.write(writer, f"{code}\n{text}".encode())
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        data = pipe.read().decode()
    os.waitpid(pid, 0)
    code, _, text = data.partition("\n")
    return int(code), text


@pytest.mark.parametrize("case", list(UNREADABLE))
def test_unreadable_files_are_clear_errors(built: Path, case: str) -> None:
    relative, where, message = UNREADABLE[case]
    # Outside pytest's private temporary folder, which user nobody cannot enter.
    base = Path(tempfile.mkdtemp(prefix=f"newsgen-unreadable-{case}-"))
    site = Path(shutil.copytree(built, base / "site", symlinks=True))
    try:
        # Import everything a build needs first: the child cannot read root's Python afterwards.
        assert newsgen(site, "build", "--no-search", "--clean")[0] == 0
        before = snapshot(site)
        target = site / relative
        if os.geteuid() == 0:
            base.chmod(0o755)
            for path in [site, *site.rglob("*")]:
                os.lchown(path, pwd.getpwnam("nobody").pw_uid, pwd.getpwnam("nobody").pw_gid)
            os.chown(target, 0, 0)
        target.chmod(0)
        os.utime(target)  # changed: the build must read it again
        if os.geteuid() == 0:
            code, text = build_as_nobody(site)
        else:
            code, out, err = newsgen(site, "build", "--no-search")
            text = out + err
        text = text.replace(f"{site.resolve()}/", "")
        assert code == 1, text
        assert "Traceback" not in text, text
        assert re.search(rf"^{re.escape(where)}(:\d+)*: error: .*{message}", text,
                         re.MULTILINE), text
        assert "  hint: " in text and "permission" in text.casefold(), text
        target.chmod(0o644)
        assert snapshot(site) == before
    finally:
        shutil.rmtree(base, ignore_errors=True)
