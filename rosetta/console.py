"""The course's console messages, at a volume the user chooses.

Classic models print what the course printed ("now serving [addr]", `recv[addr]:data`, ...).
At the default volume only connection events are shown; the per-message lines need
`--verbose`, so a benchmark is never slowed down by its own log; `--quiet` shows nothing.

When the reader of the console's stream leaves (`rosetta serve -v | head -1`), whichever flow
of control wrote (the main thread, a client's thread, greenlet or forked process) points the
stream at /dev/null, so nothing more fails or prints a traceback, and the server is stopped by
SIGINT: gracefully, with exit code 0, as every sub-command ends when its reader left.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import TextIO

QUIET, NORMAL, VERBOSE = 0, 1, 2


class Console:
    def __init__(self, volume: int = NORMAL, stream: TextIO | None = None) -> None:
        self.volume = volume
        self._stream = stream

    @property
    def verbose(self) -> bool:
        return self.volume >= VERBOSE

    def event(self, message: str) -> None:
        """A connection event: a client came or went, the server stops."""
        if self.volume >= NORMAL:
            self._write(message)

    def data(self, message: str) -> None:
        """A per-message line such as `recv[addr]:data`; only with --verbose."""
        if self.volume >= VERBOSE:
            self._write(message)

    def warn(self, message: str) -> None:
        """Something the user should know even with --quiet: goes to stderr."""
        print(message, file=sys.stderr, flush=True)

    def _write(self, message: str) -> None:
        stream = self._stream or sys.stdout
        try:
            print(message, file=stream, flush=True)
        except BrokenPipeError:
            reader_left(stream)


def reader_left(stream: TextIO) -> None:
    """`stream`'s reader went away: nothing more goes there, and this process gets SIGINT, so
    it stops the way its model stops on Ctrl-C (a process that ignores SIGINT, such as a forked
    model's child, goes on; its parent stops at its own next line)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, stream.fileno())
    os.close(devnull)
    os.kill(os.getpid(), signal.SIGINT)


def show_peer(addr: object) -> str:
    """An address as the course printed it: `('127.0.0.1', 50312)`."""
    if isinstance(addr, tuple):
        return str(addr[:2])
    return str(addr)


def show_data(data: bytes, limit: int = 80) -> str:
    """Received bytes as a short printable line (the course printed the decoded string)."""
    text = data[:limit].decode("utf-8", "backslashreplace")
    text = text.replace("\r", "\\r").replace("\n", "\\n")
    return text + ("..." if len(data) > limit else "")


def describe_gone(addr: object, error: BaseException) -> str:
    """The console line for a client that vanished (reset, broken pipe, file changed)."""
    return f"[{show_peer(addr)}] client reset the connection ({type(error).__name__})"


QUIET_CONSOLE = Console(QUIET)
