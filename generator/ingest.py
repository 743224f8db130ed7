"""Ingest stage: seeds/*.txt -> content/articles/<slug>.md (front matter + escaped Markdown).

The only writer into content/. Idempotent: an unchanged seed writes nothing; a changed seed
regenerates its article unless the Markdown was edited by hand since ingest (detected with the
`ingest_checksum` it carries), in which case the file is kept and a warning names it. Never a
second article for a seed: an article that cannot be read, or whose `source:` line was deleted,
is still the seed's (seedarticles.py finds it), and is kept. Never overwrites or deletes
anything but an article it wrote itself.
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
from .seedarticles import ArticleIndex, ExistingArticle, SeedRecord
from .urls import slugify

# The seed parser, YAML and Markdown are imported where a seed is actually (re)ingested: every
# build runs ingest, and most find no seed changed.
if TYPE_CHECKING:
    from .seed import Seed

SEED_ID = re.compile(r"^\d+_([0-9a-f]{16})$")
# The record of a seed whose article was kept (edited by hand, taken over, unreadable): no size
# and mtime match it, so the seed is read again next time, but the article it became is known.
_REREAD = -1


@dataclass(slots=True)
class IngestReport:
    written: list[Path] = field(default_factory=list)
    unchanged: int = 0
    kept: list[Path] = field(default_factory=list)
    failed: int = 0
    diagnostics: list[Diagnostic] = field(default_factory=list)
    records: dict[str, SeedRecord] = field(default_factory=dict)


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
        run = _IngestRun(config, report, now or reference_time(), known or {})
        for seed_path in pending:
            run.ingest_seed(seed_path)
    return report


class _IngestRun:
    """One ingest of the seeds that changed, or that the build cache does not vouch for."""

    def __init__(self, config: SiteConfig, report: IngestReport, now: datetime,
                 known: dict[str, SeedRecord]) -> None:
        self.config, self.report, self.now, self.known = config, report, now, known
        self.articles = ArticleIndex(config.root)
        self.taken = {p.stem for p in (config.root / "content" / "articles").glob("*.md")}
        self.git_dates: dict[str, datetime] | None = None

    def ingest_seed(self, seed_path: Path) -> None:
        from .seed import parse_seed
        from .seedlines import comparison_key

        relative = seed_path.relative_to(self.config.root)
        try:
            raw = seed_path.read_bytes()
            st = seed_path.stat()
        except OSError as err:
            self._fail(Diagnostic("error", f"cannot read seed: {err.strerror}",
                                  SourceLocation(relative), "check the file's permissions"))
            return
        sha = hashlib.sha256(raw).hexdigest()
        key, stat = relative.as_posix(), (st.st_size, st.st_mtime_ns)
        # The seed's article, however it is found: a second article is never written for it.
        old = (self.articles.named(key) or self.articles.recorded(self.known.get(key))
               or self.articles.detached_with_sha(sha))
        if old is not None and self._keeps(old, relative, sha, None, stat):
            return  # decided without reading the seed (a bad seed does not matter then)
        try:
            seed = parse_seed(raw, relative)
        except GeneratorError as err:
            self._fail(err.diagnostic())
            return
        old = old or self.articles.detached_for(_slug_pattern(seed, seed_path),
                                                comparison_key(seed.headline))
        if old is not None and self._keeps(old, relative, sha, seed, stat):
            return
        self.report.diagnostics.extend(seed.warnings)
        self._write(seed, seed_path, relative, sha, old, stat)

    def _keeps(self, old: ExistingArticle, relative: Path, sha: str, seed: Seed | None,
               stat: tuple[int, int]) -> bool:
        """Whether `old` stays as it is (with a warning when the seed's news is left out)."""
        key = relative.as_posix()
        if old.problem:
            # Never a second article for the seed: the build reports the broken file too.
            where = f"line {old.line}: " if old.line else ""
            return self._keep(old, key, f"{old.path} cannot be read ({where}{old.problem}), so "
                              f"{relative} was not ingested again",
                              f"fix its front matter, or delete it to regenerate it from "
                              f"{relative}")
        if (old.metadata.get("source_sha256") == sha
                and old.metadata.get("ingest_version") == INGEST_VERSION):
            self.report.unchanged += 1
            self.report.records[key] = (*stat, old.path.as_posix())
            return True
        if old.detached:
            return self._keep(old, key, f"{old.path} no longer names its seed (its source: line "
                              f"was deleted), so {relative} was not ingested again",
                              f"the article is now yours: ingest never overwrites it. Put the "
                              f"line 'source: {key}' back to have it managed again, or delete "
                              f"{old.path} to regenerate it from the seed")
        if old.hand_edited:
            return self._keep(old, key, f"seed changed but {old.path} was edited by hand; kept it",
                              f"delete {old.path} to regenerate it from {relative}")
        if seed is not None and not seed.paragraphs and not old.metadata.get("draft"):
            # A seed that lost its body is a broken feed more often than a withdrawn story:
            # the published article stays up rather than turning into an empty draft.
            return self._keep(old, key, f"{relative} now has only a headline; kept {old.path} "
                              "as it was", f"restore the seed's text; if the story was "
                              f"withdrawn, set draft: true in {old.path} or delete it")
        return False

    def _keep(self, old: ExistingArticle, key: str, message: str, hint: str) -> bool:
        self.report.kept.append(old.path)
        self.report.diagnostics.append(Diagnostic(
            "warning", message, SourceLocation(old.path, old.line), hint))
        self.report.records[key] = (_REREAD, _REREAD, old.path.as_posix())
        return True

    def _fail(self, diagnostic: Diagnostic) -> None:
        self.report.failed += 1
        self.report.diagnostics.append(diagnostic)

    def _write(self, seed: Seed, seed_path: Path, relative: Path, sha: str,
               old: ExistingArticle | None, stat: tuple[int, int]) -> None:
        config, root = self.config, self.config.root
        if seed.date is None and (old is None or not old.metadata.get("date")) \
                and self.git_dates is None:
            self.git_dates = _git_added_dates(root)
        date, dated_by = _article_date(seed, old, seed_path, relative, config,
                                       self.git_dates or {}, self.now)
        if dated_by:
            self.report.diagnostics.append(Diagnostic(
                "warning", f"no date line; dated {date.isoformat()} from {dated_by}",
                SourceLocation(relative),
                "add a line such as 'Published: 2016-04-21' to the seed, or set date: in the "
                "article (a changed seed keeps the article's date)"))
        slug = old.path.stem if old else _free_slug(seed, seed_path, self.taken)
        self.taken.add(slug)
        target = root / "content" / "articles" / f"{slug}.md"
        _write_atomic(target, article_text(seed, slug, date, sha, relative, config))
        self.report.written.append(target.relative_to(root))
        self.report.records[relative.as_posix()] = (*stat, target.relative_to(root).as_posix())


def article_text(seed: Seed, slug: str, date: datetime, sha: str, source: Path,
                 config: SiteConfig) -> str:
    import frontmatter

    from .enrich import derive_tags, pick_section
    from .markup import escape_paragraph

    metadata: dict[str, Any] = {"title": seed.headline, "slug": slug, "date": date.isoformat()}
    updated = _in_zone(seed.updated, config) if seed.updated else None
    if updated is not None and updated > date:  # an update time before publication is noise
        metadata["updated"] = updated.isoformat()
    metadata |= {
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


def _free_slug(seed: Seed, seed_path: Path, taken: set[str]) -> str:
    slug = slugify(seed.headline)
    if slug in taken:
        slug = f"{slug}-{_seed_suffix(seed_path)}"
    base, n = slug, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _seed_suffix(seed_path: Path) -> str:
    """What tells apart the slugs of seeds with one headline: the id in the seed's file name."""
    match = SEED_ID.match(seed_path.stem)
    return match.group(1)[:8] if match else slugify(seed_path.stem)


def _slug_pattern(seed: Seed, seed_path: Path) -> re.Pattern[str]:
    """Every file name `_free_slug` may have given the seed's article."""
    slug, suffix = re.escape(slugify(seed.headline)), re.escape(_seed_suffix(seed_path))
    return re.compile(rf"{slug}(?:-{suffix})?(?:-[0-9]+)?")


def _article_date(seed: Seed, old: ExistingArticle | None, seed_path: Path, relative: Path,
                  config: SiteConfig, git_dates: dict[str, datetime],
                  now: datetime) -> tuple[datetime, str]:
    """The article's date, and what it was guessed from ("" when the seed or the article
    gave it): SEED-FORMAT asks for a warning whenever a field falls back."""
    tz = config.tz
    if seed.date is not None:
        return _in_zone(seed.date, config), ""
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


def _in_zone(when: datetime, config: SiteConfig) -> datetime:
    """A seed's date: one without a zone is read in the site's `timezone`."""
    return when.replace(tzinfo=config.tz) if when.tzinfo is None else when


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
