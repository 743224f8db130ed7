"""Lead images: front matter `image` -> resized, metadata-free JPEG/PNG + WebP variants with
srcset/sizes, width/height, lazy loading below the fold, alt text, caption and credit.

One project with three pictures (a wide photo carrying EXIF and an ICC profile, a small PNG with
transparency and no alt text, a camera picture stored sideways) is built once for the module;
the error cases build small projects of their own.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXED_EPOCH, copy_project, run_cli
from htmlutil import Element, parse
from test_html_valid import write_test_image

from generator.images import WIDTHS, variant_widths

ORIGIN = "https://example.github.io"


def write_article(root: Path, slug: str, date: str, extra: str, section: str = "world") -> Path:
    path = root / "content" / "articles" / f"{slug}.md"
    path.write_text(
        f"---\ntitle: Story {slug}\ndate: '{date}'\nsummary: About {slug}.\n"
        f"section: {section}\ntags: [Harbour]\n{extra}---\n\nBody of {slug}.\n", encoding="utf-8")
    return path


def image_project(root: Path) -> Path:
    """Three articles with pictures; `wide` is the newest (the front page's lead)."""
    from PIL import Image, ImageCms

    copy_project(root, seeds=False, content=False)
    images = root / "content" / "images"
    wide = write_test_image(images / "wide.jpg", 1600, 1000)
    with Image.open(wide) as picture:
        exif = Image.Exif()
        exif[0x010F] = "Camera maker"  # Make
        exif[0x9286] = "secret comment"  # UserComment-like payload that must not be published
        icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        picture.save(wide, format="JPEG", exif=exif, icc_profile=icc, quality=90)
    write_test_image(images / "tiny.png", 300, 200, "RGBA")
    sideways = write_test_image(images / "sideways.jpg", 1000, 600)
    with Image.open(sideways) as picture:
        exif = Image.Exif()
        exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to display
        picture.save(sideways, format="JPEG", exif=exif)
    write_article(root, "wide", "2026-07-20T10:00:00+00:00",
                  "image: images/wide.jpg\nimage_alt: Boats in the harbour at dawn\n"
                  "image_caption: Fishing boats return to port.\nimage_credit: Jane Lens\n")
    write_article(root, "tiny", "2026-07-19T10:00:00+00:00", "image: images/tiny.png\n")
    write_article(root, "sideways", "2026-07-18T10:00:00+00:00",
                  "image: images/sideways.jpg\nimage_alt: A lighthouse\n")
    return root


@pytest.fixture(scope="module")
def images_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = image_project(tmp_path_factory.mktemp("images") / "site")
    result = run_cli(root, "build", "--no-ingest", "--no-search")
    assert result.returncode == 0, result.stderr
    return root, result.stderr


def page(root: Path, relative: str) -> Element:
    return parse((root / "public" / relative).read_text(encoding="utf-8"))


def public_file(root: Path, url: str) -> Path:
    """The file in public/ that a site-relative or absolute URL under /news/ points to."""
    path = url.removeprefix(ORIGIN).removeprefix("/news/")
    return root / "public" / path


def srcset_files(root: Path, srcset: str) -> list[tuple[Path, int]]:
    pairs = [part.split() for part in srcset.split(",")]
    return [(public_file(root, url), int(width.removesuffix("w"))) for url, width in pairs]


def test_variant_widths_are_standard_and_never_upscaled() -> None:
    assert variant_widths(2400) == WIDTHS == (480, 800, 1200)
    assert variant_widths(1200) == (480, 800, 1200)
    assert variant_widths(1000) == (480, 800, 1000)
    assert variant_widths(300) == (300,)


def test_wide_picture_gets_three_widths_in_two_formats_without_metadata(
        images_site: tuple[Path, str]) -> None:
    from PIL import Image

    root, _ = images_site
    made = sorted(p.name for p in (root / "public" / "static" / "images").glob("wide.*"))
    assert [name.rsplit("-", 1)[1] for name in made] == [
        "1200.jpg", "1200.webp", "480.jpg", "480.webp", "800.jpg", "800.webp"]
    for path in (root / "public" / "static" / "images").glob("wide.*"):
        data = path.read_bytes()
        assert b"Exif" not in data and b"secret comment" not in data, path.name
        with Image.open(io.BytesIO(data)) as picture:
            width = int(path.stem.rsplit("-", 1)[1])
            assert picture.size == (width, round(1000 * width / 1600))
            assert "exif" not in picture.info and "icc_profile" not in picture.info


def test_small_transparent_png_is_not_upscaled_and_keeps_its_alpha(
        images_site: tuple[Path, str]) -> None:
    from PIL import Image

    root, _ = images_site
    made = sorted(p.name.rsplit("-", 1)[1] for p in
                  (root / "public" / "static" / "images").glob("tiny.*"))
    assert made == ["300.png", "300.webp"]
    with Image.open(next((root / "public" / "static" / "images").glob("tiny.*.png"))) as png:
        assert png.size == (300, 200) and png.mode == "RGBA"


def test_camera_orientation_is_applied_before_the_flag_is_dropped(
        images_site: tuple[Path, str]) -> None:
    from PIL import Image

    root, _ = images_site
    for path in (root / "public" / "static" / "images").glob("sideways.*"):
        with Image.open(path) as picture:
            assert picture.height > picture.width, path.name  # stored 1000x600, shown 600x1000
    img = page(root, "2026/07/sideways/index.html").one("img")
    assert (img.get("width"), img.get("height")) == ("600", "1000")


def test_article_lead_image_is_a_responsive_eager_picture_with_caption_and_credit(
        images_site: tuple[Path, str]) -> None:
    from PIL import Image

    root, _ = images_site
    doc = page(root, "2026/07/wide/index.html")
    figure = doc.one("figure", class_="lead-image")
    source = figure.one("source")
    img = figure.one("img")
    assert source.get("type") == "image/webp"
    assert img.get("alt") == "Boats in the harbour at dawn"
    assert img.get("fetchpriority") == "high" and img.get("loading") is None
    assert img.get("sizes") and img.get("sizes") == source.get("sizes")
    for srcset, suffix in ((img.get("srcset") or "", ".jpg"), (source.get("srcset") or "", ".webp")):
        files = srcset_files(root, srcset)
        assert [width for _, width in files] == [480, 800, 1200]
        for path, width in files:
            assert path.suffix == suffix and path.is_file(), path
            with Image.open(path) as picture:
                assert picture.width == width
    src = public_file(root, img.get("src") or "")
    with Image.open(src) as picture:
        assert (img.get("width"), img.get("height")) == tuple(str(n) for n in picture.size)
    caption = figure.one("figcaption").text()
    assert caption == "Fishing boats return to port. Photo: Jane Lens"


def test_images_below_the_fold_load_lazily(images_site: tuple[Path, str]) -> None:
    root, _ = images_site
    front = page(root, "index.html")
    lead, *others = front.find("main").find_all("img")  # type: ignore[union-attr]
    assert lead.get("fetchpriority") == "high" and lead.get("loading") is None
    assert "wide." in (lead.get("src") or "")
    assert others and all(img.get("loading") == "lazy" for img in others)
    section = page(root, "section/world/index.html").find("main")
    assert section is not None
    imgs = section.find_all("img")
    assert len(imgs) == 3 and all(img.get("loading") == "lazy" for img in imgs)
    for img in imgs:  # every picture reserves its space before it loads
        assert (img.get("width") or "").isdigit() and (img.get("height") or "").isdigit()


def test_open_graph_twitter_and_json_ld_name_the_image_absolutely(
        images_site: tuple[Path, str]) -> None:
    root, _ = images_site
    doc = page(root, "2026/07/wide/index.html")
    og = doc.one("meta", property="og:image").get("content") or ""
    twitter_image = [m.get("content") for m in doc.find_all("meta")
                     if m.get("name") == "twitter:image"]
    assert og.startswith(ORIGIN + "/news/static/images/wide.") and public_file(root, og).is_file()
    assert twitter_image == [og]
    assert doc.one("meta", property="og:image:alt").get("content") == "Boats in the harbour at dawn"
    data = json.loads(doc.one("script", type="application/ld+json").text())
    assert data["image"] == [og]


def test_missing_alt_text_is_a_warning_naming_the_file_and_line(
        images_site: tuple[Path, str]) -> None:
    _, stderr = images_site
    assert "content/articles/tiny.md:7: warning: image 'images/tiny.png' has no alt text" in stderr
    assert "wide.md" not in stderr and "sideways.md" not in stderr


def test_image_variants_are_byte_identical_across_builds(
        images_site: tuple[Path, str], tmp_path: Path) -> None:
    root, _ = images_site
    # The same sources in another folder (the ICC profile in wide.jpg carries a creation time,
    # so the pictures are copied, not drawn again).
    again = shutil.copytree(root, tmp_path / "again",
                            ignore=shutil.ignore_patterns("public", ".cache", ".newsgen.lock"))
    result = run_cli(again, "build", "--no-ingest", "--no-search")
    assert result.returncode == 0, result.stderr

    def files(site: Path) -> dict[str, bytes]:
        folder = site / "public" / "static" / "images"
        return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}

    assert files(again) == files(root)
    assert len(files(root)) == 6 + 2 + 4


def test_changing_a_picture_replaces_its_variants_on_the_next_build(tmp_path: Path) -> None:
    root = tmp_path / "site"
    copy_project(root, seeds=False, content=False)
    write_test_image(root / "content" / "images" / "x.jpg", 900, 600)
    write_article(root, "x", "2026-07-20T10:00:00+00:00", "image: images/x.jpg\nimage_alt: X\n")
    assert run_cli(root, "build", "--no-ingest", "--no-search").returncode == 0
    before = {p.name for p in (root / "public" / "static" / "images").iterdir()}
    write_test_image(root / "content" / "images" / "x.jpg", 700, 600)
    result = run_cli(root, "build", "--no-ingest", "--no-search")
    assert result.returncode == 0, result.stderr
    after = {p.name for p in (root / "public" / "static" / "images").iterdir()}
    assert before.isdisjoint(after) and len(after) == 4  # 480 and 700, JPEG and WebP
    img = page(root, "2026/07/x/index.html").one("img")
    assert (img.get("width"), img.get("height")) == ("700", "600")
    assert public_file(root, img.get("src") or "").is_file()


@pytest.mark.parametrize(("value", "message"), [
    ("images/missing.jpg", "image not found: content/images/missing.jpg"),
    ("../site.toml", "image '../site.toml' is outside content/"),
    ("https://cdn.example.org/x.jpg",
     "image 'https://cdn.example.org/x.jpg' must be a file path relative to content/"),
    ("images/broken.jpg", "cannot read image 'images/broken.jpg'"),
])
def test_a_bad_image_is_an_error_at_its_front_matter_line(
        tmp_path: Path, value: str, message: str) -> None:
    root = tmp_path / "site"
    copy_project(root, seeds=False, content=False)
    (root / "content" / "images").mkdir(parents=True)
    (root / "content" / "images" / "broken.jpg").write_bytes(b"not a picture at all")
    write_article(root, "bad", "2026-07-20T10:00:00+00:00",
                  f"image: '{value}'\nimage_alt: Something\n")
    result = run_cli(root, "build", "--no-ingest", "--no-search")
    assert result.returncode == 1
    assert f"content/articles/bad.md:7: error: {message}" in result.stderr, result.stderr
    assert not (root / "public").exists()  # nothing was published


def test_sample_article_has_a_credit_but_no_picture_and_no_empty_figure(built_site: Path) -> None:
    articles = [p for p in (built_site / "public").glob("20*/*/*/index.html")]
    assert articles, "the sample site has no article page"
    doc = parse(articles[0].read_text(encoding="utf-8"))
    story = doc.one("article", class_="story")
    assert story.find("figure") is None and story.find("img") is None
    credit = story.one(class_="credit")
    assert credit.text() == "Photo: AP"
    assert any(a.classes & {"story-meta"} for a in credit.ancestors())


def test_image_processing_needs_no_pillow_for_sites_without_images(tmp_path: Path) -> None:
    """Pillow is imported lazily: a build of the sample site never loads it."""
    root = copy_project(tmp_path / "site")
    shutil.rmtree(root / "seeds")
    (root / "seeds").mkdir()
    probe = ("import sys\nfrom generator.cli import main\n"
             "code = main(['build', '--no-ingest', '--no-search', '-q'])\n"
             "assert code == 0, code\n"
             "assert 'PIL' not in sys.modules, 'Pillow was imported'\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=root, capture_output=True,
                          text=True, timeout=120, check=False,
                          env={**os.environ, "SOURCE_DATE_EPOCH": FIXED_EPOCH})
    assert done.returncode == 0, done.stderr
    assert (root / "public" / "index.html").is_file()
