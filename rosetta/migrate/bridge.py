"""A bridge for migrating one function at a time: an asyncio loop on a thread of its own.

A gevent program calls a migrated `async def` with `bridge.run(coro)`: the coroutine runs on
the bridge's loop, and only the calling greenlet waits (the wait happens in a thread of
gevent's pool, so the hub keeps running the other greenlets). Migrated code calls a gevent
function that is not migrated yet with `await bridge.call_gevent(fn, *args)`: the function
runs in a new greenlet on the hub's thread, and the coroutine awaits its result.

Caveats (docs/migration.md, "An incremental path"):
- the process must not have patched `threading` (the bridge needs a real thread), nor
  `socket`/`select` for the loop's own I/O: patch_all() and the bridge do not mix;
- context variables and gevent locals do not cross: each side sees its own;
- a lock, event or queue belongs to one side: a gevent lock does not guard asyncio code and
  an asyncio lock is not thread-safe; hand values over through run / call_gevent only;
- cancellation does not cross either: killing the greenlet waiting in `run` does not cancel
  the coroutine, and cancelling `call_gevent` does not kill the greenlet.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import gevent
from gevent import monkey

T = TypeVar("T")


class PatchedProcess(RuntimeError):
    """The bridge needs real threads and the standard library's own socket and select."""


class AsyncioThread:
    def __init__(self) -> None:
        patched = [
            name for name in ("threading", "socket", "select") if monkey.is_module_patched(name)
        ]
        if patched:
            raise PatchedProcess(
                f"gevent patched {', '.join(patched)}: the asyncio thread needs the originals "
                "(patch_all(thread=False, socket=False, select=False), or no patching)"
            )
        self.hub = gevent.get_hub()
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="asyncio-bridge", daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def start(self) -> AsyncioThread:
        self._thread.start()
        return self

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """From a greenlet: the coroutine's result (or its exception), this greenlet waiting."""
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return self.hub.threadpool.spawn(future.result, timeout).get()

    def call_gevent(self, function: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """From the loop: an awaitable of `function(*args)` run in a greenlet of the hub."""
        done: concurrent.futures.Future[T] = concurrent.futures.Future()

        def settle(greenlet: gevent.Greenlet) -> None:
            if greenlet.successful():
                done.set_result(greenlet.value)
            else:
                done.set_exception(greenlet.exception)

        def start() -> None:
            gevent.spawn(function, *args).link(settle)

        self.hub.loop.run_callback_threadsafe(start)
        return asyncio.wrap_future(done)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.hub.threadpool.spawn(self._thread.join).get()
        self.loop.close()
