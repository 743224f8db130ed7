"""Unit tests for urls: slugs, safe output paths, and links under a base_url sub-path."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.errors import RouteError
from generator.urls import RESERVED, Urls, output_path, paginated, slugify

SLUG = re.compile(r"^[a-z0-9\u0080-\U0010ffff]+(?:-[a-z0-9\u0080-\U0010ffff]+)*$")


# --- slugify -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("We will soon decide whether to Deploy American Troops in Libya",
         "we-will-soon-decide-whether-to-deploy-american-troops-in-libya"),
        ("Héllo Wörld", "hello-world"),
        ("L'État, c'est moi!", "l-etat-c-est-moi"),
        ("São Paulo – “quotes” & ‘more’", "sao-paulo-quotes-more"),
        ("Straße in Düsseldorf", "strasse-in-dusseldorf"),
        ("Łódź, Øresund, Æsir, Œuvre, þing", "lodz-oresund-aesir-oeuvre-thing"),
        ("ﬁnance ½", "finance-1-2"),
        ("U.S. troops", "u-s-troops"),
        ("--Already--slugged--", "already-slugged"),
        ("2016", "2016"),
        ("", "untitled"),
        ("   ", "untitled"),
        ("!!!", "untitled"),
        ("日本語のニュース", "日本語のニュース"),  # other scripts are kept, as Hugo does
        ("Москва", "москва"),
        ("Ελλάδα σήμερα", "ελλάδα-σήμερα"),
        ("हिन्दी समाचार", "हिन्दी-समाचार"),  # vowel signs (marks) stay in their word
        ("Москва — 東京", "москва-東京"),
        ("C++ and C#", "c-plus-plus-and-c-sharp"),  # not "c-and-c"
        ("A+ grade, #1 hit", "a-plus-grade-1-hit"),
        ("..", "untitled"),
        ("a/b\\c", "a-b-c"),
        ("con", "con-1"),
        ("CON", "con-1"),
        ("Aux", "aux-1"),
        ("nul", "nul-1"),
        ("lpt9", "lpt9-1"),
        ("com1", "com1-1"),
        ("con-1", "con-1"),
        ("console", "console"),
    ],
)
def test_slugify(text: str, slug: str) -> None:
    assert slugify(text) == slug


def test_long_slugs_are_cut_at_a_word() -> None:
    slug = slugify("word " * 40)
    assert len(slug) <= 80
    assert slug.endswith("word")
    assert slugify("x" * 200) == "x" * 80
    assert len(slugify("a" * 79 + " bcd", max_length=80)) == 79


def test_long_slugs_fit_a_file_name_in_any_script() -> None:
    # 80 characters from outside the Basic Multilingual Plane are 320 bytes: too long a name
    # for content/articles/<slug>.md on most file systems (255 bytes).
    slug = slugify("𠀀" * 50 + " " + "𠀁" * 50)
    assert slug == "𠀀" * 50 and len(slug.encode()) <= 240
    assert len(slugify("𠀀" * 100).encode()) == 240
    assert slugify("東" * 100) == "東" * 80  # 240 bytes: the character limit comes first


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_slugify_always_gives_a_safe_slug(text: str) -> None:
    slug = slugify(text)
    assert SLUG.match(slug)
    # Beyond ASCII, only letters, digits and their marks: nothing a path or URL treats apart.
    assert all(c.isascii() or unicodedata.category(c)[0] in "LNM" for c in slug), slug
    assert len(slug) <= 80 and len(slug.encode()) <= 240
    assert slug not in RESERVED
    assert slugify(slug) == slug  # idempotent: a slug in front matter keeps its value


# --- output_path -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("site_path", "file"),
    [
        ("/", "index.html"),
        ("", "index.html"),
        ("/2016/04/x/", "2016/04/x/index.html"),
        ("/feed.xml", "feed.xml"),
        ("/tags/libya/page/2/", "tags/libya/page/2/index.html"),
        ("//double/", "double/index.html"),  # stays inside the folder
        ("/404.html", "404.html"),
        ("/consoles/", "consoles/index.html"),
        ("/ünï/", "ünï/index.html"),
    ],
)
def test_output_path(site_path: str, file: str) -> None:
    assert output_path(site_path) == file


@pytest.mark.parametrize(
    "site_path",
    [
        "/../x/", "/a/../../b/", "/x/..", "..", "/a/./../b", "/a//../b/",
        "/a\\b/", "\\\\server\\share\\x", "/..\\x",
        "/a\x00b/", "/x.html\x00.png",
        "C:/Windows/x", "/c:/x/", "/a:b/",
        "/con/", "/CON/", "/aux.html", "/x/nul.txt", "/com1/", "/lpt1/x/",
    ],
)
def test_output_path_refuses_unsafe_paths(site_path: str) -> None:
    with pytest.raises(RouteError) as caught:
        output_path(site_path)
    assert caught.value.hint


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["/", ".", "..", "a", "b", "\\", ":", "\x00", "con", "-", " "]),
                max_size=12).map("".join) | st.text())
def test_output_path_never_escapes(site_path: str) -> None:
    try:
        file = output_path(site_path)
    except RouteError:
        return
    pure = PurePosixPath(file)
    assert not pure.is_absolute()
    assert ".." not in pure.parts and "\\" not in file and "\x00" not in file and ":" not in file
    assert not any(part.split(".")[0].lower() in RESERVED for part in pure.parts)
    root = Path("/srv/public")
    assert (root / file).resolve().is_relative_to(root)


def test_paginated() -> None:
    assert paginated("/tags/x/", 1) == "/tags/x/"
    assert paginated("/tags/x/", 3) == "/tags/x/page/3/"
    assert paginated("/", 2) == "/page/2/"


# --- Urls --------------------------------------------------------------------------------------

SUB = Urls("https://example.github.io/news/", "/{year}/{month}/{slug}/")


@pytest.mark.parametrize(
    ("path", "rel"),
    [
        ("/", "/news/"),
        ("", "/news/"),
        ("/2016/04/x/", "/news/2016/04/x/"),
        ("2016/04/x/", "/news/2016/04/x/"),
        ("/feed.xml", "/news/feed.xml"),
        ("/tags/café/", "/news/tags/caf%C3%A9/"),
        ("/a b/", "/news/a%20b/"),
        ("/search/?q=x#top", "/news/search/?q=x#top"),
        ("/static/style.3f2a.css", "/news/static/style.3f2a.css"),
    ],
)
def test_rel_prefixes_the_sub_path(path: str, rel: str) -> None:
    assert SUB.rel(path) == rel


def test_absolute_with_a_sub_path() -> None:
    assert SUB.absolute("/2016/04/x/") == "https://example.github.io/news/2016/04/x/"
    assert SUB.absolute("/") == "https://example.github.io/news/"
    assert SUB.origin == "https://example.github.io"
    assert SUB.base_path == "/news/"


@pytest.mark.parametrize(
    ("base_url", "rel", "absolute"),
    [
        ("https://example.org/", "/x/", "https://example.org/x/"),
        ("https://example.org", "/x/", "https://example.org/x/"),
        ("https://example.org/a/b", "/a/b/x/", "https://example.org/a/b/x/"),
        ("http://127.0.0.1:8000/news/", "/news/x/", "http://127.0.0.1:8000/news/x/"),
    ],
)
def test_other_base_urls(base_url: str, rel: str, absolute: str) -> None:
    urls = Urls(base_url, "/{slug}/")
    assert urls.rel("/x/") == rel
    assert urls.absolute("/x/") == absolute


@pytest.mark.parametrize(
    ("permalink", "path"),
    [
        ("/{year}/{month}/{slug}/", "/2016/04/troops/"),
        ("/{year}/{month}/{day}/{slug}/", "/2016/04/01/troops/"),
        ("/{section}/{slug}/", "/world/troops/"),
        ("/{slug}/", "/troops/"),
    ],
)
def test_article_path(permalink: str, path: str) -> None:
    urls = Urls("https://example.github.io/news/", permalink)
    assert urls.article_path("troops", datetime(2016, 4, 1, 23, 59), "world") == path
    assert output_path(path) == path.lstrip("/") + "index.html"
