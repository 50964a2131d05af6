"""A file body going out on an asyncio transport, the best way the loop allows: for
`modern.protocol`, whose callbacks cannot await.

- the stock loop: `loop.sendfile(transport, file)`, which waits for the transport's buffer to
  drain and then uses `os.sendfile`;
- uvloop, which does not implement it (MagicStack/uvloop#228): `os.sendfile` on the
  transport's socket itself, only while the transport's write buffer is empty and reading is
  paused (nothing else can write or read then), waiting for writability through a `dup()` of
  the descriptor;
- if the buffer is not empty, or the transport is TLS (`os.sendfile` cannot encrypt, and the
  bytes must go through the TLS layer): the file read in chunks written through the
  transport, stopping at `pause_writing` and going on at `resume_writing`.

The owner (the protocol) pauses reading before the head goes out, so nothing more is parsed
until the body is out, and hears `file_sent()` at the end; a file that shrank, or a peer that
left, aborts the connection: the Content-Length was a promise.
"""

from __future__ import annotations

import asyncio
import os
from typing import BinaryIO, Protocol

from rosetta.protocol.files import FileSlice

# What the chunked path reads and writes at a time; it stops at pause_writing.
CHUNK_SIZE = 256 * 1024


class Owner(Protocol):
    """The protocol a file is sent for."""

    @property
    def writing_paused(self) -> bool: ...

    def abort(self) -> None: ...

    def file_sent(self) -> None: ...


class FileSend:
    """One file body in flight: where we are in it, and what waits for the socket."""

    __slots__ = ("_file", "_offset", "_owner", "_remaining", "_task", "_transport", "_watch_fd")

    def __init__(self, owner: Owner, transport: asyncio.Transport, body: FileSlice) -> None:
        """Opens the file (OSError if it cannot be); `start` sends it."""
        self._file: BinaryIO = open(body.path, "rb")  # noqa: SIM115 - closed in close()
        self._owner = owner
        self._transport = transport
        self._offset = body.offset
        self._remaining = body.length
        self._watch_fd = -1
        self._task: asyncio.Task[None] | None = None

    def start(self, native_sendfile: bool) -> None:
        if self._transport.get_extra_info("sslcontext") is not None:
            self._send_chunks()  # HTTPS: every byte through the transport's TLS layer
        elif native_sendfile:
            self._task = asyncio.get_running_loop().create_task(self._loop_sendfile())
        elif self._transport.get_write_buffer_size() == 0:
            self._os_sendfile()
        else:
            self._send_chunks()

    @property
    def progress(self) -> int | None:
        """Bytes still to send, to tell a stalled send from a slow one; None where the loop
        does not say (`loop.sendfile` reports only at the end)."""
        return None if self._task is not None else self._remaining

    def resume_writing(self) -> None:
        """The transport's buffer drained: the chunked path goes on (the others need not)."""
        if self._task is None and self._watch_fd < 0:
            self._send_chunks()

    def close(self) -> None:
        if self._watch_fd >= 0:
            asyncio.get_running_loop().remove_writer(self._watch_fd)
            os.close(self._watch_fd)
            self._watch_fd = -1
        if self._task is not None:
            self._task.cancel()  # the task closes the file once loop.sendfile has let go
        else:
            self._file.close()

    async def _loop_sendfile(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            # No fallback: the stock one reads the file in a thread pool; if os.sendfile
            # cannot serve this socket, the connection is broken anyway.
            sent = await loop.sendfile(
                self._transport, self._file, self._offset, self._remaining, fallback=False
            )
        except (OSError, RuntimeError, ValueError):
            sent = -1
        except asyncio.CancelledError:
            self._file.close()
            raise
        self._task = None  # from here on, close() closes the file
        if sent != self._remaining:
            self._owner.abort()
            return
        self._remaining = 0
        self._owner.file_sent()

    def _os_sendfile(self) -> None:
        if self._transport.is_closing():
            return
        sock_fd = self._transport.get_extra_info("socket").fileno()
        file_fd = self._file.fileno()
        while self._remaining:
            try:
                sent = os.sendfile(sock_fd, file_fd, self._offset, self._remaining)
            except BlockingIOError:
                self._wait_writable(sock_fd)
                return
            except OSError:
                self._owner.abort()
                return
            if sent == 0:
                self._owner.abort()  # the file shrank under us
                return
            self._offset += sent
            self._remaining -= sent
        self._owner.file_sent()

    def _wait_writable(self, sock_fd: int) -> None:
        # libuv watches one handle per descriptor and the transport owns this one, so the
        # loop watches a duplicate of it (the same socket) for writability.
        if self._watch_fd < 0:
            self._watch_fd = os.dup(sock_fd)
            asyncio.get_running_loop().add_writer(self._watch_fd, self._os_sendfile)

    def _send_chunks(self) -> None:
        transport = self._transport
        if transport.is_closing():
            return
        file_fd = self._file.fileno()
        while self._remaining and not self._owner.writing_paused:
            chunk = os.pread(file_fd, min(CHUNK_SIZE, self._remaining), self._offset)
            if not chunk:
                self._owner.abort()  # the file shrank under us
                return
            transport.write(chunk)
            self._offset += len(chunk)
            self._remaining -= len(chunk)
        if not self._remaining:
            self._owner.file_sent()
