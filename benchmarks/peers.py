"""Benchmark corpora for every tool from one pass over the same generated articles.

`write_corpora(base, n, seed, tools)` writes base/<tool>/ for newsgen, Pelican and Hugo: the same
articles (same slugs, dates, sections, tags, authors, bodies) in each tool's metadata format, plus
its settings and minimal templates from benchmarks/themes/. Never touches the repository's site.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import corpus
from corpus import Article

THEMES = Path(__file__).resolve().parent / "themes"
STYLESHEET = corpus.REPO / "layouts" / "static" / "style.css"
TOOLS = ("newsgen", "pelican", "hugo")


def pelican_markdown(article: Article) -> str:
    """Pelican's Markdown reader takes `Key: value` headers (the 'meta' extension).

    Dates are given in UTC (the same instant): Pelican groups month archives with
    itertools.groupby over articles sorted by instant, so mixed UTC offsets split one month in
    two and it aborts writing the same archive page twice. newsgen groups in site time (UTC).
    """
    utc = datetime.fromisoformat(article.date).astimezone(UTC).isoformat()
    headers = [
        ("Title", article.title), ("Slug", article.slug), ("Date", utc),
        ("Category", article.section.title), ("Tags", ", ".join(article.tags)),
        ("Authors", ", ".join(article.authors)), ("Summary", article.summary),
    ]
    return "".join(f"{key}: {value}\n" for key, value in headers) + "\n" + article.body


def hugo_markdown(article: Article) -> str:
    """Hugo reads YAML front matter; sections become its `categories` taxonomy."""
    head = corpus.yaml_front_matter([
        ("title", article.title), ("slug", article.slug), ("date", article.date),
        ("summary", article.summary), ("authors", article.authors),
        ("categories", [article.section.title]), ("tags", article.tags)])
    return f"{head}\n{article.body}"


RENDERERS: dict[str, Callable[[Article], str]] = {
    "newsgen": corpus.newsgen_markdown, "pelican": pelican_markdown, "hugo": hugo_markdown,
}


def source_format(tool: str) -> str:
    """Variants of a tool ('newsgen-search') read the same files as the tool itself."""
    return tool.split("-", 1)[0]


def _scaffold(tool: str, root: Path) -> None:
    """Settings and templates: rewritten on every run so edits to the themes take effect."""
    root.mkdir(parents=True, exist_ok=True)
    tool = source_format(tool)
    if tool == "newsgen":
        corpus.scaffold(root)
    elif tool == "pelican":
        corpus.write_if_changed(root / "pelicanconf.py",
                                (THEMES / "pelican" / "pelicanconf.py").read_text(encoding="utf-8"))
        corpus.sync_tree(THEMES / "pelican" / "theme" / "templates", root / "theme" / "templates")
        _copy_if_changed(STYLESHEET, root / "theme" / "static" / "style.css")
    elif tool == "hugo":
        corpus.write_if_changed(root / "hugo.toml",
                                (THEMES / "hugo" / "hugo.toml").read_text(encoding="utf-8"))
        corpus.sync_tree(THEMES / "hugo" / "layouts", root / "layouts")
        _copy_if_changed(STYLESHEET, root / "static" / "style.css")
    else:
        raise ValueError(f"unknown tool {tool!r}")


def _copy_if_changed(source: Path, target: Path) -> None:
    if not target.exists() or target.read_bytes() != source.read_bytes():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def write_corpora(base: Path, n: int, seed: int, tools: Sequence[str]) -> dict[str, Path]:
    """Write base/<tool>/ for each tool; returns the project folder of each."""
    roots = {tool: base / tool for tool in tools}
    for tool, root in roots.items():
        _scaffold(tool, root)
    sections = corpus.read_sections(corpus.REPO / "site.toml")
    names: set[str] = set()
    for article in corpus.iter_articles(n, seed, sections):
        name = f"{article.slug}.md"
        names.add(name)
        for tool, root in roots.items():
            text = RENDERERS[source_format(tool)](article)
            corpus.write_if_changed(root / "content" / "articles" / name, text)
    for root in roots.values():
        for stale in (root / "content" / "articles").glob("*.md"):
            if stale.name not in names:
                stale.unlink()
    return roots



def article_to_edit(root: Path) -> Path:
    """The article the one-edit benchmark changes: the middle file by name (same in each tool)."""
    files = sorted((root / "content" / "articles").glob("*.md"))
    return files[len(files) // 2]
