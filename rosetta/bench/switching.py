"""The child process of `rosetta bench switch`: one way of handing control over, timed.

    python -m rosetta.bench.switching MECHANISM SECONDS

Prints one JSON line: {"switches": N, "seconds": T}. A switch is one hand-over of control
from one flow to the other: a `send()` into a generator and its `yield` back are two, as are
a greenlet's `switch()` there and back, or two threads passing the turn. Run in its own
process so that importing gevent or installing uvloop never touches the caller.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable

BATCH = 10_000


def generator_send(seconds: float) -> int:
    def echo():  # type: ignore[no-untyped-def]
        value = None
        while True:
            value = yield value

    flow = echo()
    next(flow)
    send = flow.send
    switches = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        for _ in range(BATCH):
            send(1)
        switches += 2 * BATCH
    return switches


def greenlet_switch(seconds: float) -> int:
    import greenlet

    switches = 0
    deadline = time.perf_counter() + seconds

    def partner() -> None:
        main_switch = main.switch
        while True:
            main_switch()

    main = greenlet.getcurrent()
    other = greenlet.greenlet(partner)
    other_switch = other.switch
    while time.perf_counter() < deadline:
        for _ in range(BATCH):
            other_switch()
        switches += 2 * BATCH
    return switches


def gevent_sleep(seconds: float) -> int:
    import gevent

    counts = [0, 0]
    deadline = time.perf_counter() + seconds

    def player(me: int) -> None:
        sleep = gevent.sleep
        while time.perf_counter() < deadline:
            for _ in range(BATCH):
                sleep(0)
            counts[me] += BATCH

    gevent.joinall([gevent.spawn(player, 0), gevent.spawn(player, 1)])
    return sum(counts)


def _asyncio_players(seconds: float) -> Callable[[], object]:
    import asyncio

    async def main() -> int:
        counts = [0, 0]
        deadline = time.perf_counter() + seconds

        async def player(me: int) -> None:
            sleep = asyncio.sleep
            while time.perf_counter() < deadline:
                for _ in range(BATCH // 10):
                    await sleep(0)
                counts[me] += BATCH // 10

        await asyncio.gather(player(0), player(1))
        return sum(counts)

    return main


def asyncio_sleep(seconds: float) -> int:
    import asyncio

    return int(asyncio.run(_asyncio_players(seconds)()))  # type: ignore[arg-type]


def uvloop_sleep(seconds: float) -> int:
    import uvloop

    return int(uvloop.run(_asyncio_players(seconds)()))  # type: ignore[arg-type]


def thread_condition(seconds: float) -> int:
    import threading

    turn = threading.Condition()
    state = {"whose": 0, "switches": 0}
    deadline = time.perf_counter() + seconds

    def player(me: int) -> None:
        with turn:
            while True:
                while state["whose"] != me:
                    turn.wait()
                if time.perf_counter() >= deadline:
                    state["whose"] = 1 - me
                    turn.notify()
                    return
                state["whose"] = 1 - me
                state["switches"] += 1
                turn.notify()

    players = [threading.Thread(target=player, args=(me,)) for me in (0, 1)]
    for thread in players:
        thread.start()
    for thread in players:
        thread.join()
    return state["switches"]


MECHANISMS: dict[str, tuple[str, Callable[[float], int]]] = {
    "generator": ("a generator driven by send() (the course's yield)", generator_send),
    "greenlet": ("greenlet.switch() back and forth", greenlet_switch),
    "gevent": ("two greenlets calling gevent.sleep(0) through the hub", gevent_sleep),
    "asyncio": ("two tasks awaiting asyncio.sleep(0) on the asyncio loop", asyncio_sleep),
    "uvloop": ("two tasks awaiting asyncio.sleep(0) on uvloop", uvloop_sleep),
    "threads": ("two threads passing the turn through a threading.Condition", thread_condition),
}


def main(argv: list[str]) -> int:
    name, seconds = argv[0], float(argv[1])
    started = time.perf_counter()
    switches = MECHANISMS[name][1](seconds)
    print(json.dumps({"switches": switches, "seconds": time.perf_counter() - started}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
