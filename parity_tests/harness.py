"""Start any registered model through the CLI, as a user would, and stop it by signal.

A thin layer over `rosetta.launch` for pytest: servers run as subprocesses (fork,
monkey-patching and greenlet hubs never leak into pytest), on port 0, and a server that does not
start or stop as it should fails the test with an AssertionError that says why.
"""

from __future__ import annotations

import resource
import signal
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from rosetta import launch
from rosetta.launch import START_TIMEOUT, STOP_TIMEOUT, model_label, wait_until
from rosetta.launch import serve_command as server_command
from rosetta.net import LISTENING_LINE as READY_LINE

__all__ = [
    "READY_LINE",
    "START_TIMEOUT",
    "STOP_TIMEOUT",
    "ServerProcess",
    "assert_clean_stop",
    "model_label",
    "server_command",
    "start_server",
    "wait_until",
]


@dataclass
class ServerProcess(launch.Server):
    """A `launch.Server` that knows its model, options and job, for the parity suite."""

    model: str = ""
    options: Mapping[str, str] = field(default_factory=dict)
    job: str = ""

    def stop(self, signum: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT) -> int:
        try:
            return super().stop(signum, timeout)
        except launch.LaunchError as error:
            raise AssertionError(str(error)) from None


def start_server(
    job: str, model: str, options: Mapping[str, str] | None = None, **how: Any
) -> ServerProcess:
    """`launch.start` (same keywords: root, host, extra, env...), failing the test if the
    server does not come up."""
    options = dict(options or {})
    try:
        started = launch.start(job, model, options, **how)
    except launch.LaunchError as error:
        raise AssertionError(str(error)) from None
    return ServerProcess(**vars(started), model=model, options=options, job=job)


def assert_clean_stop(server: ServerProcess) -> None:
    """Stopped by SIGTERM with exit code 0 and no traceback on stderr."""
    code = server.stop()
    stderr = server.stderr()
    assert code == 0, f"{server.label} exited with {code}; stderr:\n{stderr}"
    assert "Traceback" not in stderr, f"{server.label} printed a traceback:\n{stderr}"


@contextmanager
def stopped_cleanly(server: ServerProcess) -> Iterator[ServerProcess]:
    """`server` for the block; after it, however it ends, `assert_clean_stop`."""
    try:
        yield server
    finally:
        assert_clean_stop(server)


@contextmanager
def open_files_raised_to(wanted: int) -> Iterator[None]:
    """This process's soft limit on open files at least `wanted` for the block (the servers we
    start inherit it); a hard limit below it fails the test that needs it, with the remedy."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert hard == resource.RLIM_INFINITY or hard >= wanted, (
        f"the hard limit on open files ({hard}) is below {wanted}: raise it (ulimit -Hn)"
    )
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
