"""The course's console messages, at a volume the user chooses.

Classic models print what the course printed ("now serving [addr]", `recv[addr]:data`, ...).
At the default volume only connection events are shown; the per-message lines need
`--verbose`, so a benchmark is never slowed down by its own log; `--quiet` shows nothing.
"""

from __future__ import annotations

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
        print(message, file=self._stream or sys.stdout, flush=True)


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
