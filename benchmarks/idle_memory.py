"""Idle-connection targets: server memory per idle connection at 10,000 connections.

    python benchmarks/idle_memory.py [--connections 10000] [--models modern.protocol,...]

A thin wrapper over `rosetta bench idle` (RSS growth over the connections the server holds,
PSS summed over a family of processes); writes benchmarks/results/idle_memory.{json,md}.
The targets: modern.protocol <= 2 KiB per idle connection, modern.streams <= 6 KiB.
"""

from __future__ import annotations

import argparse

from _bench import bench, figure, markdown_table, verdict, write

TARGETS = {"modern.protocol": 2048, "modern.streams": 6144}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", default="10000")
    parser.add_argument("--models", default=",".join(TARGETS))
    args = parser.parse_args()
    document = bench("idle", "--models", args.models, "--max", args.connections)
    rows = []
    for name in args.models.split(","):
        found = figure(document, name, connections=int(args.connections))
        target = TARGETS.get(name)
        value = found["median"]
        rows.append(
            (
                f"`{name}`",
                f"{int(found.get('held', 0)):,}",
                f"**{value / 1024:.2f} KiB**" if value is not None else found["status"],
                f"<= {target / 1024:.0f} KiB" if target else "-",
                verdict(value, target, at_most=True) if target else "",
            )
        )
    write(
        "idle_memory",
        [document],
        markdown_table(("server", "idle connections held", "per connection", "target", ""), rows),
    )


if __name__ == "__main__":
    main()
