"""Descriptors, for every classic model: the open-files limit, `accept` failing for
want of descriptors, and `select()`'s `FD_SETSIZE`.

A server holding thousands of clients meets these before anything else: the soft limit of
1024 open files (raised here to the hard one), then EMFILE from `accept` (warned about, then a
short pause instead of spinning on a listener that stays readable), and for `select()`
descriptor numbers it cannot watch at all.
"""

from __future__ import annotations

import contextlib
import errno
import resource
import socket
import time

from rosetta.console import Console, show_peer

# glibc's fd_set holds descriptors 0..1023; select() refuses anything higher.
FD_SETSIZE = 1024
OUT_OF_RESOURCES = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
OUT_OF_RESOURCES_PAUSE = 0.1


def raise_open_file_limit() -> None:
    """Raise the soft limit on open files to the hard one (the default soft 1024 would cap
    the number of clients long before these servers run out of anything else)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 1 << 16
    if soft != resource.RLIM_INFINITY and soft < target:
        # If it cannot be raised, accept() reports EMFILE at the old limit: handled below.
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


class _Shortage:
    """Whether this process is in an episode of running out of descriptors: one warning when
    it starts, one line when accepting has worked for `CALM` seconds, not a line per attempt."""

    short = False
    last_failure = 0.0
    CALM = 2.0


def accept_failed(error: OSError, console: Console) -> bool:
    """True (after a short pause, and a warning if this starts an episode) if accept() or
    what a new client needs failed for want of descriptors; False for other errors."""
    if error.errno not in OUT_OF_RESOURCES:
        return False
    _Shortage.last_failure = time.monotonic()
    if not _Shortage.short:
        _Shortage.short = True
        console.warn(
            f"rosetta: warning: cannot accept a client: {error.strerror}; "
            f"retrying every {OUT_OF_RESOURCES_PAUSE:g} s"
        )
    time.sleep(OUT_OF_RESOURCES_PAUSE)
    return True


def accept_recovered(console: Console) -> None:
    """A client was accepted: ends an episode of `accept_failed`, with one line."""
    if _Shortage.short and time.monotonic() - _Shortage.last_failure > _Shortage.CALM:
        _Shortage.short = False
        console.warn("rosetta: info: accepting clients again")


def accept_one(server: socket.socket, console: Console) -> tuple[socket.socket, object] | None:
    """One client from the backlog; None if none is waiting (a non-blocking listener), it
    left before we took it, or descriptors ran out (`accept_failed`)."""
    try:
        accepted = server.accept()
    except (BlockingIOError, ConnectionAbortedError):
        return None
    except OSError as error:
        if accept_failed(error, console):
            return None
        raise
    accept_recovered(console)
    return accepted


def select_can_watch(client: socket.socket, addr: object, console: Console) -> bool:
    """False (after closing the client with a one-line warning) for a descriptor numbered
    FD_SETSIZE or more, which select() cannot watch."""
    if client.fileno() < FD_SETSIZE:
        return True
    console.warn(
        f"rosetta: warning: select() cannot watch fd {client.fileno()} (FD_SETSIZE is "
        f"{FD_SETSIZE}): closed the connection from {show_peer(addr)}"
    )
    client.close()
    return False
