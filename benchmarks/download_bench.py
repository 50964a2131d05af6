"""Download benchmark: N small files from a local nginx, every downloader side by side.

    python benchmarks/download_bench.py [--files 1000] [--size 16384] [-j 16] [--rounds 5]
                                        [--models ...] [--json FILE] [--out-base DIR]

A thin wrapper over `rosetta bench download --latency 0` (nginx, one worker, on 127.0.0.1):
`curl --parallel --parallel-max J`, `aria2c -jJ`, a bare 20-line aiohttp downloader (the
yardstick: no checks, no .part, no retries), the start-up of Python, the CLI and aiohttp alone,
and `rosetta download --model M -j J` for every download model, in turns round after round.
Every run writes into a fresh directory after a `sync`, is checked (every file, the right
bytes), and is timed from the outside (the wall time of the whole command, as a user waits for
it); for rosetta its own summary time (the transfer only) is shown beside it. The targets for
modern.aiohttp_download: <= 1.5x curl, and faster than aria2c.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from _bench import ROOT, bench

sys.path.insert(0, str(ROOT))
from rosetta import registry


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", default="1000")
    parser.add_argument("--size", default="16384")
    parser.add_argument("-j", "--jobs", default="16")
    parser.add_argument("--rounds", default="5")
    parser.add_argument("--models", default=",".join(m.name for m in registry.serving("download")))
    parser.add_argument("--json", type=Path, help="also write the bench's document to this file")
    parser.add_argument("--out-base", help="where every tool writes (default: the temp folder)")
    args = parser.parse_args()
    contenders = ["curl", "aria2c", "bare-aiohttp", *args.models.split(","), "start-up"]
    argv = [
        "--models",
        ",".join(contenders),
        "--baseline",
        "curl",
        "--latency",
        "0",
        "--files",
        args.files,
        "--size",
        args.size,
        "-j",
        args.jobs,
        "--rounds",
        args.rounds,
    ]
    if args.out_base:
        argv += ["--out-base", args.out_base]
    document = bench("download", *argv)
    if args.json:
        args.json.write_text(json.dumps(document, indent=1) + "\n")
    medians = {f["contender"]: f for f in document["figures"]}
    curl, aria2c = medians["curl"]["median"], medians["aria2c"]["median"]
    print(
        f"\n{args.files} files x {args.size} B from nginx on 127.0.0.1, -j {args.jobs}, median "
        f"of {args.rounds} rounds (wall time of the whole command)"
    )
    print(
        f"{'tool':28s} {'median s':>9s} {'min s':>7s} {'x curl':>7s} {'x aria2c':>9s} "
        f"{'transfer s':>10s}"
    )
    for label in contenders:
        figure = medians[label]
        transfers = [
            row["transfer_s"]
            for row in document["rounds"]
            if row["contender"] == label and row.get("transfer_s") is not None
        ]
        transfer = f"{statistics.median(transfers):10.3f}" if transfers else f"{'-':>10s}"
        print(
            f"{label:28s} {figure['median']:9.3f} {figure['min']:7.3f} "
            f"{figure['median'] / curl:7.2f} {figure['median'] / aria2c:9.2f} {transfer}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
