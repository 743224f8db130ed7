"""HTML validity: the Nu HTML Checker (npm vnu-jar) over every page of the sample site and of a
generated 200-article site with lead images, Markdown features and awkward characters.

`write_corpus()` / `shared_corpus()` make that generated site; the browser tests (axe,
screenshots) reuse it, built once per test process.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from conftest import FIXED_EPOCH, ROOT, copy_project, run_cli, set_base_url

VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
NOW = datetime.fromtimestamp(int(FIXED_EPOCH), UTC)
SECTIONS = ("world", "politics", "business", "science", "sport", "news")
AUTHORS = ("Amira Haddad", "Ben Okafor", "Chloé Durand", "Dmitri Volkov", "Eun-ji Park",
           "Fiona O'Neill", "Gabriel Souza", "Hannah Schmidt")
TAGS = ("Libya", "NATO", "Elections", "Markets", "Climate", "Football", "Inflation", "Space",
        "Parliament", "Health", "Energy", "Trade", "AI", "Olympics", "Migration", "Banks",
        "Research", "Courts", "Oil", "Tennis")
SUBJECTS = ("Ministers", "Scientists", "Central bank", "Rebel forces", "Voters", "Regulators",
            "The coach", "Parliament", "Investors", "Astronomers", "Doctors", "Union leaders")
VERBS = ("weigh", "reject", "back", "delay", "unveil", "question", "approve", "resist",
         "expand", "review")
OBJECTS = ("new budget plan", "ceasefire proposal", "rate rise", "climate targets",
           "stadium deal", "trade pact", "vaccine rollout", "satellite launch", "tax reform",
           "border agreement", "merger", "election timetable")
WORDS = ("government", "officials", "said", "on", "Tuesday", "the", "plan", "would", "cost",
         "billion", "analysts", "expect", "further", "talks", "before", "a", "final", "vote",
         "in", "spring", "critics", "warned", "that", "delays", "could", "hurt", "growth")
# (file, width, height, mode): wide photo, small PNG with transparency (never upscaled),
# portrait JPEG.
IMAGES = (("images/harbour.jpg", 1600, 1000, "RGB"), ("images/chart.png", 640, 420, "RGBA"),
          ("images/portrait.jpg", 800, 1100, "RGB"))


def write_corpus(root: Path, count: int = 200) -> Path:
    """A project in `root` with `count` varied articles (newest first, the newest one hour before
    the tests' reference time), the real layouts and site.toml, the About page and three images."""
    copy_project(root, seeds=False, content=False)
    set_base_url(root, "https://example.github.io/news/")
    (root / "content" / "pages").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "content" / "pages" / "about.md", root / "content" / "pages")
    for name, width, height, mode in IMAGES:
        write_test_image(root / "content" / name, width, height, mode)
    rng = random.Random(20260725)
    for n in range(count):
        path = root / "content" / "articles" / f"story-{n:03d}.md"
        path.write_text(_article(n, rng), encoding="utf-8")
    return root


def _article(n: int, rng: random.Random) -> str:
    title = f"{SUBJECTS[n % len(SUBJECTS)]} {VERBS[n % len(VERBS)]} {OBJECTS[n % len(OBJECTS)]}"
    if n % 7 == 3:
        title += " as talks drag on & tempers <fray>"
    meta: dict[str, object] = {
        "title": title,
        "date": (NOW - timedelta(hours=1 + 9 * n)).isoformat(),
        "summary": " ".join(rng.choices(WORDS, k=rng.randint(12, 24))).capitalize() + ".",
        "authors": rng.sample(AUTHORS, k=n % 3),
        "section": SECTIONS[n % len(SECTIONS)],
        "tags": sorted(set(rng.sample(TAGS, k=1 + n % 4))),
    }
    if n % 4 == 0:
        image = IMAGES[(n // 4) % len(IMAGES)][0]
        meta.update(image=image, image_alt=f"Illustration {n} for the story",
                    image_caption="Scene from the day's events.", image_credit="Agency")
    elif n % 5 == 1:
        meta["image_credit"] = "AP"  # a credit without a picture, like the sample seed
    if n % 11 == 5:
        meta["updated"] = (NOW - timedelta(hours=9 * n - 3)).isoformat()
        meta["dateline"] = "GENEVA"
    body = []
    for p in range(rng.randint(4, 9)):
        sentence = " ".join(rng.choices(WORDS, k=rng.randint(25, 60)))
        body.append(sentence.capitalize() + ".")
        if p == 1 and n % 3 == 0:
            body.append("## What happens next")
        if p == 2 and n % 5 == 0:
            body.append("> “We are not there yet,” one negotiator said.")
        if p == 3 and n % 6 == 0:
            body.append("- first point\n- second point with *emphasis*\n- a [link](https://example.org/)")
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
    return f"---\n{front}---\n\n" + "\n\n".join(body) + "\n"


def write_test_image(path: Path, width: int, height: int, mode: str = "RGB") -> Path:
    """A deterministic picture with structure (gradients, shapes), so encoders do real work."""
    from PIL import Image, ImageDraw

    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    draw = ImageDraw.Draw(image)
    for i in range(12):
        x, y = (i * 137) % width, (i * 89) % height
        draw.ellipse((x, y, x + width // 5, y + height // 5),
                     fill=((i * 40) % 256, (i * 90) % 256, (255 - i * 20) % 256))
    if mode == "RGBA":
        alpha = Image.linear_gradient("L").rotate(90).resize((width, height))
        image = image.convert("RGBA")
        image.putalpha(alpha)
    fmt = "PNG" if path.suffix == ".png" else "JPEG"
    image.save(path, format=fmt)
    return path


_CORPUS: dict[str, Path] = {}


def shared_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 200-article site, built once per test process (several modules use it)."""
    if "root" not in _CORPUS:
        root = write_corpus(tmp_path_factory.mktemp("corpus") / "site")
        result = run_cli(root, "build", "--no-ingest")
        assert result.returncode == 0, result.stderr
        _CORPUS["root"] = root
    return _CORPUS["root"]


@pytest.fixture(scope="module")
def corpus_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_corpus(tmp_path_factory)


def vnu_errors(folder: Path) -> tuple[list[dict[str, object]], int]:
    """(error messages, number of HTML files) for every HTML file under `folder`."""
    pages = sorted(folder.rglob("*.html"))
    done = subprocess.run(
        ["java", "-jar", str(VNU), "--skip-non-html", "--errors-only", "--format", "json",
         str(folder)], capture_output=True, text=True, timeout=600, check=False)
    report = json.loads(done.stderr or done.stdout or '{"messages": []}')
    errors = [m for m in report["messages"] if m.get("type") in ("error", "non-document-error")]
    assert done.returncode == (1 if errors else 0), done.stderr[-2000:]
    return errors, len(pages)


def _describe(errors: list[dict[str, object]]) -> str:
    return "\n".join(f"{e.get('url')}:{e.get('lastLine')}: {e.get('message')}" for e in errors[:20])


@pytest.mark.slow
def test_every_page_of_the_sample_site_is_valid_html(built_site: Path) -> None:
    errors, pages = vnu_errors(built_site / "public")
    assert pages >= 15  # front, article, section, tags, authors, archives, search, 404, about
    assert errors == [], _describe(errors)


@pytest.mark.slow
def test_every_page_of_a_generated_200_article_site_is_valid_html(corpus_site: Path) -> None:
    public = corpus_site / "public"
    assert len(list((public / "static" / "images").iterdir())) > 0  # pictures are exercised
    errors, pages = vnu_errors(public)
    assert pages > 300  # 200 articles plus listings, tags, authors, archives, pagination
    assert errors == [], _describe(errors)


def test_the_checker_does_report_invalid_html(tmp_path: Path) -> None:
    """Guards the two tests above against a checker that finds nothing whatever it is given."""
    (tmp_path / "bad.html").write_text(
        "<!DOCTYPE html><html lang=en><head><title>x</title></head>"
        "<body><p><div>block in p</div><img src=x.png></body></html>", encoding="utf-8")
    errors, pages = vnu_errors(tmp_path)
    assert pages == 1
    assert any("alt" in str(e.get("message")) for e in errors), errors


# --- structured data and social tags -----------------------------------------------------------

ORIGIN = "https://example.github.io/news/"
REQUIRED_NEWS_ARTICLE = ("headline", "datePublished", "dateModified", "author", "publisher",
                         "mainEntityOfPage")


def check_article_metadata(path: Path) -> list[str]:
    """Problems with one article page's NewsArticle JSON-LD and Open Graph / Twitter tags."""
    from htmlutil import meta_content, parse

    doc = parse(path.read_text(encoding="utf-8"))
    problems = []
    scripts = doc.find_all("script", type="application/ld+json")
    data = json.loads(scripts[0].text()) if len(scripts) == 1 else {}
    missing = [key for key in REQUIRED_NEWS_ARTICLE if not data.get(key)]
    if data.get("@type") != "NewsArticle" or missing:
        problems.append(f"JSON-LD type {data.get('@type')!r}, missing {missing}")
    logo = data.get("publisher", {}).get("logo", {}).get("url", "")
    if not logo.startswith(ORIGIN):
        problems.append(f"publisher logo {logo!r}")
    if data.get("mainEntityOfPage", {}).get("@id") != doc.one("link", rel="canonical").get("href"):
        problems.append("mainEntityOfPage is not the canonical URL")
    has_picture = doc.find("figure", class_="lead-image") is not None
    images = data.get("image", [])
    if has_picture != bool(images) or not all(i.startswith(ORIGIN) for i in images):
        problems.append(f"JSON-LD image {images!r} (picture on page: {has_picture})")
    for prop in ("og:title", "og:description", "og:url", "og:type", "og:site_name"):
        if len(meta_content(doc, property=prop)) != 1:
            problems.append(f"{prop} missing")
    absolute = meta_content(doc, property="og:url") + meta_content(doc, property="og:image")
    absolute += meta_content(doc, name="twitter:image")
    if not all(url.startswith(ORIGIN) for url in absolute):
        problems.append(f"relative social URLs: {absolute}")
    if has_picture != bool(meta_content(doc, property="og:image")):
        problems.append("og:image does not match the page's picture")
    card = meta_content(doc, name="twitter:card")
    if card != ["summary_large_image" if has_picture else "summary"]:
        problems.append(f"twitter:card {card}")
    return problems


def test_articles_carry_news_article_json_ld_and_absolute_social_tags(
        built_site: Path, corpus_site: Path) -> None:
    pages = sorted((built_site / "public").glob("20*/*/*/index.html"))
    pages += sorted((corpus_site / "public").glob("20*/*/*/index.html"))
    assert len(pages) == 201
    problems = {str(p): found for p in pages if (found := check_article_metadata(p))}
    assert problems == {}
    with_picture = [p for p in pages if 'class="lead-image' in p.read_text(encoding="utf-8")]
    assert len(with_picture) == 50  # every fourth generated article
