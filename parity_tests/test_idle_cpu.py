"""No model busy-loops: with 50 idle clients connected, a server uses under 5% of a core.

CPU time is read from /proc (utime + stime of the server process and of every descendant it
has, plus what its reaped children used), so the figure is the server's own work, not the wall
clock of a shared machine. All selected models are measured in the same 3-second window, so
the whole module costs one window, not one per model; each model is then its own test case.
"""

from __future__ import annotations

import errno
import os
import resource
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from parity_tests.clients import connect, recv_exactly
from parity_tests.conftest import Impl, impl_params
from parity_tests.harness import ServerProcess, assert_clean_stop
from rosetta import registry

IDLE_CLIENTS = 50
WINDOW = 3.0
SETTLE = 0.5
MAX_CORE_FRACTION = 0.05
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as stat:
        text = stat.read()
    # The command name is in parentheses and may contain spaces: split after its last ')'.
    return text.rsplit(")", 1)[1].split()


def _children_by_parent() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            parent = int(_stat_fields(int(name))[1])
        except (OSError, IndexError, ValueError):
            continue  # gone while we looked
        children.setdefault(parent, []).append(int(name))
    return children


def tree_cpu_seconds(pid: int) -> float:
    """CPU used so far by `pid`, its live descendants, and the children it has reaped."""
    children = _children_by_parent()
    ticks = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            fields = _stat_fields(current)
        except OSError:
            continue
        # Fields 14-17 of proc(5): utime, stime, cutime, cstime (here 0-based after the name).
        ticks += sum(int(value) for value in fields[11:15])
        todo += children.get(current, [])
    return ticks / CLOCK_TICKS


def server_pid(server: ServerProcess) -> int:
    return int(server.ready_line.rsplit("pid=", 1)[1].rstrip(")"))


def idle_clients(server: ServerProcess) -> list[socket.socket]:
    """IDLE_CLIENTS connections; each proven served by one echo, except on the model that
    serves one client at a time, where the others wait in its backlog as documented."""
    one_at_a_time = registry.get(server.model).one_client_at_a_time
    clients: list[socket.socket] = []
    for index in range(IDLE_CLIENTS):
        if one_at_a_time and index > 0:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            code = sock.connect_ex(server.address)
            assert code in (0, errno.EINPROGRESS), os.strerror(code)
        else:
            sock = connect(server.address)
            sock.sendall(b"hello %d" % index)
            assert recv_exactly(sock, len(b"hello %d" % index)) == b"hello %d" % index
        clients.append(sock)
    return clients


def _selected_impls(request: pytest.FixtureRequest) -> list[Impl]:
    selected = []
    for item in request.session.items:
        callspec = getattr(item, "callspec", None)
        if item.module is request.module and callspec is not None:
            impl = callspec.params.get("impl")
            if isinstance(impl, Impl) and impl not in selected:
                selected.append(impl)
    return selected


@dataclass
class Measurement:
    core_fraction: float | None = None
    problem: str | None = None  # failed to start, to serve, or to stop cleanly


@pytest.fixture(scope="module")
def idle_cpu(request: pytest.FixtureRequest) -> Iterator[dict[str, Measurement]]:
    """What each selected model used while idle, all measured in one window; servers are
    stopped before the tests look, so a model's failure is reported on that model alone."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 8192 if hard == resource.RLIM_INFINITY else min(8192, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    results: dict[str, Measurement] = {}
    servers: list[ServerProcess] = []
    clients: list[socket.socket] = []
    try:
        for impl in _selected_impls(request):
            try:
                server = impl.start("echo")
            except AssertionError as error:
                results[impl.label] = Measurement(problem=str(error))
                continue
            servers.append(server)
            try:
                clients += idle_clients(server)
            except (AssertionError, OSError) as error:
                results[impl.label] = Measurement(problem=f"idle clients not served: {error!r}")
        time.sleep(SETTLE)
        before = {server.label: tree_cpu_seconds(server_pid(server)) for server in servers}
        time.sleep(WINDOW)
        for server in servers:
            used = (tree_cpu_seconds(server_pid(server)) - before[server.label]) / WINDOW
            results.setdefault(server.label, Measurement()).core_fraction = used
    finally:
        for sock in clients:
            sock.close()
        for server in servers:
            try:
                assert_clean_stop(server)
            except AssertionError as error:
                results.setdefault(server.label, Measurement()).problem = str(error)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    yield results


@pytest.mark.parametrize("impl", impl_params("echo"))
def test_idle_server_uses_under_5_percent_of_a_core(
    impl: Impl, idle_cpu: dict[str, Measurement]
) -> None:
    measured = idle_cpu[impl.label]
    assert measured.problem is None, measured.problem
    assert measured.core_fraction is not None
    assert measured.core_fraction < MAX_CORE_FRACTION, (
        f"{impl.label} used {measured.core_fraction:.1%} of a core over {WINDOW:.0f} s "
        f"with {IDLE_CLIENTS} idle clients"
    )
