"""A crowd of concurrent clients for the load and shutdown tests: asyncio streams, one task per
connection, independent of the server code.

    crowd = Crowd.connect(address, 1000, http_asks(files))  # each open, asked once, held
    errors = crowd.rounds(seconds=2)           # everyone asks again and again, all at once
    closed = crowd.closed_within(3.0)          # how many saw EOF or a reset by then
    crowd.close()

Each check returns what went wrong as a list of short strings (empty: every byte correct), so a
test asserts `== []` and a failure says which client saw what. The crowd runs its own event
loop in a thread of its own, so a test can signal the server while the crowd is connected.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 15.0
# Connections being set up at once, each until its first answer (so the server has accepted it):
# a listen backlog of 128 is never overflowed, so no client waits for a SYN retransmission.
CONNECTING_AT_ONCE = 64
HEAD_END = b"\r\n\r\n"
# One step of the crowd (connecting all, a round), well within the suite's per-test timeout, so
# a server too slow for the crowd fails this test alone, its connections closed.
STEP_TIMEOUT = 60.0

T = TypeVar("T")
Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


Ask = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int, int], Awaitable[str | None]]


@dataclass
class Crowd:
    address: tuple[str, int]
    ask: Ask
    streams: list[Stream] = field(default_factory=list)
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    thread: threading.Thread | None = None
    answered: int = 0  # right answers in the last `rounds`

    @classmethod
    def connect(cls, address: tuple[str, int], count: int, ask: Ask) -> Crowd:
        """`count` connections, each asked once (`ask`) before the next ones connect; what
        went wrong on the way fails the test at once."""
        crowd = cls(address, ask)
        crowd.thread = threading.Thread(target=crowd.loop.run_forever, daemon=True)
        crowd.thread.start()
        try:
            errors = crowd._run(crowd._connect_all(count))
        except BaseException:
            crowd.close()
            raise
        if errors:
            crowd.close()
            raise AssertionError(f"{len(errors)} of {count} clients failed: {errors[:5]}")
        return crowd

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float = STEP_TIMEOUT) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _connect_all(self, count: int) -> list[str]:
        gate = asyncio.Semaphore(CONNECTING_AT_ONCE)

        async def one(index: int) -> str | None:
            async with gate:
                try:
                    stream = await asyncio.wait_for(
                        asyncio.open_connection(*self.address), CONNECT_TIMEOUT
                    )
                except (OSError, TimeoutError) as error:
                    return f"client {index} could not connect: {error!r}"
                self.streams.append(stream)  # held from now on, and closed by close()
                return await self._ask(stream, len(self.streams) - 1, 0)

        results = await asyncio.gather(*(one(index) for index in range(count)))
        return [wrong for wrong in results if wrong]

    async def _ask(self, stream: Stream, index: int, turn: int) -> str | None:
        try:
            wrong = await asyncio.wait_for(self.ask(*stream, index, turn), READ_TIMEOUT)
        except (OSError, asyncio.IncompleteReadError, TimeoutError) as error:
            wrong = f"{type(error).__name__}: {error}"
        return f"client {index}, request {turn}: {wrong}" if wrong else None

    def rounds(self, seconds: float, at_least: int = 2) -> list[str]:
        """Every client asks again and again on its kept-alive connection, all at once, for
        `seconds` and at least `at_least` times each; what was wrong (status, length, a byte).
        `answered` counts the answers that were right."""
        return self._run(self._rounds(seconds, at_least))

    async def _rounds(self, seconds: float, at_least: int) -> list[str]:
        deadline = time.monotonic() + seconds
        # Everyone starts together: the server holds every client while all of them ask.
        start = asyncio.Event()

        async def client(index: int) -> tuple[int, str | None]:
            await start.wait()
            done = 0
            while done < at_least or time.monotonic() < deadline:
                wrong = await self._ask(self.streams[index], index, 1 + done)
                if wrong:
                    return done, wrong
                done += 1
            return done, None

        tasks = [asyncio.ensure_future(client(index)) for index in range(len(self.streams))]
        start.set()
        results = await asyncio.gather(*tasks)
        self.answered = sum(done for done, _ in results)
        return [wrong for _, wrong in results if wrong]

    def closed_within(self, seconds: float) -> int:
        """How many connections the server closed (EOF or reset) within `seconds` from now;
        any bytes a client receives instead count it as not closed."""

        async def one(reader: asyncio.StreamReader) -> bool:
            try:
                return await asyncio.wait_for(reader.read(1), seconds) == b""
            except OSError:
                return True
            except TimeoutError:
                return False

        async def every() -> int:
            results = await asyncio.gather(*(one(reader) for reader, _ in self.streams))
            return sum(results)

        return self._run(every(), timeout=seconds + 30)

    def close(self) -> None:
        async def close_all() -> None:
            for _, writer in self.streams:
                writer.transport.abort()
            await asyncio.sleep(0)

        self._run(close_all())
        self.loop.call_soon_threadsafe(self.loop.stop)
        if self.thread is not None:
            self.thread.join(10)
        self.loop.close()


def http_asks(files: Mapping[str, bytes]) -> Ask:
    """A GET of one of `files` (path -> its bytes), a different one each turn."""
    paths = list(files.items())

    async def ask(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, index: int, turn: int
    ) -> str | None:
        path, expected = paths[(index + turn) % len(paths)]
        writer.write(f"GET {path} HTTP/1.1\r\nHost: load\r\n\r\n".encode())
        head = await reader.readuntil(HEAD_END)
        status = head.split(b" ", 2)[1]
        if status != b"200":
            return f"{path}: status {status.decode(errors='replace')}"
        length = _content_length(head)
        if length != len(expected):
            return f"{path}: Content-Length {length}, expected {len(expected)}"
        body = await reader.readexactly(length)
        if body != expected:
            return f"{path}: wrong bytes in the body"
        return None

    return ask


def _content_length(head: bytes) -> int | None:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return None


async def echo_ask(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, index: int, turn: int
) -> str | None:
    """A message of 20 to 200 bytes, different for every client and turn, echoed back."""
    message = b"client %d says %d; " % (index, turn) * (1 + index % 8)
    writer.write(message)
    echoed = await reader.readexactly(len(message))
    return None if echoed == message else "wrong bytes echoed"
