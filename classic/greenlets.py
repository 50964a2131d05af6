"""Course §7, §8, §9a, §9b: coroutines by hand, with greenlet, and with gevent (no network).

Schedules: §7 by hand, a generator `A` suspended at `yield` and resumed by `next()` in `B`;
§8 by explicit transfer, `gr1.switch()` / `gr2.switch()` between two greenlets, no scheduler
at all; §9 by gevent's hub, an event loop (libev) in its own greenlet that runs spawned
greenlets in spawn order and switches only when one waits (`gevent.sleep`, patched I/O).
Blocks: anything that does not go through the hub. `time.sleep` in §7 and §8 blocks the whole
thread, which is fine only because nothing else is waiting; a CPU-bound greenlet (`starve`,
the course's warning that gevent switches only on I/O) blocks every other greenlet until it
ends. The fix for CPU work is gevent's threadpool (`hub.threadpool.apply`).
Costs: a greenlet switch is a C stack copy, a few microseconds; a gevent greenlet costs a few
KiB, so thousands are cheap. No preemption: fairness depends on every greenlet waiting often.
Counterpart: `modern.coroutines` (native coroutines driven by `send`, and asyncio tasks).

Monkey patching is not needed here (the demos do no socket I/O) and is never done: the CLI
process imports this module, and `patch_all()` would leak into everything else it runs.

Course bug: §7 and §8 loop `while True`, so they never end, and §7 calls `c.next()`, which is
Python 2 only. Fixed: every demo runs a bounded number of rounds, and §7 uses `next(c)`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Generator

import gevent
from greenlet import greenlet

from rosetta.demos import catalog
from rosetta.demos.trace import Event, Trace

MODEL = "classic.greenlets"
DEMOS = tuple(catalog.DEMOS)


# --8<-- [start:handoff]
def A(trace: Trace) -> Generator[None, None, None]:
    for _ in range(trace.rounds):
        trace.line("A", "----A---")
        yield
        time.sleep(trace.delay)


def B(trace: Trace, c: Generator[None, None, None]) -> None:
    for _ in range(trace.rounds):
        trace.line("B", "----B---")
        next(c)
        time.sleep(trace.delay)


def handoff(trace: Trace) -> None:
    a = A(trace)
    B(trace, a)
    a.close()
# --8<-- [end:handoff]


# --8<-- [start:switch]
def switch(trace: Trace) -> None:
    def test1() -> None:
        for _ in range(trace.rounds):
            trace.line("gr1", "---A--")
            gr2.switch()
            time.sleep(trace.delay)

    def test2() -> None:
        for _ in range(trace.rounds):
            trace.line("gr2", "---B--")
            gr1.switch()
            time.sleep(trace.delay)

    gr1 = greenlet(test1)
    gr2 = greenlet(test2)
    gr1.switch()
    # test1 has returned; test2 still waits inside gr1.switch() for a turn that never comes.
    gr2.throw()
# --8<-- [end:switch]


def _named(glet: gevent.Greenlet, name: str) -> gevent.Greenlet:
    # The course printed gevent.getcurrent() (`<Greenlet at 0x7f...: f(5)>`); a stable name
    # lets the trace be compared with the asyncio task names of the modern side.
    glet.name = name
    return glet


# --8<-- [start:spawn]
def f(trace: Trace, n: int) -> None:
    for i in range(n):
        name = gevent.getcurrent().name
        trace.line(name, f"{name} {i}")


def spawn(trace: Trace) -> None:
    g1 = _named(gevent.spawn(f, trace, trace.rounds), "g1")
    g2 = _named(gevent.spawn(f, trace, trace.rounds), "g2")
    g3 = _named(gevent.spawn(f, trace, trace.rounds), "g3")
    g1.join()
    g2.join()
    g3.join()
# --8<-- [end:spawn]


# --8<-- [start:interleave]
def f_sleeping(trace: Trace, n: int) -> None:
    for i in range(n):
        name = gevent.getcurrent().name
        trace.line(name, f"{name} {i}")
        gevent.sleep(trace.delay)


def interleave(trace: Trace) -> None:
    g1 = _named(gevent.spawn(f_sleeping, trace, trace.rounds), "g1")
    g2 = _named(gevent.spawn(f_sleeping, trace, trace.rounds), "g2")
    g3 = _named(gevent.spawn(f_sleeping, trace, trace.rounds), "g3")
    gevent.joinall([g1, g2, g3])
# --8<-- [end:interleave]


# --8<-- [start:starve]
def ticker(trace: Trace) -> None:
    for i in range(trace.rounds):
        trace.line(catalog.STARVE_TICKER, f"{catalog.STARVE_TICKER} {i}")
        gevent.sleep(trace.delay)


def cruncher(trace: Trace, in_thread: bool) -> None:
    seconds = catalog.starve_work_seconds(trace.delay)
    trace.mark(catalog.STARVE_CRUNCHER, f"CPU-bound step starts ({seconds:.2f} s)")
    if in_thread:
        # The greenlet waits on the hub like on I/O; the hub keeps running the ticker.
        gevent.get_hub().threadpool.apply(catalog.cpu_step, (seconds,))
    else:
        catalog.cpu_step(seconds)  # never yields to the hub: the ticker misses its turns
    trace.mark(catalog.STARVE_CRUNCHER, "CPU-bound step ends")


def starve(trace: Trace) -> None:
    for in_thread, title in ((False, catalog.STARVE_IN_LOOP), (True, catalog.STARVE_IN_THREAD)):
        trace.phase(title)
        gevent.joinall([gevent.spawn(ticker, trace), gevent.spawn(cruncher, trace, in_thread)])
# --8<-- [end:starve]


_RUNNERS: dict[str, Callable[[Trace], None]] = {
    demo.__name__: demo for demo in (handoff, switch, spawn, interleave, starve)
}


def run_demo(
    name: str,
    *,
    rounds: int | None = None,
    delay: float | None = None,
    on_event: Callable[[Event], None] | None = None,
) -> Trace:
    """Run one demo to its end and return its trace; `on_event` sees each event as it happens."""
    rounds, delay = catalog.check(name, rounds, delay)
    trace = Trace(name, MODEL, rounds, delay, on_event=on_event)
    _RUNNERS[name](trace)
    return trace


if __name__ == "__main__":
    from rosetta.demos.cli import module_main

    sys.exit(module_main(MODEL, sys.argv[1:]))
