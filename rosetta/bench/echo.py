"""`rosetta bench echo`: closed-loop echo against the project's C epoll echo server.

Each of --conns connections sends a --size message and waits for all of it back, again and
again, for --duration; the load is the project's C generator (`rosetta.instruments`), one epoll
loop that costs less than any server it measures. Mean latency follows from the closed loop
(connections / throughput, Little's law); the generator does not time single messages.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from typing import Any

from rosetta import instruments
from rosetta.bench import contenders, procs
from rosetta.bench.document import Contender, Document
from rosetta.bench.rounds import Measure, execute, new_document
from rosetta.usage import UsageError

GENERATOR_BUSY = 0.95


def run(args: argparse.Namespace) -> int:
    procs.raise_open_files()
    chosen = contenders.resolve(args.models, "echo")
    generator = load_generator()
    document = new_document(
        args, "req/s", chosen, contenders.REFERENCE["echo"], load="echo_load (C)"
    )

    @contextlib.contextmanager
    def session(contender: Contender) -> Iterator[Measure]:
        with contenders.started(contender, "echo") as server:
            yield lambda point: echo_round(
                generator, server, contender, document, point["conns"], args.size, args.duration
            )

    return execute(args, document, [{"conns": n} for n in args.conns], session)


def load_generator() -> str:
    try:
        return str(instruments.build("echo_load"))
    except instruments.InstrumentError as error:
        raise UsageError(str(error)) from None


def echo_round(
    generator: str,
    server: contenders.Running,
    contender: Contender,
    document: Document,
    conns: int,
    size: int,
    seconds: float,
    *,
    address: tuple[str, int] | None = None,
) -> dict[str, Any]:
    """One run of the C generator against `server`: req/s, mean latency, CPU of both sides."""
    host, port = address or server.address
    cpu_before = procs.cpu_seconds(server.pids())
    # A server of one client at a time leaves the generator stuck connecting: wait less.
    patience = 3 if contenders.is_one_client_at_a_time(contender) else 15
    finished = procs.run_timed(
        [generator, host, str(port), str(conns), str(size), f"{seconds:g}"], seconds + patience
    )
    server_cpu = procs.cpu_seconds(server.pids()) - cpu_before
    if finished.returncode < 0 and contenders.is_one_client_at_a_time(contender):
        return {
            "value": 0.0,
            "status": "limit",
            "generator_cpu": finished.cores_busy,
            "note": "one client at a time: past its listen backlog the other clients cannot "
            "even connect, so the generator never starts (documented)",
        }
    match = instruments.LOAD_LINE.match(finished.stdout.strip())
    if finished.returncode != 0 or match is None:
        said = (finished.stderr or finished.stdout).strip().splitlines()
        raise RuntimeError(f"echo_load: {said[0] if said else f'exit {finished.returncode}'}")
    rps = float(match["rps"])
    measured: dict[str, Any] = {
        "value": rps,
        "errors": int(match["errors"]),
        "mean_ms": conns / rps * 1000 if rps else None,
        "generator_cpu": finished.cores_busy,
        "server_cpu_us": server_cpu * 1e6 / (rps * seconds) if rps else None,
    }
    if finished.cores_busy >= GENERATOR_BUSY:
        busy = finished.cores_busy
        document.warn(contenders.generator_bound("the echo load generator", busy, contender, conns))
    return contenders.settled(measured, server, contender, conns)
