"""The access log's writer, shared by every HTTP model: `--access-log PATH|-`.

Lines are made where the answer is made (`LoggingSite.respond`, formatted by
`rosetta.protocol.access_log`) and buffered; a writer thread flushes them at least once a
second, and `serving` flushes the rest when the server stops (SIGINT, SIGTERM), so no line is
lost and an event loop never waits on the disk. Every flush is one `write` of whole lines to a
descriptor opened with O_APPEND, so processes sharing the file (workers, forked children)
never interleave inside a line. A forked child that was not set up by `serving` (the forking
model's per-client process, which leaves by `os._exit`) writes each line as it is made.
SIGHUP reopens the file, for log rotation (`logrotate` renames it, then signals): the process
that serves passes the signal on to its children (the forking model's clients, each with the
file it was forked with), and each reopens before its next line. A reopen replaces the
descriptor in place (`dup2`), so a child forked at any moment holds the old file or the new
one, never a closed descriptor.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator

from rosetta.protocol.access_log import log_line
from rosetta.protocol.http import Event
from rosetta.protocol.response import ResponsePlan
from rosetta.protocol.static import StaticSite, site_for

FLUSH_SECONDS = 1.0
_FLUSH_BYTES = 64 * 1024
STDOUT = "-"


class AccessLog:
    """Buffered, append-only lines to a file (or standard output for `-`)."""

    def __init__(self, path: str, log_format: str = "combined") -> None:
        self.path = path
        self.log_format = log_format
        self._lock = threading.Lock()
        self._lines: list[bytes] = []
        self._size = 0
        self._fd: int | None = None
        self._owner_pid = -1
        self._reopen_asked = 0  # SIGHUPs received, and the last one acted on
        self._reopened = 0
        self._stop = threading.Event()
        self._flusher: threading.Thread | None = None

    def _open(self) -> int:
        if self.path == STDOUT:
            return os.dup(sys.stdout.fileno())
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
        return os.open(self.path, flags, 0o644)

    def start(self) -> None:
        """Open the file and start flushing, in the process that serves."""
        self._fd = self._open()
        self._owner_pid = os.getpid()
        self._lines, self._size = [], 0
        self._stop.clear()
        self._flusher = threading.Thread(target=self._flush_often, name="access-log", daemon=True)
        # Started with every signal blocked, so the kernel never hands this thread a signal
        # meant for the process: a SIGTERM taken here would leave the main thread asleep in
        # accept() (its handler runs only there, and nothing would interrupt the call).
        held = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
        try:
            self._flusher.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGHUP, self._hang_up)

    def write(self, line: bytes) -> None:
        if os.getpid() != self._owner_pid:
            if self._owner_pid == -1:  # a model that did not start us: start, close at exit
                self.start()
                atexit.register(self.close)
            else:
                self._write_now(line)  # a forked child: it may leave without our exit
                return
        with self._lock:
            self._lines.append(line)
            self._size += len(line)
            full = self._size >= _FLUSH_BYTES
        if full:
            self.flush()

    def reopen(self) -> None:
        """Ask for the file to be opened anew at the next flush (safe in a signal handler)."""
        self._reopen_asked += 1

    def _hang_up(self, signum: int, frame: object) -> None:
        self.reopen()
        pass_signal_to_children(signum)

    def _reopen_if_asked(self) -> None:
        asked = self._reopen_asked
        if asked != self._reopened and self._fd is not None:
            fresh = self._open()
            os.dup2(fresh, self._fd, inheritable=False)
            os.close(fresh)
            self._reopened = asked

    def flush(self) -> None:
        with self._lock:
            lines, self._lines, self._size = self._lines, [], 0
            self._reopen_if_asked()
            if lines and self._fd is not None:
                _write_all(self._fd, b"".join(lines))

    def close(self) -> None:
        self._stop.set()
        if self._flusher is not None:
            self._flusher.join()
        self.flush()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _flush_often(self) -> None:
        while not self._stop.wait(FLUSH_SECONDS):
            with contextlib.suppress(OSError):
                self.flush()

    def _write_now(self, line: bytes) -> None:
        if self._fd is not None:
            self._reopen_if_asked()  # one process, one thread: no lock (it may be a fork's copy)
            _write_all(self._fd, line)


def pass_signal_to_children(signum: int) -> None:
    """Send `signum` to every child of this process (its main thread's, as /proc lists them)."""
    pid = os.getpid()
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as listed:
            children = [int(word) for word in listed.read().split()]
    except OSError:
        return  # no /proc: each child can still be signalled on its own
    for child in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signum)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class LoggingSite(StaticSite):
    """A `StaticSite` that writes a line to its access log for every answer it makes."""

    def __init__(self, *args: object, access_log: AccessLog, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.access_log = access_log

    def respond(self, event: Event, peer: object = None) -> ResponsePlan:
        plan = self.plan(event)
        log = self.access_log
        log.write(log_line(log.log_format, peer, event, plan.status, plan.body_length, time.time()))
        return plan


@contextlib.contextmanager
def serving(root: str | os.PathLike[str] | StaticSite) -> Iterator[StaticSite]:
    """The site for `root`, its access log (if any) open while the block runs and flushed
    when it ends, however it ends."""
    site = site_for(root)
    log = site.access_log if isinstance(site, LoggingSite) else None
    if log is None:
        yield site
        return
    log.start()
    try:
        yield site
    finally:
        log.close()
