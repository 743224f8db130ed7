"""Built pages, read through an HTML parser: front page, articles, listings, archives, metadata.

Two sites: the session's `built_site` (the real sample seed under /news/) and a purpose-built one
of 25 articles over two years (sitefactory.corpus) with a draft and a future-dated article.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import htmlutil
import pytest
from htmlutil import Element, meta_content, parse
from sitefactory import (
    BASE_URL,
    NOW,
    Article,
    build,
    corpus,
    output_file,
    set_key,
    url_of,
    with_extra,
    write_article,
    write_project,
)

from generator.urls import slugify

ARTICLES = corpus()
BY_DATE = sorted(ARTICLES, key=lambda a: a.date, reverse=True)
DRAFT = with_extra(Article("draft-story", "A draft story", NOW - timedelta(days=2)), draft=True)
FUTURE = Article("future-story", "A story from tomorrow", NOW + timedelta(days=1))
SAMPLE_TITLE = "We will soon decide whether to Deploy American Troops in Libya"
SAMPLE_STANDFIRST = (
    "According to Marine Gen. Joseph Dunford, chairman of the Joint Chiefs of Staff, the US wants "
    "to make her contribution to what is happening in Libya and remained stable in the forces")
SAMPLE_URL = f"{BASE_URL}2026/11/we-will-soon-decide-whether-to-deploy-american-troops-in-libya/"


@pytest.fixture(scope="module")
def news(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 25-article project (plus a draft and a future article), built; returns public/."""
    root = write_project(tmp_path_factory.mktemp("news") / "site", [*ARTICLES, DRAFT, FUTURE])
    return build(root)


def page(public: Path, url: str) -> Element:
    path = output_file(public, url)
    assert path.is_file(), f"{url}: no file {path}"
    return parse(path.read_text(encoding="utf-8"))


def html_files(public: Path) -> Iterator[Path]:
    return iter(sorted(public.rglob("*.html")))


def file_url(public: Path, path: Path) -> str:
    relative = path.relative_to(public).as_posix()
    return BASE_URL + relative.removesuffix("index.html")


def main(doc: Element) -> Element:
    return doc.one("main")


def article_links(container: Element, known: list[Article]) -> list[str]:
    """Distinct article URLs linked from `container`, in document order (as absolute URLs)."""
    wanted = {url_of(a).removeprefix("https://example.github.io") for a in known}
    links = [a.get("href") or "" for a in container.find_all("a")]
    return list(dict.fromkeys("https://example.github.io" + h for h in links if h in wanted))


def urls(articles: list[Article]) -> list[str]:
    return [url_of(a) for a in articles]


def rel(url: str) -> str:
    return url.removeprefix("https://example.github.io")


# --- every page -------------------------------------------------------------------------------


def check_head(public: Path, path: Path) -> list[str]:
    """Problems with one page's <head> metadata (empty list: fine)."""
    doc = parse(path.read_text(encoding="utf-8"))
    where = path.relative_to(public).as_posix()
    problems = []
    titles = doc.find_all("title")
    if len(titles) != 1 or not titles[0].text():
        problems.append(f"{where}: {len(titles)} <title> elements")
    descriptions = meta_content(doc, name="description")
    if len(descriptions) != 1 or not descriptions[0].strip():
        problems.append(f"{where}: meta description {descriptions}")
    canonicals = [link.get("href") for link in doc.find_all("link", rel="canonical")]
    expected = file_url(public, path)
    if path.name == "404.html":
        if len(canonicals) > 1 or not all((c or "").startswith(BASE_URL) for c in canonicals):
            problems.append(f"{where}: canonical {canonicals}")
    elif canonicals != [expected]:
        problems.append(f"{where}: canonical {canonicals}, expected {expected}")
    for prop in ("og:title", "og:type", "og:url", "og:description"):
        values = meta_content(doc, property=prop)
        if len(values) != 1 or not values[0].strip():
            problems.append(f"{where}: {prop} {values}")
    if meta_content(doc, property="og:url") != canonicals:
        problems.append(f"{where}: og:url differs from the canonical URL")
    if meta_content(doc, name="twitter:card") not in (["summary"], ["summary_large_image"]):
        problems.append(f"{where}: twitter:card {meta_content(doc, name='twitter:card')}")
    html = doc.find("html")
    if (doc.get("doctype") or "").lower() != "doctype html" or html is None or not html.get("lang"):
        problems.append(f"{where}: missing <!DOCTYPE html> or <html lang>")
    return problems


@pytest.mark.parametrize("which", ["built_site", "news"])
def test_every_page_has_title_description_canonical_and_social_tags(
        which: str, request: pytest.FixtureRequest) -> None:
    public = request.getfixturevalue(which)
    public = public / "public" if which == "built_site" else public
    pages = list(html_files(public))
    assert len(pages) >= 6
    problems = [problem for path in pages for problem in check_head(public, path)]
    assert problems == []


def test_titles_and_descriptions_of_listings_and_unsummarised_articles(tmp_path: Path) -> None:
    articles = corpus(12)
    lone = Article("lone", "Lone story", NOW - timedelta(days=400), tags=("Solitude",),
                   body="The first paragraph says what happened, to whom and where it happened, "
                        "in plain words that run on for well over one hundred and sixty "
                        "characters so that the description has to be cut.\n\nMore.")
    public = build(write_project(tmp_path / "site", [*articles, lone]))
    front2 = page(public, f"{BASE_URL}page/2/")
    assert front2.one("title").text() == "Page 2 | The Daily Seed"  # the site's name once
    tag = page(public, f"{BASE_URL}tags/solitude/")
    assert meta_content(tag, name="description") == ["Tag: Solitude — 1 article"]
    story = page(public, url_of(lone))
    [description] = meta_content(story, name="description")
    assert description.startswith("The first paragraph says what happened")
    assert description.endswith("…") and len(description) <= 160
    assert meta_content(story, property="og:description") == [description]
    assert meta_content(story, name="twitter:description") == [description]
    assert [data["description"] for data in json_ld(story)] == [description]
    # Feeds describe it the same way, not by its headline (RSS) or an empty summary (JSON).
    items = json.loads((public / "feed.json").read_text(encoding="utf-8"))["items"]
    [item] = [item for item in items if item["title"] == "Lone story"]
    assert item["summary"] == description
    assert f"<description>{description}</description>" in (public / "feed.xml").read_text(
        encoding="utf-8")


def test_tags_in_other_scripts_keep_their_own_pages(tmp_path: Path) -> None:
    moscow = Article("moscow", "Москва сегодня", NOW - timedelta(days=3), tags=("Москва",))
    tokyo = Article("tokyo", "東京のニュース", NOW - timedelta(days=2), tags=("東京",))
    languages = Article("languages", "Languages", NOW - timedelta(days=1), tags=("C++", "C#"))
    public = build(write_project(tmp_path / "site", [moscow, tokyo, languages]))
    tags = sorted(p.name for p in (public / "tags").iterdir() if p.is_dir())
    assert tags == sorted(["москва", "東京", "c-plus-plus", "c-sharp"])
    index = page(public, f"{BASE_URL}tags/")
    links = {a.text(): a.get("href") for a in main(index).find_all("a")}
    for name in ("Москва", "東京"):
        href = links[name]
        assert href is not None and href.isascii()  # percent-encoded in the page
        assert (public / unquote(href).removeprefix("/news/") / "index.html").is_file()
        listed = parse((public / unquote(href).removeprefix("/news/") / "index.html")
                       .read_text(encoding="utf-8"))
        assert [h.text() for h in main(listed).find_all("h2")] == [
            "Москва сегодня" if name == "Москва" else "東京のニュース"]


def test_og_type_is_article_on_articles_only(news: Path) -> None:
    for path in html_files(news):
        doc = parse(path.read_text(encoding="utf-8"))
        is_article = file_url(news, path) in urls(ARTICLES)
        assert meta_content(doc, property="og:type") == (["article"] if is_article
                                                         else ["website"]), path


# --- front page -------------------------------------------------------------------------------


def pagination_nav(doc: Element) -> Element:
    navs = [nav for nav in doc.find_all("nav") if "Page " in nav.text() and " of " in nav.text()]
    assert len(navs) == 1, "expected one pagination <nav> with 'Page N of M'"
    return navs[0]


def rel_link(nav: Element, rel_: str) -> str | None:
    links = nav.find_all("a", rel=rel_)
    assert len(links) <= 1
    return links[0].get("href") if links else None


def test_front_page_leads_with_the_newest_story_then_the_latest(news: Path) -> None:
    doc = page(news, BASE_URL)
    stories = main(doc).find_all("article")
    lead = stories[0]
    assert article_links(lead, ARTICLES) == [url_of(BY_DATE[0])]
    assert BY_DATE[0].summary in lead.text()
    assert lead.find("time", datetime=BY_DATE[0].date.isoformat()) is not None
    # The newest 10 come first, in order; section blocks further down may add older ones.
    assert article_links(main(doc), ARTICLES)[:10] == urls(BY_DATE[:10])
    assert [article_links(s, ARTICLES) for s in stories[:10]] == [[u] for u in urls(BY_DATE[:10])]
    assert doc.one("title").text() == "The Daily Seed"


def test_front_page_paginates_to_page_2_and_3(news: Path) -> None:
    expected = {1: (BASE_URL, BY_DATE[:10]), 2: (f"{BASE_URL}page/2/", BY_DATE[10:20]),
                3: (f"{BASE_URL}page/3/", BY_DATE[20:])}
    for number, (url, articles) in expected.items():
        doc = page(news, url)
        shown = article_links(main(doc), ARTICLES)
        assert (shown[:10] if number == 1 else shown) == urls(articles), url
        nav = pagination_nav(doc)
        assert f"Page {number} of 3" in nav.text()
        previous = expected.get(number - 1)
        following = expected.get(number + 1)
        assert rel_link(nav, "prev") == (rel(previous[0]) if previous else None)
        assert rel_link(nav, "next") == (rel(following[0]) if following else None)
        hrefs = [a.get("href") for a in nav.find_all("a")]
        assert all(rel(u) in hrefs for u, _ in expected.values())
    assert not output_file(news, f"{BASE_URL}page/4/").exists()
    assert not output_file(news, f"{BASE_URL}page/1/").exists()


# --- article page -----------------------------------------------------------------------------


def expected_related(article: Article, limit: int = 4) -> list[Article]:
    mine = {slugify(t) for t in article.tags}
    scored = [(len(mine & {slugify(t) for t in other.tags}), other) for other in ARTICLES
              if other is not article]
    ranked = sorted((s for s in scored if s[0]), key=lambda s: (-s[0], -s[1].date.timestamp()))
    return [other for _, other in ranked[:limit]]


@pytest.mark.parametrize("index", [0, 5, 7, 24])
def test_article_page(news: Path, index: int) -> None:
    article = ARTICLES[index]
    doc = page(news, url_of(article))
    body = main(doc)
    assert body.one("h1").text() == article.title
    assert doc.one("title").text().startswith(article.title)
    assert article.summary in [p.text() for p in body.find_all("p")]
    times = body.find_all("time")
    assert [t.get("datetime") for t in times[:1]] == [article.date.isoformat()]
    assert datetime.fromisoformat(times[0].get("datetime") or "").tzinfo is not None
    assert f"{article.date.day} {article.date:%B %Y}" in times[0].text()
    assert "Photo: Agency" in body.text()
    words = 4 + (index + 1) * 40
    assert f"{math.ceil(words / 230)} min read" in body.text()
    assert f"Body of story {index:02d}." in body.text()
    check_byline(body, article)
    tags = [(a.get("href"), a.text()) for a in body.find_all("a", rel="tag")]
    assert tags == [(f"/news/tags/{slugify(t)}/", t) for t in article.tags]
    related = [a for a in body.find_all("aside") if "Related" in a.text()]
    assert [article_links(r, ARTICLES) for r in related] == [urls(expected_related(article))]
    check_previous_next(body, article)


def check_byline(body: Element, article: Article) -> None:
    authors = [(a.get("href"), a.text()) for a in body.find_all("a")
               if (a.get("href") or "").startswith("/news/authors/")]
    assert authors == [(f"/news/authors/{slugify(n)}/", n) for n in article.authors]
    byline = "By " + " and ".join(article.authors)
    assert (byline in body.text()) == bool(article.authors)


def check_previous_next(body: Element, article: Article) -> None:
    position = BY_DATE.index(article)
    older = BY_DATE[position + 1] if position + 1 < len(BY_DATE) else None
    newer = BY_DATE[position - 1] if position > 0 else None
    prev_links = [a.get("href") for a in body.find_all("a", rel="prev")]
    next_links = [a.get("href") for a in body.find_all("a", rel="next")]
    assert prev_links == ([rel(url_of(older))] if older else [])
    assert next_links == ([rel(url_of(newer))] if newer else [])


def json_ld(doc: Element) -> list[dict[str, object]]:
    return [json.loads(s.raw_text()) for s in doc.find_all("script", type="application/ld+json")]


def test_article_json_ld_is_a_complete_news_article(news: Path) -> None:
    article = ARTICLES[5]  # two authors
    doc = page(news, url_of(article))
    [data] = json_ld(doc)
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "NewsArticle"
    assert data["headline"] == article.title
    assert data["datePublished"] == article.date.isoformat()
    assert datetime.fromisoformat(str(data["dateModified"])) >= article.date
    assert data["author"] == [
        {"@type": "Person", "name": name, "url": f"{BASE_URL}authors/{slugify(name)}/"}
        for name in article.authors]
    publisher = data["publisher"]
    assert isinstance(publisher, dict)
    assert publisher["@type"] == "Organization" and publisher["name"] == "The Daily Seed"
    logo = publisher["logo"]["url"]
    assert logo.startswith(BASE_URL) and output_file(news, logo).is_file()
    assert data["mainEntityOfPage"] == {"@type": "WebPage", "@id": url_of(article)}
    assert [link.get("href") for link in doc.find_all("link", rel="canonical")] == [url_of(article)]


def test_json_ld_of_an_article_without_authors_names_the_publisher(news: Path) -> None:
    [data] = json_ld(page(news, url_of(ARTICLES[3])))
    assert data["author"] == [{"@type": "Organization", "name": "The Daily Seed"}]


def test_pages_other_than_articles_carry_no_json_ld(news: Path) -> None:
    for url in (BASE_URL, f"{BASE_URL}about/", f"{BASE_URL}tags/", f"{BASE_URL}section/world/"):
        assert json_ld(page(news, url)) == [], url


HOSTILE = 'Breaking </script><script>alert("x")</script> <!-- & \u2028 "quotes" </SCRIPT >'


def test_a_headline_cannot_break_out_of_the_json_ld_script(tmp_path: Path) -> None:
    article = Article("hostile", HOSTILE, NOW - timedelta(hours=3), summary=f"Summary {HOSTILE}",
                      tags=("</script>",), authors=("Eve </script>",))
    public = build(write_project(tmp_path / "site", [article]))
    doc = page(public, url_of(article))
    scripts = doc.find_all("script")
    assert [s.get("type") for s in scripts] == ["application/ld+json"]
    data = json.loads(scripts[0].raw_text())
    assert data["headline"] == HOSTILE
    assert data["description"] == f"Summary {HOSTILE}"
    assert data["author"][0]["name"] == "Eve </script>"
    assert main(doc).one("h1").text() == " ".join(HOSTILE.split())
    assert meta_content(doc, property="og:title") == [HOSTILE]


# --- listings: sections, tags, authors --------------------------------------------------------


def check_listing(public: Path, base: str, members: list[Article], per_page: int = 10) -> None:
    """Every page of a paginated listing shows the right articles, newest first."""
    members = sorted(members, key=lambda a: a.date, reverse=True)
    pages = max(1, math.ceil(len(members) / per_page))
    for number in range(1, pages + 1):
        url = base if number == 1 else f"{base}page/{number}/"
        doc = page(public, url)
        chunk = members[(number - 1) * per_page: number * per_page]
        assert article_links(main(doc), ARTICLES) == urls(chunk), url
        if pages > 1:
            nav = pagination_nav(doc)
            assert f"Page {number} of {pages}" in nav.text()
            assert rel_link(nav, "next") == (rel(f"{base}page/{number + 1}/")
                                             if number < pages else None)
            assert rel_link(nav, "prev") == (None if number == 1 else rel(
                base if number == 2 else f"{base}page/{number - 1}/"))
        else:
            assert not [n for n in doc.find_all("nav") if "Page 1 of" in n.text()], url
    assert not output_file(public, f"{base}page/{pages + 1}/").exists()


def test_section_pages(news: Path) -> None:
    for section in ("world", "politics", "business", "science", "sport"):
        members = [a for a in ARTICLES if a.section == section]
        check_listing(news, f"{BASE_URL}section/{section}/", members)
    doc = page(news, f"{BASE_URL}section/world/")
    assert doc.one("h1").text() == "World"
    assert not output_file(news, f"{BASE_URL}section/news/").exists()  # no articles: no page


def test_tag_pages(news: Path) -> None:
    tags = {t for a in ARTICLES for t in a.tags}
    for tag in tags:
        check_listing(news, f"{BASE_URL}tags/{slugify(tag)}/", [a for a in ARTICLES if tag in a.tags])
    assert "Libya" in page(news, f"{BASE_URL}tags/libya/").one("h1").text()


def test_author_pages(news: Path) -> None:
    for name in ("Ann Reporter", "Bob Writer", "Chloé Durand"):
        check_listing(news, f"{BASE_URL}authors/{slugify(name)}/",
                      [a for a in ARTICLES if name in a.authors])
    assert page(news, f"{BASE_URL}authors/chloe-durand/").one("h1").text() == "Chloé Durand"


def index_entries(doc: Element) -> dict[str, tuple[str, str]]:
    """href -> (link text, text of the link's list item) for the links of an index page."""
    return {a.get("href") or "": (a.text(), (a.parent or a).text())
            for a in main(doc).find_all("a")}


def test_tags_index_lists_every_tag_with_its_count(news: Path) -> None:
    entries = index_entries(page(news, f"{BASE_URL}tags/"))
    tags = sorted({t for a in ARTICLES for t in a.tags})
    for tag in tags:
        count = sum(tag in a.tags for a in ARTICLES)
        name, item = entries[f"/news/tags/{slugify(tag)}/"]
        assert name == tag and f"({count})" in item
    assert len([h for h in entries if h.startswith("/news/tags/")]) == len(tags)


def test_authors_index_lists_every_author_with_its_count(news: Path) -> None:
    entries = index_entries(page(news, f"{BASE_URL}authors/"))
    for author, count in (("Ann Reporter", 13), ("Bob Writer", 6), ("Chloé Durand", 1)):
        name, item = entries[f"/news/authors/{slugify(author)}/"]
        assert name == author and f"({count})" in item
    assert len([h for h in entries if h.startswith("/news/authors/")]) == 3


# --- archives ---------------------------------------------------------------------------------


def months_of(articles: list[Article]) -> dict[str, list[Article]]:
    months: dict[str, list[Article]] = {}
    for article in BY_DATE:
        if article in articles:
            months.setdefault(f"{article.date:%Y/%m}", []).append(article)
    return months


def test_archive_index_links_every_month_and_year(news: Path) -> None:
    entries = index_entries(page(news, f"{BASE_URL}archive/"))
    for month, members in months_of(ARTICLES).items():
        name, item = entries[f"/news/archive/{month}/"]
        assert name == f"{members[0].date:%B %Y}" and f"({len(members)})" in item
    assert {"/news/archive/2025/", "/news/archive/2026/"} <= set(entries)


def test_archive_year_lists_only_its_months(news: Path) -> None:
    for year in ("2025", "2026"):
        entries = index_entries(page(news, f"{BASE_URL}archive/{year}/"))
        months = {m for m in months_of(ARTICLES) if m.startswith(year)}
        listed = {h.removeprefix("/news/archive/").strip("/") for h in entries
                  if h.startswith(f"/news/archive/{year}/") and h.count("/") == 5}
        assert listed == months and len(months) >= 5


def test_archive_month_lists_its_articles_newest_first(news: Path) -> None:
    for month, members in months_of(ARTICLES).items():
        doc = page(news, f"{BASE_URL}archive/{month}/")
        assert article_links(main(doc), ARTICLES) == urls(members), month
        assert f"{members[0].date:%B %Y}" in doc.one("h1").text()


def test_archive_months_paginate_at_archive_paginate(tmp_path: Path) -> None:
    root = write_project(tmp_path / "site", ARTICLES)
    set_key(root, "archive_paginate", "1")  # stories are 23 days apart: 1 or 2 a month
    public = build(root)
    months = months_of(ARTICLES)
    assert max(len(members) for members in months.values()) == 2  # some month has two pages
    for month, members in months.items():
        base = f"{BASE_URL}archive/{month}/"
        check_listing(public, base, members, per_page=1)
        pages = len(members)
        for number in range(1, pages + 1):
            doc = page(public, base if number == 1 else f"{base}page/{number}/")
            count = f"{len(members)} article{'s' if len(members) != 1 else ''}"
            assert count in doc.one("p", class_="listing-meta").text()  # the month's, not the page's
            title = f"Archive: {members[0].date:%B %Y}" + (f" — page {number}" if number > 1 else "")
            assert doc.one("title").text().startswith(title), (month, number)
    # Other listings keep `paginate` (10).
    check_listing(public, f"{BASE_URL}section/world/", [a for a in ARTICLES if a.section == "world"])


# --- standalone pages -------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["built_site", "news"])
def test_about_page_comes_from_content_pages(which: str, request: pytest.FixtureRequest) -> None:
    public = request.getfixturevalue(which)
    public = public / "public" if which == "built_site" else public
    doc = page(public, f"{BASE_URL}about/")
    assert main(doc).one("h1").text() == "About us"
    assert main(doc).find("strong") is not None and "The Daily Seed" in main(doc).text()
    assert meta_content(doc, name="description") == ["Who we are and how we report."]
    front = page(public, BASE_URL)
    assert [a.text() for a in front.find_all("a", href="/news/about/")] == ["About us"]


@pytest.mark.parametrize("which", ["built_site", "news"])
def test_404_page_links_absolutely_into_the_site(which: str, request: pytest.FixtureRequest
                                                  ) -> None:
    # GitHub Pages serves 404.html for any missing path, so relative links would break.
    public = request.getfixturevalue(which)
    public = public / "public" if which == "built_site" else public
    doc = parse((public / "404.html").read_text(encoding="utf-8"))
    assert main(doc).one("h1").text() == "Page not found"
    hrefs = [a.get("href") or "" for a in doc.find_all("a")]
    hrefs += [link.get("href") or "" for link in doc.find_all("link")]
    assert "/news/" in hrefs
    assert all(h.startswith(("/news/", "#", BASE_URL)) for h in hrefs), hrefs
    assert meta_content(doc, name="robots") == ["noindex"]


def test_search_page_has_a_working_form(built_site: Path) -> None:
    doc = page(built_site / "public", f"{BASE_URL}search/")
    form = main(doc).one("form")
    assert form.get("action") == "/news/search/" and (form.get("method") or "get").lower() == "get"
    field = form.one("input", name="q")
    labels = [label for label in form.find_all("label") if label.get("for") == field.get("id")]
    assert len(labels) == 1 and field.get("id")


# --- the sample seed --------------------------------------------------------------------------


def test_built_site_publishes_the_sample_article(built_site: Path) -> None:
    """The session site must show the sample article (run_cli's reference time must not be
    earlier than the sample's date, or the only article is dropped as future-dated)."""
    public = built_site / "public"
    front = page(public, BASE_URL)
    assert SAMPLE_URL.removeprefix("https://example.github.io") in [
        a.get("href") for a in main(front).find_all("a")]
    doc = page(public, SAMPLE_URL)
    body = main(doc)
    assert body.one("h1").text() == SAMPLE_TITLE
    assert SAMPLE_STANDFIRST in [p.text() for p in body.find_all("p")]
    assert "Photo: AP" in body.text() and "By " not in body.text()
    assert [a.text() for a in body.find_all("a", rel="tag")] == [
        "U.S.", "Dunford", "Islamic State", "Libya", "Joint Chiefs of Staff"]
    assert body.find("a", href="/news/tags/u-s/") is not None
    assert "2 min read" in body.text()
    assert any(p.text().startswith('"The Egyptians are taking the fight') for p in body.iter()
               if p.tag == "p")
    [data] = json_ld(doc)
    assert data["headline"] == SAMPLE_TITLE


# --- drafts and future-dated articles ---------------------------------------------------------


def files_mentioning(public: Path, slug: str) -> list[str]:
    return sorted(p.relative_to(public).as_posix() for p in public.rglob("*")
                  if p.is_file() and slug.encode() in p.read_bytes())


def test_drafts_and_future_articles_are_left_out_by_default(news: Path) -> None:
    assert files_mentioning(news, DRAFT.slug) == []
    assert files_mentioning(news, FUTURE.slug) == []
    assert (news / f"{DRAFT.date:%Y/%m}").is_dir()  # the month exists, only the draft is missing


@pytest.fixture
def copy_of_news(news: Path, tmp_path: Path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(news.parent, root, ignore=shutil.ignore_patterns("public", ".*"))
    return root


def test_drafts_flag_includes_drafts_only(copy_of_news: Path) -> None:
    public = build(copy_of_news, "--drafts")
    assert output_file(public, url_of(DRAFT)).is_file()
    assert "feed.xml" in files_mentioning(public, DRAFT.slug)
    assert files_mentioning(public, FUTURE.slug) == []


def test_future_flag_includes_future_articles(copy_of_news: Path) -> None:
    public = build(copy_of_news, "--future")
    assert output_file(public, url_of(FUTURE)).is_file()
    assert article_links(main(page(public, BASE_URL)), [FUTURE])[:1] == [url_of(FUTURE)]
    assert files_mentioning(public, DRAFT.slug) == []


def test_the_reference_time_is_source_date_epoch(copy_of_news: Path) -> None:
    later = int((NOW + timedelta(days=2)).timestamp())
    public = build(copy_of_news, env={"SOURCE_DATE_EPOCH": str(later)})
    assert output_file(public, url_of(FUTURE)).is_file()
    assert files_mentioning(public, DRAFT.slug) == []


def test_now_option_overrides_the_reference_time(copy_of_news: Path) -> None:
    write_article(copy_of_news, Article("old-news", "Old news", NOW - timedelta(days=400)))
    public = build(copy_of_news, "--now", (NOW - timedelta(days=300)).isoformat())
    assert output_file(public, f"{BASE_URL}{NOW - timedelta(days=400):%Y/%m}/old-news/").is_file()
    newest_left = next(a for a in BY_DATE if a.date <= NOW - timedelta(days=300))
    assert article_links(main(page(public, BASE_URL)), ARTICLES)[0] == url_of(newest_left)
    assert not output_file(public, url_of(BY_DATE[0])).exists()


# --- the parser the tests rely on -------------------------------------------------------------


def test_htmlutil_parses_like_a_browser_for_our_cases() -> None:
    doc = parse('<!DOCTYPE html><p class="a b">One &amp; <br>two<p>three<ul><li>x<li>y</ul>'
                '<script type="t">if (a < b) { "</p>" }</script><img src="i.png" srcset="s 2x">')
    assert doc.get("doctype") == "DOCTYPE html"
    assert [p.text() for p in doc.find_all("p")] == ["One & two", "three"]
    assert doc.one("p", class_="b").line == 1
    assert [li.text() for li in doc.find_all("li")] == ["x", "y"]
    assert doc.one("script", type="t").raw_text() == 'if (a < b) { "</p>" }'
    assert doc.find("img", alt=False) is not None and doc.find("img", src=True) is not None
    assert htmlutil.urls(doc) == ["i.png", "s"]
