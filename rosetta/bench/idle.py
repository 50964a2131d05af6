"""`rosetta bench idle`: what an idle connection costs a server, in memory and in CPU.

Each echo server is started with its deadlines off, given a few warm-up connections (what a
server allocates once, on its first client, is not a per-connection cost), and then held
idle connections in steps up to --max. At each step the figure is the growth of the server's
memory over the connections it holds, divided by their number: RSS for one process, PSS summed
over the family for a server of several processes (the forking model's children share their
parent's pages, which RSS would count once per child). After the last step the server's CPU
is read over --duration while nothing happens: a polling server pays even then.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import time
from collections.abc import Iterator
from typing import Any

from rosetta.bench import contenders, procs
from rosetta.bench.document import Contender
from rosetta.bench.holding import IdleConnections
from rosetta.bench.rounds import Measure, StartFailed, execute, new_document

STEPS = (100, 1000, 4000, 10_000)
# Where the model's cost would exhaust the machine or the run's time, a cap, and why.
CAPS: dict[str, tuple[int, str]] = {
    "classic.forking": (1000, "one process per connection"),
    # It polls every client once per accept, so taking in N connections costs N*N/2 recv()
    # calls: 10,000 take minutes.
    "classic.nonblocking": (4000, "polling every client per accept: N*N/2 recv() to fill"),
}
SETTLE = 0.5
Cap = tuple[int | None, str]


def cap_of(contender: Contender) -> Cap:
    """The most connections `contender` is measured at (None: no cap), and why."""
    return CAPS.get(contender.name.partition(":")[0], (None, ""))


def capped(cap: Cap, count: int, what: str) -> dict[str, Any] | None:
    """The figure of a step past the cap (`count` `what`), which is not measured; None below."""
    most, why = cap
    if most is None or count <= most:
        return None
    return {"value": 0.0, "status": "capped", "note": f"capped at {most} {what} ({why})"}


WARM_UP = 3


def steps_up_to(most: int) -> list[int]:
    return sorted({step for step in STEPS if step < most} | {most})


def last_step(steps: list[int], cap: int | None) -> int:
    """The step at which the idle CPU is read: the last one the model is measured at."""
    return max(step for step in steps if cap is None or step <= cap)


def run(args: argparse.Namespace) -> int:
    limit = procs.raise_open_files()
    chosen = contenders.resolve(args.models, "echo", peers=False)
    document = new_document(
        args,
        "bytes",
        chosen,
        "modern.protocol",
        higher_is_better=False,
        caps=CAPS,
        open_files_limit=limit,
    )
    if limit < args.max + 100:
        document.warn(
            f"the open-files limit ({limit}) is under --max {args.max}: steps past "
            "it will fail to connect"
        )
    steps = steps_up_to(args.max)

    @contextlib.contextmanager
    def session(contender: Contender) -> Iterator[Measure]:
        with (
            contenders.started(contender, "echo", extra=contenders.deadlines_off()) as server,
            IdleConnections(server.address) as held,
        ):
            before = _warm_up(server)
            cap = cap_of(contender)
            yield lambda point: _step(
                server,
                contender,
                held,
                before,
                point["connections"],
                cap,
                args.floor,
                args.duration,
                point["connections"] == last_step(steps, cap[0]),
            )

    return execute(args, document, [{"connections": n} for n in steps], session)


def _memory(server: contenders.Running) -> tuple[int, int | None, int]:
    """RSS summed over the family, PSS summed (None without smaps_rollup), processes."""
    family = server.pids()
    return procs.rss_bytes(family), procs.pss_bytes(family), len(family)


def _steady(server: contenders.Running) -> tuple[int, int | None, int]:
    """Memory once the family's descriptors and RSS stop moving (a second apart within 1%)."""
    previous = _memory(server)
    descriptors = procs.open_descriptors(server.pids())
    for _ in range(20):
        time.sleep(SETTLE)
        current = _memory(server)
        now_open = procs.open_descriptors(server.pids())
        if now_open == descriptors and abs(current[0] - previous[0]) <= previous[0] // 100:
            return current
        previous, descriptors = current, now_open
    return previous


def _warm_up(server: contenders.Running) -> tuple[int, int | None, int]:
    for _ in range(WARM_UP):
        with socket.create_connection(server.address, timeout=10) as warm:
            warm.sendall(b"warm\n")
            warm.recv(64)
    time.sleep(SETTLE)
    return _steady(server)


def _step(
    server: contenders.Running,
    contender: Contender,
    held: IdleConnections,
    before: tuple[int, int | None, int],
    count: int,
    cap: Cap,
    floor: int,
    idle_seconds: float,
    last: bool,
) -> dict[str, Any]:
    if (figure := capped(cap, count, "connections")) is not None:
        return figure
    one_client = contenders.is_one_client_at_a_time(contender)
    if held.failures and not one_client:
        return {"value": 0.0, "status": "failed", "note": held.failures[0]}
    per_connection = _so_far(held, before, server)
    needed = per_connection * (count - len(held.sockets)) * 2  # twice the trend, to be safe
    if per_connection and procs.available_memory() - needed < floor:
        return {
            "value": 0.0,
            "status": "stopped",
            "note": "stopped before free memory would fall under the floor",
        }
    opened = held.grow_to(count)
    if not server.alive():
        raise StartFailed("the server exited while connections were opened")
    after = _steady(server)
    alive = held.alive()
    holding = 1 if one_client else alive
    multi = after[2] > 1 and after[1] is not None and before[1] is not None
    grown = (after[1] - before[1]) if multi else (after[0] - before[0])  # type: ignore[operator]
    measured: dict[str, Any] = {
        "value": grown / max(holding, 1),
        "held": holding,
        "opened": opened,
        "rss_before": before[0],
        "rss_after": after[0],
        "pss_before": before[1],
        "pss_after": after[1],
        "processes": after[2],
        "memory": "pss" if multi else "rss",
    }
    if one_client:
        measured["status"] = "limit"
        measured["note"] = (
            "one client at a time: it holds one; the next wait in its listen(5) backlog and "
            "the rest cannot connect"
        )
    elif alive < opened:
        measured["status"] = "refused"
        measured["note"] = f"held {alive} of {opened}: the server closed the rest"
    if held.failures and not one_client:
        measured["note"] = (measured.get("note", "") + f"; {held.failures[0]}").strip("; ")
    if last:
        family = server.pids()
        cpu_before = procs.cpu_seconds(family)
        time.sleep(idle_seconds)
        measured["idle_cpu"] = (procs.cpu_seconds(server.pids()) - cpu_before) / idle_seconds
    return measured


def _so_far(
    held: IdleConnections, before: tuple[int, int | None, int], server: contenders.Running
) -> float:
    if not held.sockets:
        return 0.0
    now = _memory(server)
    if now[2] > 1 and now[1] is not None and before[1] is not None:
        return max(0.0, (now[1] - before[1]) / len(held.sockets))
    return max(0.0, (now[0] - before[0]) / len(held.sockets))
