"""Replaces course §7, §8, §9a, §9b: native coroutines and asyncio tasks (no network).

Schedules: `handoff_by_send` drives a native coroutine by hand with `coro.send(None)`, as §7
drove a generator with `next()`; every other demo runs on an asyncio loop, which runs ready
tasks in FIFO order and switches only at an `await` that has to wait: `await asyncio.sleep(0)`
is §7's bare `yield`, an `asyncio.Event` per task is §8's directed `switch()`, a task with no
`await` in its loop runs to its end like a §9a greenlet.
Blocks: anything not awaited; `time.sleep` and CPU work block every task (`starve`), and
`asyncio.to_thread` moves such work to a worker thread. Costs: a task is about a KiB, a switch
a Python-level callback of a few microseconds, no stack copying; no preemption, but every
suspension point is written `await`. Counterpart: `classic.greenlets`.

Course bug: §7 and §8 loop `while True` and never end. Fixed: bounded rounds, as on the
classic side; the classic module names the other fixes.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Coroutine, Generator
from typing import Any

from rosetta.demos import catalog
from rosetta.demos.trace import Event, Trace

MODEL = "modern.coroutines"
DEMOS = tuple(catalog.DEMOS)


# --8<-- [start:handoff_send]
class Suspend:
    """Awaiting this suspends the coroutine once, handing control to whoever called send()."""

    def __await__(self) -> Generator[None, None, None]:
        yield


async def A(trace: Trace) -> None:
    for _ in range(trace.rounds):
        trace.line("A", "----A---")
        await Suspend()
        time.sleep(trace.delay)


def B(trace: Trace, c: Coroutine[Any, Any, None]) -> None:
    for _ in range(trace.rounds):
        trace.line("B", "----B---")
        c.send(None)
        time.sleep(trace.delay)


def handoff_by_send(trace: Trace) -> None:
    a = A(trace)
    B(trace, a)
    a.close()
    # --8<-- [end:handoff_send]


# --8<-- [start:handoff]
async def task_A(trace: Trace) -> None:
    for _ in range(trace.rounds):
        trace.line("A", "----A---")
        await asyncio.sleep(0)  # §7's bare `yield`: the loop runs the other ready task
        # Blocking on purpose, as in §7: it stands for work done between hand-offs.
        time.sleep(trace.delay)


async def task_B(trace: Trace) -> None:
    for _ in range(trace.rounds):
        trace.line("B", "----B---")
        await asyncio.sleep(0)
        time.sleep(trace.delay)


async def handoff(trace: Trace) -> None:
    # B first: in §7, B() runs and A only runs when B calls next().
    await asyncio.gather(task_B(trace), task_A(trace))
    # --8<-- [end:handoff]


# --8<-- [start:switch]
async def switch_to(theirs: asyncio.Event, mine: asyncio.Event) -> None:
    """greenlet's `other.switch()`: wake the other task, sleep until it wakes this one."""
    theirs.set()
    await mine.wait()
    mine.clear()


async def switch(trace: Trace) -> None:
    turn1, turn2 = asyncio.Event(), asyncio.Event()

    async def test1() -> None:
        for _ in range(trace.rounds):
            trace.line("gr1", "---A--")
            await switch_to(turn2, turn1)
            await asyncio.sleep(trace.delay)

    async def test2() -> None:
        await turn2.wait()  # a greenlet starts only when switched to
        turn2.clear()
        for _ in range(trace.rounds):
            trace.line("gr2", "---B--")
            await switch_to(turn1, turn2)
            await asyncio.sleep(trace.delay)

    gr2 = asyncio.create_task(test2(), name="gr2")
    await asyncio.create_task(test1(), name="gr1")
    # test1 has returned; test2 still waits for a turn that never comes.
    gr2.cancel()
    await asyncio.gather(gr2, return_exceptions=True)
    # --8<-- [end:switch]


# --8<-- [start:spawn]
async def f(trace: Trace, n: int) -> None:
    for i in range(n):
        name = asyncio.current_task().get_name()
        trace.line(name, f"{name} {i}")


async def spawn(trace: Trace) -> None:
    g1 = asyncio.create_task(f(trace, trace.rounds), name="g1")
    g2 = asyncio.create_task(f(trace, trace.rounds), name="g2")
    g3 = asyncio.create_task(f(trace, trace.rounds), name="g3")
    await g1
    await g2
    await g3
    # --8<-- [end:spawn]


# --8<-- [start:interleave]
async def f_sleeping(trace: Trace, n: int) -> None:
    for i in range(n):
        name = asyncio.current_task().get_name()
        trace.line(name, f"{name} {i}")
        await asyncio.sleep(trace.delay)


async def interleave(trace: Trace) -> None:
    async with asyncio.TaskGroup() as group:
        for name in ("g1", "g2", "g3"):
            group.create_task(f_sleeping(trace, trace.rounds), name=name)
            # --8<-- [end:interleave]


# --8<-- [start:starve]
async def ticker(trace: Trace) -> None:
    for i in range(trace.rounds):
        trace.line(catalog.STARVE_TICKER, f"{catalog.STARVE_TICKER} {i}")
        await asyncio.sleep(trace.delay)


async def cruncher(trace: Trace, in_thread: bool) -> None:
    seconds = catalog.starve_work_seconds(trace.delay)
    trace.mark(catalog.STARVE_CRUNCHER, f"CPU-bound step starts ({seconds:.2f} s)")
    if in_thread:
        # The task awaits the thread like I/O; the loop keeps running the ticker.
        await asyncio.to_thread(catalog.cpu_step, seconds)
    else:
        catalog.cpu_step(seconds)  # no await: the ticker misses its turns
    trace.mark(catalog.STARVE_CRUNCHER, "CPU-bound step ends")


async def starve(trace: Trace) -> None:
    for in_thread, title in ((False, catalog.STARVE_IN_LOOP), (True, catalog.STARVE_IN_THREAD)):
        trace.phase(title)
        await asyncio.gather(ticker(trace), cruncher(trace, in_thread))
        # --8<-- [end:starve]


_RUNNERS = {demo.__name__: demo for demo in (handoff, switch, spawn, interleave, starve)}


def run_demo(
    name: str,
    *,
    rounds: int | None = None,
    delay: float | None = None,
    on_event: Callable[[Event], None] | None = None,
    driver: str = "tasks",
) -> Trace:
    """Run one demo to its end; `driver="send"` runs `handoff` by `coro.send(None)`, no loop."""
    rounds, delay = catalog.check(name, rounds, delay)
    if driver not in ("tasks", "send") or (driver == "send" and name != "handoff"):
        raise ValueError(f"demo {name} has no driver {driver!r}")
    trace = Trace(name, MODEL, rounds, delay, on_event=on_event)
    if driver == "send":
        handoff_by_send(trace)
    else:
        asyncio.run(_RUNNERS[name](trace))
    return trace


if __name__ == "__main__":
    from rosetta.demos.cli import module_main

    sys.exit(module_main(MODEL, sys.argv[1:]))
