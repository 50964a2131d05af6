"""What every modern server shares: the event loop choice, signals, and a graceful stop.

`run(main, loop=...)` runs `main(stopping)` on uvloop (the default) or the stock asyncio loop.
SIGINT and SIGTERM set `stopping`; the server then stops accepting, lets requests that are in
flight finish within a grace time, and drops idle keep-alive connections at once.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable

LOOPS = ("uvloop", "asyncio")
GRACE_SECONDS = 2.0


def loop_factory(loop: str) -> Callable[[], asyncio.AbstractEventLoop]:
    if loop == "uvloop":
        import uvloop

        return uvloop.new_event_loop
    if loop == "asyncio":
        return asyncio.new_event_loop
    raise ValueError(f"unknown event loop {loop!r} (choose from {', '.join(LOOPS)})")


def run(main: Callable[[asyncio.Event], Awaitable[None]], *, loop: str = "uvloop") -> None:
    with asyncio.Runner(loop_factory=loop_factory(loop)) as runner:
        runner.run(_until_signalled(main))


async def _until_signalled(main: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    try:
        await main(stopping)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


class Connections:
    """The tasks serving connections, and which of them are mid-request."""

    def __init__(self) -> None:
        self._busy: dict[asyncio.Task[object], bool] = {}

    def add(self) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._busy[task] = False

    def discard(self) -> None:
        task = asyncio.current_task()
        self._busy.pop(task, None)  # type: ignore[arg-type]

    def busy(self) -> _Busy:
        """`with connections.busy():` around a request; entered once per message, so it is a
        plain class (a generator-based context manager costs about 2 us each time)."""
        return _Busy(self._busy)

    async def close(self, grace: float = GRACE_SECONDS) -> None:
        """Cancel idle connections now, busy ones after `grace` seconds at most."""
        for task, busy in list(self._busy.items()):
            if not busy:
                task.cancel()
        pending = list(self._busy)
        if pending:
            _, late = await asyncio.wait(pending, timeout=grace)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late, timeout=grace)


class _Busy:
    __slots__ = ("_busy", "_task")

    def __init__(self, busy: dict[asyncio.Task[object], bool]) -> None:
        self._busy = busy
        self._task: asyncio.Task[object] | None = None

    def __enter__(self) -> None:
        task = self._task = asyncio.current_task()
        self._busy[task] = True  # type: ignore[index]

    def __exit__(self, *exc_info: object) -> None:
        if self._task in self._busy:
            self._busy[self._task] = False  # type: ignore[index]
