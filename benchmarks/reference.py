"""A linear reference workload: write the files a build wrote, and nothing else.

The growth target (10,000 -> 100,000 articles, no faster than linear) is judged by wall time,
and part of a build's time is the kernel's: copying every page it writes into the page cache
and zeroing the memory it allocates. On this machine that part costs more per byte the more
of it one process does (a 100,000-article build writes 3.8 GB; benchmarks/README.md). This
script does exactly linear work with the same shape: for every file of a build's output, a
file of the same size at the same relative path (directories made as needed), from one buffer.
Timed beside each paired build, its own 10k -> 100k ratio shows how much growth this machine
adds to work that is linear by construction.

Usage: python reference.py MANIFEST DEST   (MANIFEST: JSON [[relative path, size], ...])
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

# Page-like bytes, not zeros: no file system or page cache treats them specially.
_LINE = b'<p class="reference">The quick brown fox jumps over the lazy dog, 0123456789.</p>\n'


def manifest(output: Path) -> list[tuple[str, int]]:
    """(path relative to `output`, size) of every file under `output`, sorted by path."""
    found: list[tuple[str, int]] = []
    for folder, _, files in os.walk(output):
        for name in files:
            path = os.path.join(folder, name)
            found.append((os.path.relpath(path, output), os.stat(path).st_size))
    return sorted(found)


def write_like(files: list[tuple[str, int]], dest: Path) -> int:
    """Write a file of each size at each path under `dest` (which must not exist); bytes."""
    largest = max((size for _, size in files), default=0)
    buffer = memoryview(_LINE * (largest // len(_LINE) + 1))
    made: set[str] = set()
    total = 0
    for relative, size in files:
        folder = os.path.dirname(relative)
        if folder not in made:
            os.makedirs(dest / folder, exist_ok=True)
            made.add(folder)
        with open(dest / relative, "wb") as handle:
            handle.write(buffer[:size])
        total += size
    return total


def main(argv: list[str]) -> int:
    source, dest = Path(argv[0]), Path(argv[1])
    files = [(path, int(size)) for path, size in json.loads(source.read_text("utf-8"))]
    dest.mkdir(parents=True)  # a fresh folder, as a cold build's output is
    write_like(files, dest)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
