"""Chart: results.json -> a PNG of build times and peak memory per tool and corpus size.

Runs in the peers' virtualenv (it needs matplotlib, which the project never depends on).
Usage: benchmarks/work/peers-venv/bin/python benchmarks/chart.py results.json chart.png
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on a build machine
import matplotlib.pyplot as plt
from matplotlib import ticker

# (key, title, log-axis floor): a fixed floor, so bar heights compare across panels and runs.
PANELS = (("cold_s", "Cold build (s)", 0.01), ("nochange_s", "No-change rebuild (s)", 0.01),
          ("edit_s", "One-article edit (s)", 0.01), ("peak_mb", "Peak memory (MB)", 10.0))
COLOURS = {"newsgen": "#1f6feb", "newsgen-search": "#8fb8f5",
           "newsgen-no-daemon": "#0b3d91", "pelican": "#d29922", "hugo": "#ff4088"}


def main(source: Path, target: Path) -> None:
    data = json.loads(source.read_text(encoding="utf-8"))
    results = [r for r in data["results"] if not r["error"]]
    sizes = sorted({r["n"] for r in results})
    tools = [t for t in COLOURS if any(r["tool"] == t for r in results)]
    figure, axes = plt.subplots(1, len(PANELS), figsize=(16, 4.5))
    width = 0.8 / max(1, len(tools))
    for axis, (key, title, floor) in zip(axes, PANELS, strict=True):
        for offset, tool in enumerate(tools):
            xs, ys = [], []
            for position, n in enumerate(sizes):
                match = [r[key] for r in results if r["tool"] == tool and r["n"] == n]
                if match and match[0]:
                    xs.append(position + (offset - (len(tools) - 1) / 2) * width)
                    ys.append(match[0])
            bars = axis.bar(xs, [y - floor for y in ys], width, bottom=floor, label=tool,
                            color=COLOURS[tool])
            axis.bar_label(bars, labels=[f"{y:.0f}" if y >= 100 else f"{y:.3g}" for y in ys],
                           fontsize=7, padding=1)
        axis.set_title(title)
        axis.set_yscale("log")
        axis.set_ylim(bottom=floor)
        axis.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        axis.set_xticks(range(len(sizes)), [f"{n:,}" for n in sizes])
        axis.set_xlabel("articles")
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=len(tools), frameon=False)
    machine = data["machine"]
    figure.suptitle(f"newsgen vs Pelican vs Hugo: median of {data['runs']} runs, "
                    f"{machine['cpu']}, {machine['cores']} cores, {machine['date']}")
    figure.tight_layout(rect=(0, 0.06, 1, 1))
    figure.savefig(target, dpi=110)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
