"""Ingest stage: seeds/*.txt -> content/articles/<slug>.md (front matter + escaped Markdown).

The only writer into content/. Idempotent: an unchanged seed writes nothing; a changed seed
regenerates its article unless the Markdown was edited by hand since ingest (detected with the
`ingest_checksum` it carries), in which case the file is kept and a warning names it.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import SiteConfig
from .errors import Diagnostic, GeneratorError, SourceLocation
from .model import INGEST_VERSION, reference_time
from .urls import slugify

# The seed parser, YAML and Markdown are imported where a seed is actually (re)ingested: every
# build runs ingest, and most find no seed changed.
if TYPE_CHECKING:
    from .seed import Seed

CHECKSUM_LINE = re.compile(r"^ingest_checksum: .*\n", re.MULTILINE)
SEED_ID = re.compile(r"^\d+_([0-9a-f]{16})$")


@dataclass(slots=True)
class IngestReport:
    written: list[Path] = field(default_factory=list)
    unchanged: int = 0
    kept: list[Path] = field(default_factory=list)
    failed: int = 0
    diagnostics: list[Diagnostic] = field(default_factory=list)
    records: dict[str, tuple[int, int, str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Existing:
    path: Path
    metadata: dict[str, Any]
    hand_edited: bool
    unreadable: bool = False  # front matter that does not parse (its bookkeeping lines read)


# An article's bookkeeping lines, read line by line when its YAML does not parse: a typo
# elsewhere in the front matter must not make ingest write the seed's article a second time.
_BOOKKEEPING_LINE = re.compile(r"^(source|source_sha256|ingest_version):[ \t]*(\S[^\n]*?)\s*$",
                               re.MULTILINE)


SeedRecord = tuple[int, int, str]  # (size, mtime_ns, article path): lets unchanged seeds skip


def ingest(config: SiteConfig, known: dict[str, SeedRecord] | None = None,
           now: datetime | None = None) -> IngestReport:
    """Ingest every seed; `known` (from the build cache) lets unchanged seeds skip reading.
    `now` is the build's reference time (default: `reference_time()`)."""
    root = config.root
    report = IngestReport()
    pending = []
    for seed_path in sorted(p for p in (root / "seeds").glob("*.txt") if p.is_file()):
        relative = seed_path.relative_to(root).as_posix()
        record = (known or {}).get(relative)
        try:
            st = seed_path.stat()
        except OSError:
            st = None
        if record and st and record[:2] == (st.st_size, st.st_mtime_ns) \
                and (root / record[2]).is_file():
            report.unchanged += 1
            report.records[relative] = record
        else:
            pending.append(seed_path)
    if pending:
        _ingest_pending(config, pending, report, now or reference_time(), known or {})
    return report


def _ingest_pending(config: SiteConfig, seeds: list[Path], report: IngestReport,
                    now: datetime, known: dict[str, SeedRecord]) -> None:
    from .seed import parse_seed

    root = config.root
    articles = root / "content" / "articles"
    existing = _existing_articles(articles, root)
    claimed = {old.path for old in existing.values()}
    taken = {p.stem for p in articles.glob("*.md")}
    git_dates: dict[str, datetime] | None = None
    for seed_path in seeds:
        relative = seed_path.relative_to(root)
        try:
            raw = seed_path.read_bytes()
            st = seed_path.stat()
        except OSError as err:
            report.failed += 1
            report.diagnostics.append(Diagnostic(
                "error", f"cannot read seed: {err.strerror}", SourceLocation(relative),
                "check the file's permissions")); continue
        sha = hashlib.sha256(raw).hexdigest()
        old = existing.get(relative.as_posix()) or _taken_over(known.get(relative.as_posix()),
                                                               root, claimed)
        if old and old.unreadable:
            # Never a second article for the seed: the build reports the broken file itself.
            report.kept.append(old.path)
            report.diagnostics.append(Diagnostic(
                "warning", f"{old.path} cannot be read, so {relative} was not ingested again",
                SourceLocation(old.path),
                f"fix its front matter (the build names the line), or delete {old.path} to "
                f"regenerate it from {relative}"))
            continue
        if (old and old.metadata.get("source_sha256") == sha
                and old.metadata.get("ingest_version") == INGEST_VERSION):
            report.unchanged += 1
            report.records[relative.as_posix()] = (st.st_size, st.st_mtime_ns, old.path.as_posix())
            continue
        if old and old.hand_edited:
            report.kept.append(old.path)
            report.diagnostics.append(Diagnostic(
                "warning", f"seed changed but {old.path} was edited by hand; kept it",
                SourceLocation(old.path), f"delete {old.path} to regenerate it from {relative}"))
            continue
        try:
            seed = parse_seed(raw, relative)
        except GeneratorError as err:
            report.failed += 1
            report.diagnostics.append(err.diagnostic())
            continue
        report.diagnostics.extend(seed.warnings)
        if seed.date is None and (old is None or not old.metadata.get("date")) and git_dates is None:
            git_dates = _git_added_dates(root)
        date, dated_by = _article_date(seed, old, seed_path, relative, config, git_dates or {},
                                       now)
        if dated_by:
            report.diagnostics.append(Diagnostic(
                "warning", f"no date line; dated {date.isoformat()} from {dated_by}",
                SourceLocation(relative),
                "add a line such as 'Published: 2016-04-21' to the seed, or set date: in the "
                "article (a changed seed keeps the article's date)"))
        slug = old.path.stem if old else _free_slug(seed, seed_path, taken)
        taken.add(slug)
        target = articles / f"{slug}.md"
        _write_atomic(target, article_text(seed, slug, date, sha, relative, config))
        report.written.append(target.relative_to(root))
        report.records[relative.as_posix()] = (st.st_size, st.st_mtime_ns,
                                               target.relative_to(root).as_posix())


def article_text(seed: Seed, slug: str, date: datetime, sha: str, source: Path,
                 config: SiteConfig) -> str:
    import frontmatter

    from .enrich import derive_tags, pick_section
    from .markup import escape_paragraph

    metadata: dict[str, Any] = {
        "title": seed.headline,
        "slug": slug,
        "date": date.isoformat(),
        "summary": seed.standfirst or "",
        "authors": list(seed.authors),
        "section": pick_section(seed, [(s.slug, s.keywords) for s in config.sections],
                                config.default_section),
        "tags": list(derive_tags(seed)),
        "image_credit": seed.image_credit or "",
    }
    if seed.image_caption:
        metadata["image_caption"] = seed.image_caption
    if seed.dateline:
        metadata["dateline"] = seed.dateline
    if not seed.paragraphs:
        metadata["draft"] = True  # an empty story must not go live (seed.py warns)
    metadata["source"] = source.as_posix()
    metadata["source_sha256"] = sha
    metadata["ingest_version"] = INGEST_VERSION
    body = "\n\n".join(escape_paragraph(p) for p in seed.paragraphs)
    post = frontmatter.Post(body, **metadata)
    text = frontmatter.dumps(post, sort_keys=False, width=10_000) + "\n"
    checksum = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return text.replace("\n---\n", f"\ningest_checksum: {checksum}\n---\n", 1)


def is_hand_edited(text: str) -> bool:
    match = CHECKSUM_LINE.search(text)
    if not match:
        return True  # no checksum: written by a person, never ours to overwrite
    recorded = match.group(0).split(":", 1)[1].strip()
    without = text[: match.start()] + text[match.end():]
    return hashlib.sha256(without.encode("utf-8")).hexdigest() != recorded


def _existing_articles(articles: Path, root: Path) -> dict[str, _Existing]:
    import frontmatter
    import yaml

    found: dict[str, _Existing] = {}
    for path in sorted(p for p in articles.glob("*.md") if p.is_file()):  # never a FIFO
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, ValueError):  # ValueError: not UTF-8 (the load stage reports it)
            continue
        try:
            metadata = frontmatter.loads(text).metadata
            unreadable = False
        except (ValueError, yaml.YAMLError):
            # ValueError covers impossible YAML dates (2016-13-45), which PyYAML raises
            # unwrapped. The load stage reports the file with its line.
            metadata, unreadable = _bookkeeping(text), True
        source = metadata.get("source")
        if isinstance(source, str) and source:
            found[source] = _Existing(path.relative_to(root), metadata,
                                      unreadable or is_hand_edited(text), unreadable)
    return found


def _bookkeeping(text: str) -> dict[str, Any]:
    """The bookkeeping lines of a front matter that does not parse (first of each wins)."""
    found: dict[str, Any] = {}
    for key, value in _BOOKKEEPING_LINE.findall(text.split("\n---", 1)[0]):
        found.setdefault(key, value.strip("'\""))
    return found


def _taken_over(record: SeedRecord | None, root: Path, claimed: set[Path]) -> _Existing | None:
    """The article the last build made from a seed, when it no longer names the seed (its
    `source:` line was deleted): the editor has taken it over, and it is kept as edited by
    hand rather than written again beside it."""
    if record is None or Path(record[2]) in claimed or not (root / record[2]).is_file():
        return None
    return _Existing(Path(record[2]), {}, hand_edited=True)


def _free_slug(seed: Seed, seed_path: Path, taken: set[str]) -> str:
    slug = slugify(seed.headline)
    if slug in taken:
        match = SEED_ID.match(seed_path.stem)
        slug = f"{slug}-{match.group(1)[:8] if match else slugify(seed_path.stem)}"
    base, n = slug, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _article_date(seed: Seed, old: _Existing | None, seed_path: Path, relative: Path,
                  config: SiteConfig, git_dates: dict[str, datetime],
                  now: datetime) -> tuple[datetime, str]:
    """The article's date, and what it was guessed from ("" when the seed or the article
    gave it): SEED-FORMAT asks for a warning whenever a field falls back."""
    tz = config.tz
    if seed.date is not None:
        return (seed.date.replace(tzinfo=tz) if seed.date.tzinfo is None else seed.date), ""
    if old and old.metadata.get("date"):
        previous = old.metadata["date"]
        if isinstance(previous, datetime):
            return (previous if previous.tzinfo else previous.replace(tzinfo=tz)), ""
        try:
            return datetime.fromisoformat(str(previous)), ""
        except ValueError:
            pass
    added = git_dates.get(relative.as_posix())
    if added is not None:
        return added.astimezone(tz), "the commit that added the seed"
    # Clamped to the build's "now" (SOURCE_DATE_EPOCH or --now when set, as reproducible builds
    # clamp file times): a seed saved after it, or with a clock-skewed mtime, would otherwise be
    # dated in the future, and a future article is not published.
    mtime = min(datetime.fromtimestamp(seed_path.stat().st_mtime, tz=UTC), now)
    return mtime.replace(microsecond=0).astimezone(tz), "the seed file's modification time"


def _git_added_dates(root: Path) -> dict[str, datetime]:
    """seed path -> date of the commit that first added it, from one `git log` call."""
    import subprocess

    try:
        result = subprocess.run(
            # --relative: names relative to the project even inside a larger repository;
            # quotePath off: non-ASCII names come out as written; --no-renames: stable
            # whatever the user's diff.renames setting.
            ["git", "-c", "core.quotePath=false", "log", "--relative", "--no-renames",
             "--diff-filter=A", "--format=@%cI", "--name-only", "--", "seeds"],
            cwd=root, capture_output=True, encoding="utf-8", errors="replace", timeout=60,
            check=False)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    if result.returncode != 0:
        return {}
    dates: dict[str, datetime] = {}
    current: datetime | None = None
    for line in result.stdout.splitlines():
        if line.startswith("@"):
            current = datetime.fromisoformat(line[1:])
        elif line and current is not None:
            dates[line] = current  # log is newest first: the last assignment is the first add
    return dates


def _write_atomic(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, target)
