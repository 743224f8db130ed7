"""Images stage: front matter `image` (a file under content/) -> resized JPEG/PNG + WebP
variants as `Output`s and a `ResponsiveImage` (srcset, width/height) per image for templates.
Deterministic bytes (fixed encoder settings, no metadata, never upscaled); Pillow loads lazily.
Never writes (the publisher does); reuses published variants with the same content-hashed name.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from .config import SiteConfig
from .content import key_line
from .errors import BuildFailed, ContentError, Diagnostic, SourceLocation, excerpt
from .model import Entry, Output, Site
from .urls import Urls, slugify

if TYPE_CHECKING:
    from PIL.Image import Image

WIDTHS = (480, 800, 1200)
# Part of every output name: change it whenever the encoding below changes, so stale variants
# are never reused from a previous build.
SETTINGS = "v1;jpeg:q82,optimize,progressive;png:optimize;webp:q80,m6;lanczos"
ENCODER_OPTIONS: dict[str, dict[str, Any]] = {
    "jpeg": {"quality": 82, "optimize": True, "progressive": True},
    "png": {"optimize": True},
    "webp": {"quality": 80, "method": 6},
}
OUTPUT_DIR = "static/images"
SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif"}
MAX_PIXELS = 60_000_000  # refuse decompression bombs before decoding them


@dataclass(frozen=True, slots=True)
class Variant:
    url: str  # site-relative, with the base path
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class ResponsiveImage:
    """What templates need for <picture>: the fallback `src` (largest variant) and both srcsets."""

    src: str
    width: int
    height: int
    mime: str  # of the fallback variants: image/jpeg or image/png
    srcset: str
    webp_srcset: str
    variants: tuple[Variant, ...]


@dataclass(frozen=True, slots=True)
class _Job:
    """One source picture and the variants to publish for it: (output path, width, height, fmt)."""

    source: Path
    name: str
    variants: tuple[tuple[str, int, int, str], ...]


@dataclass(frozen=True, slots=True)
class ImageSet:
    images: dict[str, ResponsiveImage]  # front-matter `image` value -> its responsive image
    jobs: tuple[_Job, ...]
    previous_dir: Path  # the published site, whose same-named variants are reused

    def outputs(self) -> Iterator[Output]:
        """The variant files, one source decoded at a time (never all in memory at once)."""
        for job in self.jobs:
            image: Image | None = None
            for path, width, height, fmt in job.variants:
                data = _previous(self.previous_dir / path)
                if data is None:
                    image = image or _open(job.source.read_bytes(), job.name)
                    data = _encode(image, width, height, fmt)
                yield Output(path, data)

    def manifest(self) -> dict[str, str]:
        """'content/<image>' -> its largest variant's file (for asset manifests and cache keys)."""
        return {f"content/{job.name}": job.variants[-2][0] for job in self.jobs}


def process_images(site: Site, config: SiteConfig, diagnostics: list[Diagnostic]) -> ImageSet:
    """Every published entry's lead image, measured and planned; problems go to `diagnostics`.

    Only headers are read here (the pixels are decoded while writing, see `ImageSet.outputs`).
    A missing or unreadable image is an error at its `image:` line (raised together as
    `BuildFailed` once every entry was checked); missing alt text is a warning there.
    """
    urls = Urls(config.base_url, config.permalink)
    images: dict[str, ResponsiveImage] = {}
    jobs: list[_Job] = []
    errors = False
    for entry in _with_images(site.entries.values()):
        meta = entry.doc.meta
        try:
            if meta.image not in images:
                images[meta.image], job = _plan(meta.image, config, urls)
                jobs.append(job)
        except ContentError as err:
            errors = True
            diagnostics.append(_at_image_line(err, entry, config).diagnostic())
            continue
        if not meta.image_alt.strip():
            diagnostics.append(_missing_alt(entry, config))
    if errors:
        raise BuildFailed(tuple(diagnostics))
    return ImageSet(images, tuple(jobs), config.output_dir)


def _with_images(entries: Iterable[Entry]) -> list[Entry]:
    return sorted((e for e in entries if e.doc.meta.image), key=lambda e: e.doc.key)


def _plan(name: str, config: SiteConfig, urls: Urls) -> tuple[ResponsiveImage, _Job]:
    source = resolve_image(name, config.root)
    data = source.read_bytes()
    digest = hashlib.sha256(data + SETTINGS.encode()).hexdigest()[:10]
    stem = slugify(PurePosixPath(name).stem, 60)
    width, height, alpha = _measure(data, name)
    fallback = "png" if alpha else "jpeg"
    planned: list[tuple[str, int, int, str]] = []
    variants: list[Variant] = []
    webp: list[Variant] = []
    for w in variant_widths(width):
        h = max(1, round(height * w / width))
        for fmt, bucket in ((fallback, variants), ("webp", webp)):
            path = f"{OUTPUT_DIR}/{stem}.{digest}-{w}.{'jpg' if fmt == 'jpeg' else fmt}"
            planned.append((path, w, h, fmt))
            bucket.append(Variant(urls.rel(path), w, h))
    largest = variants[-1]
    return ResponsiveImage(
        src=largest.url, width=largest.width, height=largest.height, mime=f"image/{fallback}",
        srcset=_srcset(variants), webp_srcset=_srcset(webp), variants=tuple(variants),
    ), _Job(source, name, tuple(planned))


def resolve_image(name: str, root: Path) -> Path:
    """content/<name>, refusing URLs, absolute paths and anything outside content/."""
    content = (root / "content").resolve()
    if "://" in name or name.startswith(("/", "\\")) or "\x00" in name:
        raise ContentError(f"image {name!r} must be a file path relative to content/",
                           hint="put the picture in content/images/ and write image: images/x.jpg")
    path = (content / name).resolve()
    if not path.is_relative_to(content):
        raise ContentError(f"image {name!r} is outside content/",
                           hint="put the picture in content/images/ and write image: images/x.jpg")
    if not path.is_file():
        raise ContentError(f"image not found: content/{name}",
                           hint="check the file name (it is relative to content/)")
    if path.suffix.lower() not in SUFFIXES:
        raise ContentError(f"image {name!r} is not a JPEG, PNG, WebP or GIF file",
                           hint=f"use one of: {', '.join(sorted(SUFFIXES))}")
    return path


def variant_widths(width: int) -> tuple[int, ...]:
    """The standard widths below the original, plus the original capped at the largest: never
    upscaled (a 1000 px picture gives 480, 800 and 1000)."""
    smaller = [w for w in WIDTHS if w < width]
    return tuple(dict.fromkeys((*smaller, min(width, WIDTHS[-1]))))


def _measure(data: bytes, name: str) -> tuple[int, int, bool]:
    """(width, height, has alpha) as displayed, from the header only (no pixel decoding)."""
    from PIL import Image

    with _reading(name), Image.open(io.BytesIO(data)) as image:
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise ContentError(f"image {name!r} is too large ({width}x{height})",
                               hint="resize it below 60 megapixels first")
        # EXIF orientations 5-8 turn the picture by 90 degrees: swap the sides.
        if image.getexif().get(0x0112) in (5, 6, 7, 8):
            width, height = height, width
        return width, height, _has_alpha(image)


def _open(data: bytes, name: str) -> Image:
    from PIL import Image, ImageOps

    with _reading(name):
        opened = Image.open(io.BytesIO(data))
        opened.load()
    # Honour the camera's orientation flag before the metadata holding it is dropped.
    return _to_srgb(ImageOps.exif_transpose(opened) or opened)


@contextmanager
def _reading(name: str) -> Iterator[None]:
    from PIL import Image, UnidentifiedImageError

    try:
        yield
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as err:
        raise ContentError(f"cannot read image {name!r}: {err}",
                           hint="re-save it as a JPEG or PNG file") from None


def _to_srgb(image: Image) -> Image:
    """Convert to plain RGB(A) in sRGB, so dropping the ICC profile does not shift colours."""
    from PIL import Image as PILImage
    from PIL import ImageCms

    profile = image.info.get("icc_profile")
    mode = "RGBA" if _has_alpha(image) else "RGB"
    if profile and image.mode in ("RGB", "RGBA", "CMYK"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
            target = ImageCms.createProfile("sRGB")
            converted = ImageCms.profileToProfile(image, source, target, outputMode=mode)
            if isinstance(converted, PILImage.Image):
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: fall back to treating the pixels as sRGB
    return image if image.mode == mode else image.convert(mode)


def _has_alpha(image: Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def _encode(image: Image, width: int, height: int, fmt: str) -> bytes:
    from PIL import Image as PILImage

    resized = image if width == image.width else image.resize(
        (width, height), PILImage.Resampling.LANCZOS)
    options: dict[str, Any] = ENCODER_OPTIONS[fmt]
    buffer = io.BytesIO()
    # No exif=, icc_profile= or pnginfo= arguments: the variants carry no metadata at all.
    resized.save(buffer, format=fmt.upper(), **options)
    return buffer.getvalue()


def _previous(previous: Path) -> bytes | None:
    # Names carry a hash of the source bytes and the settings, so a published file with the
    # same name holds exactly the bytes we would encode: reuse it instead of re-encoding.
    try:
        return previous.read_bytes() if previous.is_file() else None
    except OSError:
        return None


def _srcset(variants: list[Variant]) -> str:
    return ", ".join(f"{v.url} {v.width}w" for v in variants)


def _at_image_line(err: ContentError, entry: Entry, config: SiteConfig) -> ContentError:
    text = _source_text(entry, config)
    line = key_line(text, "image")
    return ContentError(err.message, SourceLocation(entry.doc.path, line), hint=err.hint,
                        source_lines=excerpt(text, line) if text else ())


def _missing_alt(entry: Entry, config: SiteConfig) -> Diagnostic:
    line = key_line(_source_text(entry, config), "image")
    return Diagnostic("warning", f"image {entry.doc.meta.image!r} has no alt text",
                      SourceLocation(entry.doc.path, line),
                      hint='describe the picture for readers who cannot see it: '
                      'image_alt: "Soldiers unloading supplies at Misrata port"')


def _source_text(entry: Entry, config: SiteConfig) -> str:
    try:
        return (config.root / entry.doc.path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return ""
