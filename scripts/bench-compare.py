#!/usr/bin/env python3
"""Compares two builds' benchmark figures side by side.

    scripts/bench-compare.py BASE_BUILD NEW_BUILD [--runs 5] [--out DIR]

Runs `scripts/bench.sh --quick --no-build` on each build dir in turn,
interleaved (base, new, base, new, ...), so that a noisy machine weighs on
both alike; then prints, for every figure of maestro's own rows, the median
of each side and the change, marking those more than 5% worse. Exits 1 if
any is. The build dirs are Release builds with benchmarks, as bench.sh makes
them (e.g. one of the commit before a change, one of after).
"""
import argparse
import csv
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# Units where less is better (times, shares, memory, ratios to a floor,
# wake-ups); for rates (events/s, tasks/s) more is. Counts (processes,
# tasks, exit codes) are facts of the workload, not speed: not compared.
LOWER_IS_BETTER = {"us", "ms", "ns", "s", "%", "MB", "KiB", "bytes", "x", "1/s"}
NOT_COMPARED = {"", "processes", "tasks"}


def run(build, out):
    subprocess.run([os.path.join(HERE, "bench.sh"), "--quick", "--no-build", "--build-dir", build,
                    "--out", out], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(os.path.join(out, "figures.csv"), newline="") as f:
        return [r for r in csv.DictReader(f) if r["competitor"].startswith("maestro")]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("base")
    p.add_argument("new")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--out", default="/tmp/bench-compare")
    p.add_argument("--limit", type=float, default=5.0, help="percent worse that fails")
    a = p.parse_args()
    figures = {"base": {}, "new": {}}
    for i in range(a.runs):
        for side, build in (("base", a.base), ("new", a.new)):
            print(f"run {i + 1}/{a.runs}: {side}", file=sys.stderr)
            for r in run(build, os.path.join(a.out, f"{side}-{i}")):
                key = (r["workload"], r["case"], r["competitor"], r["metric"], r["unit"])
                figures[side].setdefault(key, []).append(float(r["value"]))
    worse = 0
    print(f"{'figure':<100} {'base':>12} {'new':>12} {'change':>8}")
    for key in sorted(figures["base"]):
        if key not in figures["new"]:
            continue
        b = statistics.median(figures["base"][key])
        n = statistics.median(figures["new"][key])
        unit = key[4]
        if b == 0 or unit in NOT_COMPARED:
            continue
        change = (n - b) / abs(b) * 100
        bad = change if unit in LOWER_IS_BETTER else -change
        mark = "  WORSE" if bad > a.limit else ""
        worse += 1 if mark else 0
        name = " / ".join(key[:4])
        print(f"{name[:100]:<100} {b:>12.4g} {n:>12.4g} {change:>+7.1f}%{mark}")
    print(f"\n{worse} figure(s) more than {a.limit}% worse (medians of {a.runs} interleaved runs)")
    return 1 if worse else 0


if __name__ == "__main__":
    sys.exit(main())
