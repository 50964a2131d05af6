"""Echo targets: the modern servers against the project's C epoll echo server, 50 connections.

    python benchmarks/echo_vs_ref.py [--rounds 5] [--seconds 4]

A thin wrapper over `rosetta bench echo` (the C reference and the C load generator are built
from the package's sources on first use; a C compiler is needed), with the settings the
targets are stated in; writes benchmarks/results/echo_vs_ref.{json,md}. The targets:

- modern.protocol on uvloop, 1 KiB messages: >= 0.95x the reference (asyncio's lowest layer,
  callbacks on a transport, should cost little more than the C loop itself)
- modern.protocol on uvloop, 100 KiB messages: >= 0.95x (large messages spend their time in
  the kernel's copies, which both pay alike)
- modern.streams on uvloop, 1 KiB messages: >= 0.60x (streams pay for a task per connection
  and an await per read and drain)
"""

from __future__ import annotations

import argparse

from _bench import bench, figure, markdown_table, verdict, write

TARGETS = {
    1024: {"modern.protocol": 0.95, "modern.streams": 0.60},
    102400: {"modern.protocol": 0.95},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", default="5")
    parser.add_argument("--seconds", default="4")
    args = parser.parse_args()
    documents, rows = [], []
    for size, targets in TARGETS.items():
        models = ",".join(["c-epoll", *(f"{name}:loop=uvloop" for name in targets)])
        document = bench(
            "echo",
            "--models",
            models,
            "--conns",
            "50",
            "--size",
            str(size),
            "--rounds",
            args.rounds,
            "--duration",
            args.seconds,
        )
        documents.append(document)
        for name, target in targets.items():
            found = figure(document, f"{name}:loop=uvloop", conns=50)
            rows.append(
                (
                    f"`{name}` (uvloop)",
                    f"{size} B",
                    f"**{found['ratio']:.2f}x**",
                    f">= {target:.2f}x",
                    verdict(found["ratio"], target),
                    f"{found['min']:.0f}-{found['max']:.0f} req/s",
                )
            )
    write(
        "echo_vs_ref",
        documents,
        markdown_table(
            ("server", "message", "median ratio to C epoll", "target", "", "range"), rows
        ),
    )


if __name__ == "__main__":
    main()
