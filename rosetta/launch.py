"""Start a server in a child process, learn where it listens, stop it: for tests and benchmarks.

A server is started as a user would start it (`python -m rosetta serve JOB --model M --port 0`)
and is ready once it printed its listening line (`rosetta.net.LISTENING_LINE`, IPv4 or IPv6);
the address is read from that line. Its standard output and error go to files, so a server
that prints the course's messages never blocks on a full pipe, and both can be read at any
time. `stop()` signals it (SIGTERM unless told otherwise) and returns its exit status. Starting
one also raises this process's soft limit on open files to the hard limit, so that the servers
(which inherit it) can hold thousands of connections.

    with launch.running("echo", "modern.protocol", {"loop": "uvloop"}) as server:
        socket.create_connection(server.address)

Any command that prints the listening line first can be started the same way
(`start_command`): the C reference server of `rosetta.instruments` does.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rosetta.net import LISTENING_LINE

START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
POLL_INTERVAL = 0.02


class LaunchError(RuntimeError):
    """A server did not start, printed something else first, or did not stop when told."""


@dataclass
class Server:
    """A running server: where it listens, what it printed, and how to stop it."""

    label: str
    proc: subprocess.Popen[bytes]
    stdout_path: Path
    stderr_path: Path
    host: str = ""
    port: int = 0
    ready_line: str = ""
    stopped: bool = field(default=False)

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def url(self, path: str = "/") -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{path}"

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, signum: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT) -> int:
        """Signal the server and wait for it; its exit status. One that hangs is killed and
        LaunchError raised. Stopping twice returns the same status."""
        if not self.stopped:
            self.stopped = True
            if self.proc.poll() is None:
                self.proc.send_signal(signum)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise LaunchError(
                    f"{self.label} did not stop within {timeout:g}s of signal {signum}"
                ) from None
        return self.proc.returncode


def model_label(model: str, options: Mapping[str, str] | None = None) -> str:
    """`modern.streams[loop=uvloop]`: a model with its options, as test ids and reports say."""
    if not options:
        return model
    return model + "[" + ",".join(f"{key}={value}" for key, value in sorted(options.items())) + "]"


def serve_command(
    job: str,
    model: str,
    options: Mapping[str, str] | None = None,
    *,
    root: Path | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    extra: Sequence[str] = (),
    python: Sequence[str] = (sys.executable,),
) -> list[str]:
    """The argv of `rosetta serve` for this model; `python` may carry interpreter flags."""
    argv = [*python, "-m", "rosetta", "serve", job, "--model", model]
    argv += ["--host", host, "--port", str(port)]
    if root is not None:
        argv += ["--root", str(root)]
    for key, value in (options or {}).items():
        argv += [f"--{key}", str(value)]
    return argv + list(extra)


# `start` repeats `serve_command`'s keywords on purpose: each signature reads (and type-checks)
# alone, where a shared **kwargs would hide what a caller may pass.
def start(
    job: str,
    model: str,
    options: Mapping[str, str] | None = None,
    *,
    root: Path | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    extra: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = START_TIMEOUT,
) -> Server:
    """`rosetta serve JOB --model MODEL` in a child process, returned once it listens."""
    argv = serve_command(job, model, options, root=root, host=host, port=port, extra=extra)
    return start_command(argv, model_label(model, options), env=env, cwd=cwd, timeout=timeout)


@contextmanager
def running(
    job: str, model: str, options: Mapping[str, str] | None = None, **kwargs: object
) -> Iterator[Server]:
    """`start`, and the server stopped at the end of the block (its status is not checked)."""
    server = start(job, model, options, **kwargs)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.stop()


def start_command(
    argv: Sequence[str],
    label: str,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = START_TIMEOUT,
) -> Server:
    """Any command whose first line on stdout is the listening line, once it printed it."""
    raise_open_file_limit()
    logs = Path(tempfile.mkdtemp(prefix="server-", dir=_logs_root()))
    stdout_path, stderr_path = logs / "stdout", logs / "stderr"
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        proc = subprocess.Popen(
            list(argv),
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            env={**os.environ, **(env or {})},
        )
    server = Server(label, proc, stdout_path, stderr_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        first_line = server.stdout().split("\n", 1)
        if len(first_line) == 2:
            match = LISTENING_LINE.match(first_line[0])
            if not match:
                _kill(proc)
                raise LaunchError(
                    f"{label}: first line on stdout is not the ready line: {first_line[0]!r}"
                )
            server.ready_line = first_line[0]
            server.host = match["host"].strip("[]")
            server.port = int(match["port"])
            return server
        if proc.poll() is not None:
            raise LaunchError(
                f"{label} exited with {proc.returncode} before listening: {server.stderr()}"
            )
        time.sleep(POLL_INTERVAL)
    _kill(proc)
    raise LaunchError(f"{label} printed no ready line within {timeout:g}s")


def resident_bytes(pid: int) -> int:
    """A process's resident memory (VmRSS), in bytes."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise LaunchError(f"/proc/{pid}/status has no VmRSS")


def raise_open_file_limit() -> int:
    """This process's soft RLIMIT_NOFILE up to the hard limit (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def wait_until(
    condition: Callable[[], bool], timeout: float = 10.0, interval: float = POLL_INTERVAL
) -> bool:
    """Poll `condition` until it holds or `timeout` seconds pass; its last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def _kill(proc: subprocess.Popen[bytes]) -> None:
    proc.kill()
    proc.wait()


_LOGS: tempfile.TemporaryDirectory[str] | None = None


def _logs_root() -> str:
    """One folder for every server's output, removed when this process exits."""
    global _LOGS
    if _LOGS is None:
        _LOGS = tempfile.TemporaryDirectory(prefix="rosetta-servers-")
    return _LOGS.name
