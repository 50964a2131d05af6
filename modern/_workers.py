"""`--workers N` for every modern server: pre-forked worker processes sharing one port.

The modern counterpart of course §2 (a process per client): instead of forking per connection,
a supervisor forks N workers once, each running the whole event-loop server, and the kernel
spreads the connections between them. Two ways to share the port:

- `SO_REUSEPORT` (Linux, the BSDs): every worker binds and listens on the port itself; the
  kernel balances new connections between the listening sockets. The supervisor keeps a bound,
  never-listening socket of its own on the port, so a restarted worker always gets it back and
  no other program can take it (a bound socket that does not listen receives no connections).
- otherwise, one listening socket made by the supervisor before forking and inherited by every
  worker, which all accept on it (the classic pre-fork server; the kernel wakes one of them).

Supervised: a worker that dies after it started listening is replaced by a new one; a worker
that exits on its own before that means the model cannot start, so everything stops with an
error (one killed by a signal while starting is retried after a short pause). SIGTERM
or SIGINT to the supervisor stops every worker (each finishes its in-flight requests within the
runtime's grace time) and the supervisor returns, so the command exits 0. The ready line is
printed once, by the supervisor, when every first worker listens.

A model takes part with two lines: `@prefork` on its `serve_*` functions (they get a
`workers: int = 1` keyword) and `listening_socket(host, port)` instead of binding on its own.
Set `ROSETTA_WORKERS_SHARING=listener` to force the inherited-socket way (tests use it).
"""

from __future__ import annotations

import contextlib
import functools
import os
import select
import signal
import socket
import struct
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

from rosetta.net import bind_address, family_for
from rosetta.net import listening_socket as _new_listening_socket

BACKLOG = 1024
START_TIMEOUT = 30.0
# Each worker gets the runtime's grace time (2 s) and the loop's shutdown; then SIGKILL.
STOP_TIMEOUT = 8.0
# Before replacing a worker that was killed while it was still starting.
RESTART_PAUSE = 0.5
SHARING_ENV = "ROSETTA_WORKERS_SHARING"
_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}
_WATCHED = {signal.SIGCHLD, *_STOP_SIGNALS}
_PID = struct.Struct("=i")

Serve = TypeVar("Serve", bound=Callable[..., None])

# In a worker: how this process gets its listening socket (set once, right after the fork).
_worker_listener: Callable[[], socket.socket] | None = None


def listening_socket(host: str, port: int) -> socket.socket:
    """The socket a modern server accepts on: a new one, or in a worker, the shared port's."""
    if _worker_listener is not None:
        return _worker_listener()
    return _new_listening_socket(host, port, BACKLOG)


def reuse_port_available() -> bool:
    if os.environ.get(SHARING_ENV, "reuseport") == "listener":
        return False
    if not hasattr(socket, "SO_REUSEPORT"):
        return False
    with socket.socket() as probe:
        try:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        except OSError:
            return False
    return True


def prefork(serve: Serve) -> Serve:
    """Give a modern `serve_*(host, port, ..., *, ready, ...)` function `workers=N`."""

    @functools.wraps(serve)
    def serve_with_workers(
        host: str,
        port: int,
        *args: Any,
        ready: Callable[[tuple], None],
        workers: int = 1,
        **kwargs: Any,
    ) -> None:
        if workers <= 1:
            serve(host, port, *args, ready=ready, **kwargs)
            return
        Supervisor(
            host, port, workers, lambda ready_: serve(host, port, *args, ready=ready_, **kwargs)
        ).run(ready)

    return serve_with_workers  # type: ignore[return-value]


class Supervisor:
    """Forks the workers, reports readiness once, replaces dead workers, stops them all."""

    def __init__(
        self,
        host: str,
        port: int,
        count: int,
        work: Callable[[Callable[[tuple], None]], None],
    ) -> None:
        self.host, self.count, self.work = host, count, work
        self.reuse_port = reuse_port_available()
        self.port_socket = self._claim_port(host, port)
        self.sockname = self.port_socket.getsockname()
        self.workers: dict[int, bool] = {}  # pid -> listening yet
        self.ready_read, self.ready_write = os.pipe()
        os.set_blocking(self.ready_read, False)

    def _claim_port(self, host: str, port: int) -> socket.socket:
        if not self.reuse_port:
            return _new_listening_socket(host, port, BACKLOG)
        if port:
            # A socket without SO_REUSEPORT fails if anything listens there already, even a
            # reuse-port group of another program that our own flag would silently join.
            _new_listening_socket(host, port, 1).close()
        sock = socket.socket(family_for(host), socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(bind_address(host, port))
        except BaseException:
            sock.close()
            raise
        return sock

    def run(self, ready: Callable[[tuple], None]) -> None:
        previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, _WATCHED)
        try:
            for _ in range(self.count):
                self._spawn()
            self._await_first_workers()
            ready(self.sockname)
            self._supervise()
        finally:
            self._stop_all()
            signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)
            self.port_socket.close()
            os.close(self.ready_read)
            os.close(self.ready_write)

    # -- the worker side ------------------------------------------------------------------

    def _spawn(self) -> int:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid:
            self.workers[pid] = False
            return pid
        os._exit(self._worker_main())

    def _worker_main(self) -> int:
        global _worker_listener
        port = self.sockname[1]
        try:
            # The runtime's loop installs its own SIGTERM/SIGINT handlers. Until then a stop
            # signal simply ends the worker (it serves nothing yet): an exception raised by a
            # handler could land anywhere, in the middle of an import for instance.
            for signum in _WATCHED:
                signal.signal(signum, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _WATCHED)
            os.close(self.ready_read)
            if self.reuse_port:
                self.port_socket.close()
                _worker_listener = functools.partial(
                    _new_listening_socket, self.host, port, BACKLOG, reuse_port=True
                )
            else:
                inherited = self.port_socket
                _worker_listener = lambda: inherited  # noqa: E731
            self.work(self._report_listening)
        except KeyboardInterrupt:
            return 0
        except OSError as error:
            print(
                f"rosetta: error: worker {os.getpid()} cannot serve on port {port}: "
                f"{error.strerror or error}",
                file=sys.stderr,
                flush=True,
            )
            return 2
        except BaseException:
            import traceback

            traceback.print_exc()
            return 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        return 0

    def _report_listening(self, sockname: tuple) -> None:
        os.write(self.ready_write, _PID.pack(os.getpid()))

    # -- the supervisor side --------------------------------------------------------------

    def _await_first_workers(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not all(self.workers.values()):
            if time.monotonic() > deadline:
                raise OSError(f"workers did not start listening within {START_TIMEOUT:.0f} s")
            select.select([self.ready_read], [], [], 0.05)
            self._read_reports()
            if self._stop_requested(timeout=0):
                raise KeyboardInterrupt
            for pid, status, _ in self._reap():
                raise OSError(f"worker {pid} exited ({_describe(status)}) before listening")

    def _supervise(self) -> None:
        while True:
            info = signal.sigtimedwait(_WATCHED, 1.0)
            self._read_reports()
            if info is not None and info.si_signo in _STOP_SIGNALS:
                return
            for pid, status, was_listening in self._reap():
                if not was_listening and os.WIFEXITED(status):
                    # A replacement that exits on its own before listening will do so again
                    # (gunicorn stops the same way). The ready line is out, so this is not
                    # "cannot listen" for the CLI: say it here and exit non-zero.
                    print(
                        f"rosetta: error: worker {pid} exited ({_describe(status)}) before "
                        "listening; stopping",
                        file=sys.stderr,
                        flush=True,
                    )
                    raise SystemExit(1)
                if not was_listening and self._stop_requested(timeout=RESTART_PAUSE):
                    return  # killed while starting (the OOM killer?): retry, but not in a spin
                replacement = self._spawn()
                print(
                    f"rosetta: worker {pid} exited ({_describe(status)}); "
                    f"started worker {replacement}",
                    file=sys.stderr,
                    flush=True,
                )

    def _stop_requested(self, timeout: float) -> bool:
        info = signal.sigtimedwait(_STOP_SIGNALS, timeout)
        return info is not None

    def _read_reports(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while data := os.read(self.ready_read, _PID.size * 64):
                for (pid,) in _PID.iter_unpack(data):
                    if pid in self.workers:
                        self.workers[pid] = True

    def _reap(self) -> list[tuple[int, int, bool]]:
        """(pid, wait status, had it listened) of every worker that has exited."""
        ended = []
        while self.workers:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if not pid:
                break
            if pid in self.workers:
                ended.append((pid, status, self.workers.pop(pid)))
        return ended

    def _stop_all(self) -> None:
        for pid in self.workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while self.workers and time.monotonic() < deadline:
            signal.sigtimedwait({signal.SIGCHLD}, 0.1)
            self._reap()
        for pid in self.workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        while self.workers:
            pid, _ = os.waitpid(next(iter(self.workers)), 0)
            self.workers.pop(pid, None)


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return signal.Signals(os.WTERMSIG(status)).name
    return f"exit code {os.waitstatus_to_exitcode(status)}"
