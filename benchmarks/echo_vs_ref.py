"""Echo targets: modern servers against the C epoll reference, 50 connections, closed loop.

    python benchmarks/echo_vs_ref.py [--rounds 5] [--seconds 4] [--bench-dir ../shared/bench]

Runs the shared instrument `echo-vs-ref` (it builds the C reference server and the C load
generator, and alternates the server under test with the reference round by round) for each
target of issue 4, and records every round and the median ratio:

- modern.protocol on uvloop, 1 KiB messages: >= 0.90x the reference
- modern.protocol on uvloop, 100 KiB messages: >= 0.95x
- modern.streams on uvloop, 1 KiB messages: >= 0.60x
"""

from __future__ import annotations

import argparse
import re
import subprocess
from pathlib import Path

from bench_common import ROOT, machine, markdown_table, rosetta_command, verdict, write_results

TARGETS = (
    ("modern.protocol", 1024, 0.90),
    ("modern.protocol", 102400, 0.95),
    ("modern.streams", 1024, 0.60),
)
ROUND = re.compile(
    r"round (\d+): server (\d+) req/s \(errors (\d+)\), reference (\d+) req/s, ratio ([\d.]+)"
)
MEDIAN = re.compile(r"median ratio server/reference: ([\d.]+)")


def measure(bench_dir: Path, model: str, size: int, rounds: int, seconds: float) -> dict:
    server = [*rosetta_command(), "serve", "echo", "--model", model, "--port", "0", "-q"]
    argv = [str(bench_dir / "echo-vs-ref"), "--conns", "50", "--size", str(size),
            "--rounds", str(rounds), "--seconds", str(seconds), "--", *server]
    done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, check=True)
    median = MEDIAN.search(done.stdout)
    if median is None:
        raise SystemExit(f"echo-vs-ref said:\n{done.stdout}{done.stderr}")
    return {
        "model": model,
        "loop": "uvloop",
        "size": size,
        "rounds": [
            {"server_rps": int(m[2]), "errors": int(m[3]), "reference_rps": int(m[4]),
             "ratio": float(m[5])}
            for m in ROUND.finditer(done.stdout)
        ],
        "median_ratio": float(median[1]),
        "command": "../shared/bench/echo-vs-ref " + " ".join(argv[1:]).replace(
            " ".join(rosetta_command()), "rosetta"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--bench-dir", type=Path, default=ROOT.parent / "shared" / "bench")
    args = parser.parse_args()
    results = {"machine": machine(), "targets": []}
    rows = []
    for model, size, target in TARGETS:
        figure = measure(args.bench_dir, model, size, args.rounds, args.seconds)
        figure["target"] = target
        figure["verdict"] = verdict(figure["median_ratio"], target)
        results["targets"].append(figure)
        rounds = ", ".join(f"{r['ratio']:.2f}" for r in figure["rounds"])
        rows.append((f"`{model}` (uvloop)", f"{size} B", f"**{figure['median_ratio']:.2f}x**",
                     f">= {target:.2f}x", figure["verdict"], rounds))
        print(rows[-1], flush=True)
    table = markdown_table(
        ("server", "message", "median ratio to C epoll", "target", "", "rounds"), rows
    )
    write_results("echo_vs_ref", results, table)
    print(table)


if __name__ == "__main__":
    main()
