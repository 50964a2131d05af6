"""Echo targets: modern servers against the C epoll reference, 50 connections, closed loop.

    python benchmarks/echo_vs_ref.py [--rounds 5] [--seconds 4]

The reference is `echo_ref`, one C epoll loop that does nothing but echo: the fastest echo this
machine can do, so each figure says how close a Python server comes to it. The load comes from
`echo_load`, a C closed-loop client (each connection sends a message, waits for all of it back,
sends the next), so the load generator is never the limit. Both are built from the package's C
sources on first use (`rosetta.instruments`; a C compiler is needed). Each round starts the
server under test and the reference afresh and measures them one after the other, who goes
first alternating; the figure is the median of the rounds' ratios. The targets:

- modern.protocol on uvloop, 1 KiB messages: >= 0.90x the reference (asyncio's lowest layer,
  callbacks on a transport, should cost little more than the C loop itself)
- modern.protocol on uvloop, 100 KiB messages: >= 0.95x (large messages spend their time in
  the kernel's copies, which both pay alike)
- modern.streams on uvloop, 1 KiB messages: >= 0.60x (streams pay for a task per connection
  and an await per read and drain)
"""

from __future__ import annotations

import argparse

from bench_common import machine, markdown_table, start_rosetta, verdict, write_results

from rosetta import instruments

TARGETS = (
    ("modern.protocol", 1024, 0.90),
    ("modern.protocol", 102400, 0.95),
    ("modern.streams", 1024, 0.60),
)
CONNECTIONS = 50


def measure(model: str, size: int, rounds: int, seconds: float) -> dict:
    def show(number: int, result: instruments.EchoRound) -> None:
        print(
            f"{model} {size} B round {number}: server {result.server.requests_per_second} "
            f"req/s (errors {result.server.errors}), reference "
            f"{result.reference.requests_per_second} req/s, ratio {result.ratio:.2f}",
            flush=True,
        )

    done = instruments.echo_vs_reference(
        lambda: start_rosetta("echo", model, "--loop", "uvloop"),
        rounds=rounds,
        connections=CONNECTIONS,
        size=size,
        seconds=seconds,
        on_round=show,
    )
    return {
        "model": model,
        "loop": "uvloop",
        "size": size,
        "connections": CONNECTIONS,
        "rounds": [
            {
                "server_rps": r.server.requests_per_second,
                "errors": r.server.errors,
                "reference_rps": r.reference.requests_per_second,
                "ratio": round(r.ratio, 4),
            }
            for r in done
        ],
        "median_ratio": round(instruments.median_ratio(done), 4),
        "command": f"python benchmarks/echo_vs_ref.py --rounds {rounds} --seconds {seconds:g}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    try:
        for name in instruments.SOURCES:
            instruments.build(name)
    except instruments.InstrumentError as error:
        raise SystemExit(f"bench: {error}") from None
    results = {"machine": machine(), "targets": []}
    rows = []
    for model, size, target in TARGETS:
        figure = measure(model, size, args.rounds, args.seconds)
        figure["target"] = target
        figure["verdict"] = verdict(figure["median_ratio"], target)
        results["targets"].append(figure)
        rounds = ", ".join(f"{r['ratio']:.2f}" for r in figure["rounds"])
        rows.append(
            (
                f"`{model}` (uvloop)",
                f"{size} B",
                f"**{figure['median_ratio']:.2f}x**",
                f">= {target:.2f}x",
                figure["verdict"],
                rounds,
            )
        )
    table = markdown_table(
        ("server", "message", "median ratio to C epoll", "target", "", "rounds"), rows
    )
    write_results("echo_vs_ref", results, table)
    print(table)


if __name__ == "__main__":
    main()
