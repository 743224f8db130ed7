"""Assets stage: layouts/static/** -> fingerprinted `Output`s and a name -> URL manifest.

`style.css` is published as `static/style.<hash8>.css` so browsers can cache it forever; templates
reach it through `asset_url('style.css')`. Reads the static folder; never writes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath

from .errors import SourceLocation, TemplateError
from .model import Output

# Files whose name must stay fixed because something outside our templates asks for them by name.
FIXED_NAMES = {"favicon.ico", "robots.txt"}


def static_files(layouts: Path) -> list[Path]:
    static = layouts / "static"
    if not static.is_dir():
        return []
    return sorted(p for p in static.rglob("*") if p.is_file() and not p.name.startswith("."))


def fingerprinted_name(relative: str, data: bytes) -> str:
    if PurePosixPath(relative).name in FIXED_NAMES:
        return relative
    digest = hashlib.sha256(data).hexdigest()[:8]
    path = PurePosixPath(relative)
    return str(path.with_name(f"{path.stem}.{digest}{path.suffix}"))


def collect_assets(layouts: Path) -> tuple[dict[str, str], list[Output]]:
    """(logical name -> output path inside public/, outputs to write)."""
    manifest: dict[str, str] = {}
    outputs: list[Output] = []
    static = layouts / "static"
    for path in static_files(layouts):
        relative = path.relative_to(static).as_posix()
        try:
            data = path.read_bytes()
        except OSError as err:
            raise TemplateError(f"cannot read static file: {err.strerror}",
                                SourceLocation(path.relative_to(layouts.parent)),
                                hint="check the file's permissions") from None
        target = f"static/{fingerprinted_name(relative, data)}"
        manifest[relative] = target
        outputs.append(Output(target, data))
    return manifest, outputs
