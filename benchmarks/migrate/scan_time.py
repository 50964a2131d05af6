"""Cold scan time of a large gevent tree: gevent's own source, as a CI job would scan it.

    python benchmarks/migrate/scan_time.py [--package gevent==25.4.1] [--jobs 2] [--cache DIR]

Fetches the pinned source distribution with `pip download --no-binary :all: --no-deps`
(kept in DIR between runs), unpacks it, and times
`python -m rosetta migrate scan TREE --no-cache --jobs N --format json` in a child process:
wall time, CPU time (user + system, the workers included), the number of files and lines
scanned, and the machine's load average before and after, since a shared machine makes wall
time longer. Not a test: it prints figures to read.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _sdist import default_cache, fetch, unpack

from rosetta.migrate.scanner import python_files


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--package", default="gevent==25.4.1")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=default_cache())
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tree = unpack(fetch(args.package, args.cache), Path(folder))
        files = list(python_files([tree]))
        lines = sum(path.read_bytes().count(b"\n") for path in files)
        command = [sys.executable, "-m", "rosetta", "migrate", "scan", str(tree)]
        command += ["--no-cache", "--jobs", str(args.jobs), "--format", "json"]
        load_before = os.getloadavg()[0]
        cpu_before = children_cpu()
        started = time.perf_counter()
        done = subprocess.run(command, stdout=subprocess.DEVNULL, check=False)
        wall = time.perf_counter() - started
        cpu = children_cpu() - cpu_before
        load_after = os.getloadavg()[0]
    if done.returncode not in (0, 1):  # 1: findings, as expected on gevent itself
        print(f"scan failed with exit code {done.returncode}", file=sys.stderr)
        return 1
    print(f"{args.package}: {len(files)} files, {lines:,} lines")
    print(f"--jobs {args.jobs}, --no-cache: {wall:.1f} s wall, {cpu:.1f} s CPU")
    print(f"load average (1 min): {load_before:.1f} before, {load_after:.1f} after")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
