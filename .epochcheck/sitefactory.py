"""Test helper: write small purpose-built news projects (front-mattered articles) into a folder.

`corpus()` is a deterministic set of 25 articles spread over two years, five sections, a few tags
and authors, ending one day before the tests' reference time (conftest.FIXED_EPOCH);
`write_project()` copies the real layouts and site.toml next to them; `build()` runs the CLI;
`output_file()` maps a site URL to its file in public/.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml
from conftest import FIXED_EPOCH, ROOT, copy_project, run_cli, set_base_url

NOW = datetime.fromtimestamp(int(FIXED_EPOCH), UTC)
BASE_URL = "https://example.github.io/news/"
SECTIONS = ("world", "politics", "business", "science", "sport")
TAGS = ("Libya", "NATO", "Elections", "Markets", "Climate", "Football")
AUTHORS = ("Ann Reporter", "Bob Writer", "Chloé Durand")


@dataclass(frozen=True)
class Article:
    """One article to write as content/articles/<slug>.md."""

    slug: str
    title: str
    date: datetime
    section: str = "news"
    tags: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    summary: str = ""
    body: str = "A paragraph of news text.\n\nA second paragraph."
    extra: dict[str, Any] = field(default_factory=dict)

    def front_matter(self) -> dict[str, Any]:
        data: dict[str, Any] = {"title": self.title, "slug": self.slug,
                                "date": self.date.isoformat(), "summary": self.summary,
                                "authors": list(self.authors), "section": self.section,
                                "tags": list(self.tags), "image_credit": "Agency"}
        return {**data, **self.extra}

    def markdown(self) -> str:
        meta = yaml.safe_dump(self.front_matter(), allow_unicode=True, sort_keys=False)
        return f"---\n{meta}---\n\n{self.body}\n"


def corpus(count: int = 25) -> list[Article]:
    """`count` articles, newest (index 0) one day before NOW, 23 days apart, so 25 of them span
    two calendar years. Even ones are in World and tagged Libya, so World, Libya and Ann Reporter
    (even ones) fill more than one page of 10; every fourth has no author, one has
    two; a second tag rotates, so related articles share one or two tags."""
    articles = []
    for n in range(count):
        tags = (["Libya"] if n % 2 == 0 else []) + [TAGS[1 + n % 5]]
        authors = {0: ("Ann Reporter",), 1: ("Bob Writer",), 2: ("Ann Reporter",), 3: ()}[n % 4]
        if n == 5:
            authors = ("Bob Writer", "Chloé Durand")
        articles.append(Article(
            slug=f"story-{n:02d}",
            title=f"Story number {n:02d}",
            date=NOW - timedelta(days=1 + 23 * n, hours=n % 5),
            section="world" if n % 2 == 0 else SECTIONS[1 + n // 2 % 4],
            tags=tuple(tags),
            authors=authors,
            summary=f"Standfirst of story {n:02d}.",
            body=f"Body of story {n:02d}.\n\n" + "word " * (n + 1) * 40,
        ))
    return articles


def write_project(root: Path, articles: list[Article], *, base_url: str = BASE_URL,
                  config: str = "", about: bool = True) -> Path:
    """A project in `root` with the real layouts and site.toml (plus `config` lines appended),
    the given articles and, if `about`, the real content/pages/about.md. No seeds."""
    copy_project(root, seeds=False, content=False)
    set_base_url(root, base_url)
    if config:
        site = root / "site.toml"
        text = site.read_text(encoding="utf-8")
        # Top-level keys must come before the first [table] to stay top-level in TOML.
        head, sep, tail = text.partition("\n[")
        site.write_text(f"{head}\n{config}\n{sep}{tail}", encoding="utf-8")
    if about:
        (root / "content" / "pages").mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "content" / "pages" / "about.md", root / "content" / "pages")
    for article in articles:
        write_article(root, article)
    return root


def write_article(root: Path, article: Article) -> Path:
    path = root / "content" / "articles" / f"{article.slug}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(article.markdown(), encoding="utf-8")
    return path


def with_extra(article: Article, **extra: Any) -> Article:
    return replace(article, extra={**article.extra, **extra})


def set_key(root: Path, key: str, toml_value: str) -> None:
    """Replace the top-level `key = ...` line of site.toml (the key must already be there)."""
    config = root / "site.toml"
    lines = config.read_text(encoding="utf-8").splitlines()
    assert any(line.startswith(f"{key} ") for line in lines), key
    lines = [f"{key} = {toml_value}" if line.startswith(f"{key} ") else line for line in lines]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")


def build(root: Path, *args: str, env: dict[str, str] | None = None) -> Path:
    """`newsgen build ARGS` in root (reference time FIXED_EPOCH); asserts success; -> public/."""
    result: subprocess.CompletedProcess[str] = run_cli(root, "build", *args, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return root / "public"


def url_of(article: Article, base_url: str = BASE_URL) -> str:
    """The absolute URL of an article under the default permalink pattern."""
    return f"{base_url}{article.date:%Y}/{article.date:%m}/{article.slug}/"


def output_file(public: Path, url: str, base_url: str = BASE_URL) -> Path:
    """The file in public/ that serves `url` (absolute, or a path under base_url's path)."""
    base_path = urlsplit(base_url).path
    path = unquote(urlsplit(url).path)
    assert path.startswith(base_path), f"{url} is not under {base_url}"
    relative = path[len(base_path):]
    if relative == "" or relative.endswith("/"):
        relative += "index.html"
    return public / relative
