"""Benchmark corpus: N deterministic ~700-word news articles as a complete newsgen project.

`iter_articles(n, seed, sections)` yields `Article`s (article i depends only on (seed, i), so the
same inputs always give the same text); `generate(root, n, seed)` writes site.toml, layouts/ and
content/articles/*.md into `root`. Never touches the repository's own content/ or seeds/.
Usage: python benchmarks/corpus.py ROOT N [--seed S]
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import random
import re
import shutil
import sys
import tomllib
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vocabulary as vocab  # a sibling module: benchmarks/ is not a package

REPO = Path(__file__).resolve().parent.parent
FIRST_DATE = datetime(2019, 1, 1, tzinfo=UTC)
DATE_SPAN_SECONDS = 6 * 365 * 24 * 3600  # 2019-2024: several years of archive
OFFSETS = (0, 0, 0, 60, -300, 330, 540, 120)  # minutes east of UTC; most wire copy is UTC
AUTHOR_COUNT, TAG_COUNT = 60, 300
_NON_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Section:
    slug: str
    title: str


@dataclass(frozen=True, slots=True)
class Article:
    index: int
    slug: str
    title: str
    date: str  # ISO 8601 with its UTC offset
    summary: str
    authors: tuple[str, ...]
    section: Section
    tags: tuple[str, ...]
    body: str  # Markdown


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NON_SLUG.sub("-", ascii_text.lower()).strip("-")


def read_sections(site_toml: Path) -> tuple[Section, ...]:
    data = tomllib.loads(site_toml.read_text(encoding="utf-8"))
    return tuple(Section(slug, str(table.get("title", slug)))
                 for slug, table in data.get("sections", {}).items())


def author_pool(seed: int) -> tuple[str, ...]:
    rng = random.Random(f"authors:{seed}")
    names = [f"{first} {last}" for first, last in
             itertools.product(vocab.FIRST_NAMES, vocab.LAST_NAMES)]
    return tuple(rng.sample(names, AUTHOR_COUNT))


def tag_pool(seed: int) -> tuple[str, ...]:
    """TAG_COUNT distinct tags (by slug), in popularity order: index 0 is the most used."""
    rng = random.Random(f"tags:{seed}")
    candidates = [*vocab.TOPICS, *vocab.COUNTRIES, *vocab.CITIES, *vocab.ORGANIZATIONS]
    rng.shuffle(candidates)
    seen: set[str] = set()
    tags = []
    for tag in candidates:
        if slugify(tag) not in seen:
            seen.add(slugify(tag))
            tags.append(tag)
    return tuple(tags[:TAG_COUNT])


def zipf_weights(count: int, exponent: float = 1.0, flatten: float = 10.0) -> list[float]:
    """Cumulative Zipf-Mandelbrot weights, 1 / (rank + flatten) ** exponent: a long tail of rare
    tags, while the most popular tag is on ~10% of articles (plain Zipf would put it on ~45%)."""
    return list(itertools.accumulate(1.0 / (rank + flatten) ** exponent
                                     for rank in range(1, count + 1)))


_CHOICES: dict[str, Sequence[str]] = {
    "role": vocab.ROLES, "city": vocab.CITIES, "country": vocab.COUNTRIES,
    "org": vocab.ORGANIZATIONS, "quote": vocab.QUOTES, "weekday": vocab.WEEKDAYS,
    "month": vocab.MONTHS, "ordinal": vocab.ORDINALS,
    "topic_lower": tuple(topic.lower() for topic in vocab.TOPICS),
}


class _Fields(dict[str, str]):
    """Template fields drawn afresh on each lookup (nothing is stored), so a sentence only pays
    for the fields it uses and two sentences rarely repeat each other."""

    def __init__(self, rng: random.Random, story: dict[str, str], cast: Sequence[str]) -> None:
        super().__init__()
        self.rng, self.story, self.cast = rng, story, cast

    def __missing__(self, key: str) -> str:
        rng, story = self.rng, self.story
        lower = key[0].lower() + key[1:]
        if lower != key:  # a capitalised field: same value, first letter upper-cased
            value = self[lower]
            return value[0].upper() + value[1:]
        if key in story and rng.random() < 0.7:  # the story's own place/actor most of the time
            return story[key]
        if key in _CHOICES:
            return rng.choice(_CHOICES[key])
        if key == "person":
            return rng.choice(self.cast)
        if key == "a_role":
            return _indefinite(rng.choice(vocab.ROLES))
        if key == "number":
            return f"{rng.randint(2, 90) * 10 ** rng.randint(1, 3):,}"
        if key == "percent":
            return f"{rng.randint(1, 40) / 10:.1f}"
        if key == "report_id":
            return str(rng.randint(1000, 99999))
        return story[key]


def _indefinite(noun: str) -> str:
    return f"{'an' if noun[0].lower() in 'aeiou' else 'a'} {noun}"


def _story(rng: random.Random, section: Section) -> dict[str, str]:
    flavour = section.slug if section.slug in vocab.ACTIONS else "news"
    return {"subject": rng.choice(vocab.SUBJECTS[flavour]),
            "action": rng.choice(vocab.ACTIONS[flavour]),
            "city": rng.choice(vocab.CITIES), "country": rng.choice(vocab.COUNTRIES),
            "org": rng.choice(vocab.ORGANIZATIONS)}


def _body(rng: random.Random, fields: _Fields, target_words: int) -> str:
    paragraphs: list[str] = []
    words = 0
    subheading_at = rng.randint(3, 5)
    while words < target_words:
        if len(paragraphs) == subheading_at:
            paragraphs.append(f"## {rng.choice(vocab.SUBHEADINGS)}")
        if len(paragraphs) == subheading_at + 2 and rng.random() < 0.3:
            items = [f"- {fields['country']}: {fields['subject']} {fields['action']}."
                     for _ in range(3)]
            paragraphs.append("\n".join(items))
            words += sum(len(item.split()) for item in items)
        sentences = [rng.choice(vocab.SENTENCES).format_map(fields)
                     for _ in range(rng.randint(2, 5))]
        paragraphs.append(" ".join(sentences))
        words += sum(len(s.split()) for s in sentences)
    return "\n\n".join(paragraphs) + "\n"


def make_article(index: int, seed: int, sections: Sequence[Section], authors: Sequence[str],
                 tags: Sequence[str], tag_weights: Sequence[float]) -> Article:
    """Article `index`; its slug is made unique by the caller."""
    rng = random.Random(f"article:{seed}:{index}")
    section = rng.choice(sections)
    story = _story(rng, section)
    cast = [f"{rng.choice(vocab.FIRST_NAMES)} {rng.choice(vocab.LAST_NAMES)}" for _ in range(3)]
    fields = _Fields(rng, story, cast)
    title = rng.choice(vocab.HEADLINES).format_map(fields)
    title = title[0].upper() + title[1:]
    summary = (f"{fields['Subject']} {fields['action']} on {fields['weekday']}, raising new "
               f"questions about {fields['topic_lower']} in {fields['country']}.")
    moment = FIRST_DATE + timedelta(seconds=rng.randrange(DATE_SPAN_SECONDS // 60) * 60)
    offset = timezone(timedelta(minutes=rng.choice(OFFSETS)))
    chosen: list[str] = []
    wanted = rng.randint(2, 5)
    while len(chosen) < wanted:
        tag = rng.choices(tags, cum_weights=tag_weights)[0]
        if tag not in chosen:
            chosen.append(tag)
    return Article(
        index=index, slug=slugify(title)[:72].strip("-"), title=title,
        date=moment.astimezone(offset).isoformat(), summary=summary,
        authors=tuple(rng.sample(list(authors), rng.choice((1, 1, 1, 2)))),
        section=section, tags=tuple(chosen),
        body=_body(rng, fields, rng.randint(640, 760)),
    )


def iter_articles(n: int, seed: int, sections: Sequence[Section]) -> Iterator[Article]:
    authors, tags = author_pool(seed), tag_pool(seed)
    weights = zipf_weights(len(tags))
    used: set[str] = set()
    for index in range(n):
        article = make_article(index, seed, sections, authors, tags, weights)
        slug = article.slug
        for suffix in itertools.count(2):
            if slug not in used:
                break
            slug = f"{article.slug}-{suffix}"
        used.add(slug)
        if slug != article.slug:
            article = dataclasses.replace(article, slug=slug)
        yield article


def yaml_front_matter(pairs: Sequence[tuple[str, object]]) -> str:
    """YAML via JSON scalars (a JSON string is a valid YAML double-quoted scalar): no PyYAML."""
    lines = ["---"]
    for key, value in pairs:
        if isinstance(value, (list, tuple)):
            lines.append(f"{key}: [{', '.join(json.dumps(v, ensure_ascii=False) for v in value)}]")
        else:
            lines.append(f"{key}: {json.dumps(value, ensure_ascii=False)}")
    return "\n".join([*lines, "---", ""])


def newsgen_markdown(article: Article) -> str:
    head = yaml_front_matter([
        ("title", article.title), ("slug", article.slug), ("date", article.date),
        ("summary", article.summary), ("authors", article.authors),
        ("section", article.section.slug), ("tags", article.tags)])
    return f"{head}\n{article.body}"


def write_if_changed(path: Path, text: str) -> None:
    """Unchanged files keep their mtime, so regenerating a corpus does not look like an edit."""
    data = text.encode("utf-8")
    try:
        if path.read_bytes() == data:
            return
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def sync_tree(source: Path, target: Path) -> None:
    """Make `target` a copy of `source`, rewriting only files whose bytes differ."""
    wanted = {p.relative_to(source) for p in source.rglob("*") if p.is_file()}
    if target.exists():
        for path in sorted(target.rglob("*"), reverse=True):
            if path.is_file() and path.relative_to(target) not in wanted:
                path.unlink()
    for relative in sorted(wanted):
        destination = target / relative
        if not destination.exists() or destination.read_bytes() != (source / relative).read_bytes():
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / relative, destination)


def write_articles(folder: Path, documents: Iterator[tuple[str, str]]) -> int:
    """Write (file name, text) pairs into `folder`, deleting any other *.md left there."""
    names = set()
    for name, text in documents:
        write_if_changed(folder / name, text)
        names.add(name)
    for stale in folder.glob("*.md"):
        if stale.name not in names:
            stale.unlink()
    return len(names)


def scaffold(root: Path) -> None:
    """site.toml and layouts/ copied from the repository; an empty seeds/ (we build --no-ingest)."""
    root.mkdir(parents=True, exist_ok=True)
    write_if_changed(root / "site.toml", (REPO / "site.toml").read_text(encoding="utf-8"))
    sync_tree(REPO / "layouts", root / "layouts")
    (root / "seeds").mkdir(exist_ok=True)


def generate(root: Path, n: int, seed: int = 1) -> None:
    """Write a complete newsgen project with `n` articles into `root` (created if missing)."""
    scaffold(root)
    sections = read_sections(root / "site.toml")
    write_articles(root / "content" / "articles",
                   ((f"{a.slug}.md", newsgen_markdown(a)) for a in iter_articles(n, seed, sections)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a deterministic newsgen benchmark corpus.")
    parser.add_argument("root", type=Path, help="project folder to write (created if missing)")
    parser.add_argument("n", type=int, help="number of articles")
    parser.add_argument("--seed", type=int, default=1, help="corpus seed (default 1)")
    args = parser.parse_args(argv)
    generate(args.root, args.n, args.seed)
    print(f"wrote {args.n} articles to {args.root / 'content' / 'articles'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
