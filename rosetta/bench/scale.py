"""`rosetta bench scale`: the C10K view, a few busy clients among many idle ones.

For every N of --idle, the bench holds N idle connections open to the server (from several
loopback source addresses when one would run out of ports) and then measures the echo
throughput of --active busy clients with the project's C generator. The course says a
readiness loop over select or polling pays for every connection it watches, and epoll only
for the active ones; this is the curve that shows it. select's 1024-descriptor wall shows as a
refusal (the model closes what it cannot watch), the blocking server's one client at a time
as a limit: both measured, both labelled.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Iterator
from typing import Any

from rosetta.bench import contenders, procs
from rosetta.bench.document import Contender, Document
from rosetta.bench.echo import echo_round, load_generator
from rosetta.bench.holding import IdleConnections
from rosetta.bench.idle import CAPS, cap_of, capped
from rosetta.bench.rounds import Measure, execute, new_document


def run(args: argparse.Namespace) -> int:
    limit = procs.raise_open_files()
    chosen = contenders.resolve(args.models, "echo", peers=False)
    generator = load_generator()
    document = new_document(
        args, "req/s", chosen, contenders.REFERENCE["echo"], caps=CAPS, open_files_limit=limit
    )
    if limit < max(args.idle) + args.active + 100:
        document.warn(
            f"the open-files limit ({limit}) is under the largest --idle: steps past "
            "it will fail to connect"
        )
    idle_counts = sorted(set(args.idle))

    @contextlib.contextmanager
    def session(contender: Contender) -> Iterator[Measure]:
        with (
            contenders.started(contender, "echo", extra=contenders.deadlines_off()) as server,
            IdleConnections(server.address) as held,
        ):
            base = procs.open_descriptors(server.pids())
            yield lambda point: _with_idle(
                generator,
                server,
                contender,
                document,
                held,
                base,
                point["idle"],
                args.active,
                args.size,
                args.duration,
            )

    return execute(args, document, [{"idle": n} for n in idle_counts], session)


def _with_idle(
    generator: str,
    server: contenders.Running,
    contender: Contender,
    document: Document,
    held: IdleConnections,
    base: int,
    idle: int,
    active: int,
    size: int,
    seconds: float,
) -> dict[str, Any]:
    if (figure := capped(cap_of(contender), idle, "idle connections")) is not None:
        return figure
    one_client = contenders.is_one_client_at_a_time(contender)
    if one_client and idle > 0:
        # Its one client is the first idle connection, for ever: the busy ones never get in.
        return {
            "value": 0.0,
            "status": "limit",
            "note": "one client at a time: an idle client holds the server",
        }
    if not held.failures:
        held.grow_to(idle)
    if len(held.sockets) < idle:
        return {"value": 0.0, "status": "failed", "note": held.failures[0]}
    alive = settled(server, held, base + idle)
    try:
        measured = echo_round(generator, server, contender, document, active, size, seconds)
    except RuntimeError as error:
        if alive == idle:
            raise
        measured = {"value": 0.0, "errors": 1, "note": str(error)}
    measured["held"] = alive
    if alive < idle:
        measured["status"] = "refused"
        measured["note"] = (
            f"held {alive} of {idle} idle connections: the server closed the rest"
            + (", and the busy clients with them" if not measured["value"] else "")
        )
    return measured


def settled(server: contenders.Running, held: IdleConnections, descriptors: int) -> int:
    """The idle connections still open once the server has taken them all in: it holds the
    expected descriptors, or neither they nor the count of open connections moved for a
    second (a server that refuses some, or one that is slow to accept)."""
    last = (procs.open_descriptors(server.pids()), held.alive())
    still = time.monotonic()
    deadline = still + 60
    while time.monotonic() < deadline:
        if last[0] >= descriptors:
            break
        time.sleep(0.2)
        now = (procs.open_descriptors(server.pids()), held.alive())
        if now != last:
            last, still = now, time.monotonic()
        elif time.monotonic() - still >= 1.0:
            break
    return held.alive()
