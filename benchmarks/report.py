"""Benchmark report: the runner's result dict -> results.json, results.md and (via chart.py) a PNG.

Ratios are computed only between tools measured in the same invocation, so they share the
machine's load at that moment. Reads nothing but its input; the chart is drawn by a subprocess
in the peers' virtualenv, so matplotlib never enters the project's environment.
"""

from __future__ import annotations

import json
import shlex
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
LABELS = {"cold": "cold", "nochange": "no-change", "edit": "one-edit"}


def _s(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def _x(peer: float | None, ours: float | None) -> str:
    return f"{peer / ours:.1f}×" if peer and ours else "–"


def _by(results: list[dict[str, Any]]) -> dict[tuple[str, int], dict[str, Any]]:
    return {(r["tool"], r["n"]): r for r in results if not r["error"]}


def _source(data: dict[str, Any]) -> list[str]:
    before, after = data.get("source_before"), data.get("source_after")
    if not before or not after:
        return []
    lines = [f"- newsgen source: commit `{before['commit']}`, {before['uncommitted_files']} "
             f"uncommitted file(s) in generator/, layouts/, site.toml, pyproject.toml; "
             f"digest `{before['digest']}`"]
    if after["digest"] != before["digest"]:
        lines.append(f"- **WARNING: newsgen's code or layouts changed during the run** (digest "
                     f"`{after['digest']}` at the end, commit `{after['commit']}`): its figures "
                     "may mix versions; run again on a quiet tree.")
    return lines


def _load(result: dict[str, Any]) -> str:
    busy = sorted(run["busy_before"] for runs in result["runs"].values() for run in runs)
    if not busy:
        return "–"
    return (f"median {busy[len(busy) // 2]:.0%} busy (range {busy[0]:.0%}–{busy[-1]:.0%})")


def times_table(results: list[dict[str, Any]]) -> list[str]:
    lines = ["| tool | N | cold | no-change | one-edit | peak MB | HTML files | files | "
             "rewritten (no-change / edit) | edit visible |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in results:
        if r["error"]:
            reason = r["error"].splitlines()[0].replace("|", "\\|")
            lines.append(f"| {r['tool']} | {r['n']:,} | failed: {reason} " + "|" * 8)
            continue
        rewritten = " / ".join(str(max(r["rewritten"].get(k, [0]))) for k in ("nochange", "edit"))
        visible = "yes" if r["edit_visible"] and all(r["edit_visible"]) else "NO"
        lines.append(f"| {r['tool']} | {r['n']:,} | {_s(r['cold_s'])} | {_s(r['nochange_s'])} | "
                     f"{_s(r['edit_s'])} | {r['peak_mb']:.0f} | {r['html_files']:,} | "
                     f"{r['files']:,} | {rewritten} | {visible} |")
    return lines


def ratio_table(results: list[dict[str, Any]]) -> list[str]:
    by = _by(results)
    lines = ["| N | peer | cold | no-change | one-edit | memory (newsgen / peer) |",
             "|---:|---|---:|---:|---:|---:|"]
    for (tool, n), peer in sorted(by.items(), key=lambda item: (item[0][1], item[0][0])):
        ours = by.get(("newsgen", n))
        if tool.startswith("newsgen") or not ours:
            continue
        memory = f"{ours['peak_mb'] / peer['peak_mb']:.2f}" if peer["peak_mb"] else "–"
        lines.append(f"| {n:,} | {tool} | {_x(peer['cold_s'], ours['cold_s'])} | "
                     f"{_x(peer['nochange_s'], ours['nochange_s'])} | "
                     f"{_x(peer['edit_s'], ours['edit_s'])} | {memory} |")
    return lines


def growth(pairs: list[dict[str, Any]]) -> list[str]:
    """Each 100,000-article cold build against the 10,000-article one run just before it, and
    the linear reference (reference.py) timed after each."""
    complete = [p for p in pairs if "small" in p and "big" in p]
    if not complete:
        return []
    lines = ["| pair | 10k cold | 100k cold | wall-time ratio | 10k CPU | 100k CPU | CPU ratio "
             "| reference 10k | reference 100k | reference ratio |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for number, pair in enumerate(complete, start=1):
        small, big = pair["small"], pair["big"]
        ratio = _ratio(pair, "seconds", REFERENCE_KEYS)
        reference = (f"{_s(pair[REFERENCE_KEYS[0]]['seconds'])} | "
                     f"{_s(pair[REFERENCE_KEYS[1]]['seconds'])} | {ratio:.1f}×"
                     if ratio is not None else "– | – | –")
        lines.append(f"| {number} | {_s(small['seconds'])} | {_s(big['seconds'])} | "
                     f"{big['seconds'] / small['seconds']:.1f}× | {small['cpu_seconds']:.1f} s | "
                     f"{big['cpu_seconds']:.1f} s | "
                     f"{big['cpu_seconds'] / small['cpu_seconds']:.1f}× | {reference} |")
    return lines


# Where run.py puts a growth pair's two builds, and the reference workload's two times.
BUILD_KEYS = ("small", "big")
REFERENCE_KEYS = ("small_reference", "big_reference")


def _ratio(pair: dict[str, Any], key: str, slots: tuple[str, str]) -> float | None:
    """The big run's `key` over the small one's, if the pair has both."""
    small, big = (pair.get(slot, {}).get(key) for slot in slots)
    return big / small if small and big else None


def paired_growth(pairs: list[dict[str, Any]], key: str,
                  slots: tuple[str, str] = BUILD_KEYS) -> float | None:
    """Median 10k -> 100k ratio of `key` over the pairs that have both runs in `slots`."""
    ratios = [ratio for pair in pairs if (ratio := _ratio(pair, key, slots)) is not None]
    return statistics.median(ratios) if ratios else None


def targets(results: list[dict[str, Any]], pairs: list[dict[str, Any]] | None = None
            ) -> list[str]:
    """Issue 5's targets, checked against whatever this run measured."""
    by = _by(results)
    ours, pelican, hugo = (by.get((t, 10_000)) for t in ("newsgen", "pelican", "hugo"))
    checks: list[tuple[str, str, bool | None]] = []
    if ours and pelican:
        speedup = pelican["cold_s"] / ours["cold_s"]
        checks.append(("cold build 10k ≥ 4× faster than Pelican", f"{speedup:.1f}×",
                       speedup >= 4))
        checks.append(("peak memory 10k below Pelican's",
                       f"{ours['peak_mb']:.0f} MB vs {pelican['peak_mb']:.0f} MB",
                       ours["peak_mb"] < pelican["peak_mb"]))
    if ours:
        checks.append(("no-change rebuild 10k < 1 s", _s(ours["nochange_s"]),
                       ours["nochange_s"] < 1))
        checks.append(("one-article edit 10k < 150 ms (the daemon a build started runs it)",
                       _s(ours["edit_s"]), ours["edit_s"] < 0.15))
    local = by.get(("newsgen-no-daemon", 10_000))
    if local:
        checks.append(("one-article edit 10k < 150 ms with --no-daemon",
                       _s(local["edit_s"]), local["edit_s"] < 0.15))
    if ours and hugo:
        fastest = min(hugo["cold_s"], hugo["nochange_s"])
        checks.append(("no-change 10k faster than Hugo's full build",
                       f"{_s(ours['nochange_s'])} vs {_s(fastest)}", ours["nochange_s"] < fastest))
    big = by.get(("newsgen", 100_000))
    if ours and big:
        for key, label in (("cold_s", "cold time"), ("peak_mb", "peak memory")):
            growth = big[key] / ours[key]
            checks.append((f"{label} 10k → 100k grows at most linearly (≤ 10×)",
                           f"{growth:.1f}×", growth <= 10))
    for key, label in (("seconds", "cold time"), ("cpu_seconds", "cold CPU time")):
        ratio = paired_growth(pairs or [], key)
        if ratio is not None:
            checks.append((f"{label} 10k → 100k, paired back to back (≤ 10×)",
                           f"{ratio:.1f}×", ratio <= 10))
    machine = paired_growth(pairs or [], "seconds", REFERENCE_KEYS)
    if machine is not None:  # not a target: what this machine adds to linear work
        checks.append(("for comparison: reference.py writing the same files, 10k → 100k",
                       f"{machine:.1f}×", None))
    lines = ["| target | measured | met |", "|---|---:|---|"]
    lines += [f"| {name} | {value} | {_met(ok)} |" for name, value, ok in checks]
    return lines if checks else ["(not measured in this run: needs N = 10,000)"]


def _met(ok: bool | None) -> str:
    return "–" if ok is None else "yes" if ok else "NO"


def write(data: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    m, results = data["machine"], data["results"]
    pairs = data.get("growth_pairs", [])
    pair_table = growth(pairs)
    lines = [
        "# Benchmark results", "",
        f"Measured {m['date']} on {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM, "
        f"{m['platform']}, {m['python']}. Each figure is the median of {data['runs']} runs "
        f"(corpus seed {data['seed']}); peak memory is the maximum over all runs of that tool "
        "and size, summed over its process tree (see benchmarks/README.md)."
        + (f" Runner and builds ran at nice {data['nice']}." if data.get("nice") else ""), "",
        "## Versions", "", *[f"- {k}: `{v}`" for k, v in data["versions"].items()],
        *_source(data), "",
        "## Times and memory", "", *times_table(results), "",
        "## Ratios, newsgen vs each peer (same run)", "",
        "Times: the peer's median divided by newsgen's (above 1× newsgen is faster). "
        "Memory: newsgen's peak divided by the peer's (below 1 newsgen uses less).", "",
        *ratio_table(results), "",
        "## Issue 5 targets", "", *targets(results, pairs), "",
        *(["## Growth 10k → 100k, paired", "",
           "Before each 100,000-article cold build, a 10,000-article cold build of the same "
           "tool: each ratio divides two builds made minutes apart. CPU time is user + system "
           "time of the build and its workers. After each build, the reference "
           "(benchmarks/reference.py) writes files of the same sizes at the same paths and "
           "nothing else: work that is linear by construction, so its ratio is what this "
           "machine's file writing adds to linear growth.", "", *pair_table, ""]
          if pair_table else []),
        "## Machine load", "",
        "CPU busy (all cores) in the half second before each run, i.e. other work on the "
        "machine. Runs are interleaved across tools so such load falls on all of them, but "
        "figures taken while the CPUs were busy are noisy (results.json has each run).", "",
        *[f"- {r['tool']} N={r['n']:,}: {_load(r)}" for r in results], "",
        "## Commands (run in each corpus folder, benchmarks/work/corpus-N/TOOL/)", "",
        *[f"- {tool}: `{shlex.join(cmd)}`" for tool, cmd in data["commands"].items()], "",
    ]
    (out / "results.md").write_text("\n".join(lines), encoding="utf-8")


def chart(out: Path, python: Path) -> None:
    """Draw chart.png with the peers venv's matplotlib; a missing matplotlib only warns."""
    if not python.exists():
        print("warning: no peers venv, chart skipped", file=sys.stderr)
        return
    done = subprocess.run([str(python), str(HERE / "chart.py"), str(out / "results.json"),
                           str(out / "chart.png")], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"warning: chart not drawn:\n{done.stderr[-1000:]}", file=sys.stderr)
