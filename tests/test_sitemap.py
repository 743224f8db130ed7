"""sitemap.xml, news-sitemap.xml and robots.txt of built sites, read with an XML parser.

Every <loc> must be absolute under base_url and served by a file in public/; the News sitemap
holds only the articles of the two days before the reference time (SOURCE_DATE_EPOCH).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sitefactory import NOW, Article, build, corpus, output_file, url_of, write_project

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"
BASE = "https://example.github.io/news/"
ARTICLES = corpus()
# Around the edges of the News window: 1 hour, 47 hours and 49 hours before the reference time.
RECENT = [Article("fresh", "Fresh & <new>", NOW - timedelta(hours=1), authors=("Ann Reporter",)),
          Article("yesterday", "Two days ago almost", NOW - timedelta(hours=47)),
          Article("stale", "Just too old", NOW - timedelta(hours=49))]
FUTURE = Article("tomorrow", "Not yet", NOW + timedelta(hours=3))


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sitemap") / "site"
    return build(write_project(root, [*ARTICLES, *RECENT, FUTURE]))


def locs(root: ET.Element) -> list[str]:
    return [loc.text or "" for loc in root.iter(f"{SM}loc")]


def test_sitemap_lists_every_page_with_absolute_urls_served_by_files(public: Path) -> None:
    root = ET.fromstring((public / "sitemap.xml").read_bytes())
    assert root.tag == f"{SM}urlset"
    urls = locs(root)
    assert len(urls) == len(set(urls)), "duplicate <loc>"
    for url in urls:
        assert url.startswith(BASE), url
        assert output_file(public, url).is_file(), url
    expected = {url_of(a) for a in [*ARTICLES, *RECENT]} | {BASE, f"{BASE}about/"}
    expected |= {f"{BASE}section/{s}/" for s in ("world", "politics", "business", "science",
                                                 "sport", "news")}
    assert expected <= set(urls)
    assert url_of(FUTURE) not in urls
    for entry in root.iter(f"{SM}url"):
        lastmod = entry.findtext(f"{SM}lastmod")
        if lastmod is not None:  # W3C datetime with a time zone
            assert datetime.fromisoformat(lastmod).tzinfo is not None


def test_sitemap_lastmod_of_an_article_is_its_date(public: Path) -> None:
    root = ET.fromstring((public / "sitemap.xml").read_bytes())
    lastmod = {u.findtext(f"{SM}loc"): u.findtext(f"{SM}lastmod") for u in root.iter(f"{SM}url")}
    for article in ARTICLES:
        assert datetime.fromisoformat(lastmod[url_of(article)] or "") == article.date


def test_news_sitemap_holds_only_the_last_two_days(public: Path) -> None:
    data = (public / "news-sitemap.xml").read_bytes()
    root = ET.fromstring(data)
    assert root.tag == f"{SM}urlset"
    assert b'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"' in data
    entries = {u.findtext(f"{SM}loc"): u for u in root.iter(f"{SM}url")}
    assert list(entries) == [url_of(RECENT[0]), url_of(ARTICLES[0]), url_of(RECENT[1])]
    for url, entry in entries.items():
        assert url and output_file(public, url).is_file()
        news = entry.find(f"{NEWS}news")
        assert news is not None
        assert news.findtext(f"{NEWS}publication/{NEWS}name") == "The Daily Seed"
        assert news.findtext(f"{NEWS}publication/{NEWS}language") == "en"
        published = datetime.fromisoformat(news.findtext(f"{NEWS}publication_date") or "")
        assert NOW - timedelta(days=2) <= published <= NOW
    fresh = entries[url_of(RECENT[0])].find(f"{NEWS}news")
    assert fresh is not None and fresh.findtext(f"{NEWS}title") == "Fresh & <new>"


def test_news_sitemap_follows_the_reference_time(tmp_path: Path) -> None:
    root = write_project(tmp_path / "site", [*RECENT, FUTURE])
    later = NOW + timedelta(days=1)  # FUTURE is published now; only it and "fresh" are recent
    public = build(root, env={"SOURCE_DATE_EPOCH": str(int(later.timestamp()))})
    listed = locs(ET.fromstring((public / "news-sitemap.xml").read_bytes()))
    assert listed == [url_of(FUTURE), url_of(RECENT[0])]


def test_news_sitemap_without_recent_articles_is_an_empty_valid_urlset(tmp_path: Path) -> None:
    old = [Article("old", "Old", NOW - timedelta(days=30))]
    public = build(write_project(tmp_path / "site", old))
    root = ET.fromstring((public / "news-sitemap.xml").read_bytes())
    assert root.tag == f"{SM}urlset" and locs(root) == []


def test_robots_txt_names_both_sitemaps(public: Path) -> None:
    lines = (public / "robots.txt").read_text(encoding="utf-8").splitlines()
    sitemaps = [line.split(":", 1)[1].strip() for line in lines
                if line.lower().startswith("sitemap:")]
    assert sitemaps == [f"{BASE}sitemap.xml", f"{BASE}news-sitemap.xml"]
    assert "User-agent: *" in lines
    assert not any(line.lower().startswith("disallow: /") and line.strip() != "Disallow:"
                   for line in lines)


def test_built_site_sitemaps_are_valid_and_point_into_the_site(built_site: Path) -> None:
    public = built_site / "public"
    for name in ("sitemap.xml", "news-sitemap.xml"):
        root = ET.fromstring((public / name).read_bytes())
        assert root.tag == f"{SM}urlset"
        for url in locs(root):
            assert url.startswith(BASE) and output_file(public, url).is_file(), url
    assert f"{BASE}about/" in locs(ET.fromstring((public / "sitemap.xml").read_bytes()))


def test_a_site_above_the_sitemap_limit_gets_an_index_and_parts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """sitemaps.org allows 50,000 URLs a file (a 100,000-article archive has twice that):
    above the limit /sitemap.xml is a sitemap index of parts, together listing every URL the
    single sitemap would; publishing an article re-writes only the last part and the index."""
    import shutil

    from conftest import age

    from generator import routes
    from generator.build import Builder, BuildOptions

    options = BuildOptions(ingest=False, search=False, now=NOW, jobs=1)
    single = write_project(tmp_path / "single", ARTICLES)
    Builder(single, options).build()
    expected = locs(ET.fromstring((single / "public" / "sitemap.xml").read_bytes()))
    assert len(expected) == len(ARTICLES) + 1 + 1 + 5  # front, about, five sections

    monkeypatch.setattr(routes, "SITEMAP_LIMIT", 12)  # 32 entries: parts of 12, 12 and 8
    root = write_project(tmp_path / "split", ARTICLES)
    age(root)
    Builder(root, options).build()
    public = root / "public"
    index = ET.fromstring((public / "sitemap.xml").read_bytes())
    assert index.tag == f"{SM}sitemapindex"
    parts = [(entry.findtext(f"{SM}loc") or "", entry.findtext(f"{SM}lastmod"))
             for entry in index.iter(f"{SM}sitemap")]
    assert [loc for loc, _ in parts] == [f"{BASE}sitemap-{n}.xml" for n in (1, 2, 3)]
    listed: list[str] = []
    for loc, lastmod in parts:
        part = ET.fromstring(output_file(public, loc).read_bytes())
        assert part.tag == f"{SM}urlset"
        urls = locs(part)
        assert 1 <= len(urls) <= 12
        assert all(output_file(public, url).is_file() for url in urls)
        dates = [datetime.fromisoformat(d.text or "") for d in part.iter(f"{SM}lastmod")]
        assert datetime.fromisoformat(lastmod or "") == max(dates)  # the part's newest
        listed += urls
    assert sorted(listed) == sorted(expected)
    robots = (public / "robots.txt").read_text(encoding="utf-8")
    assert f"Sitemap: {BASE}sitemap.xml" in robots  # the index: crawlers find the parts

    before = {p.name: p.read_bytes() for p in public.glob("sitemap*.xml")}
    newest = Article("breaking", "Breaking news", NOW - timedelta(hours=2))
    write_project(tmp_path / "scratch", [newest])  # writes the article's Markdown
    shutil.copy(tmp_path / "scratch" / "content" / "articles" / "breaking.md",
                root / "content" / "articles" / "breaking.md")
    Builder(root, options).build()
    after = {p.name: p.read_bytes() for p in public.glob("sitemap*.xml")}
    changed = sorted(name for name in after if after[name] != before.get(name))
    assert changed == ["sitemap-3.xml", "sitemap.xml"]
    assert url_of(newest) in locs(ET.fromstring(after["sitemap-3.xml"]))
