"""Faults every HTTP model survives: running out of descriptors, a client that resets in the
middle of a response, a client that half-closes.

Each case runs against every model at once (one server each), so waiting costs the suite once.
"""

from __future__ import annotations

import resource
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from parity_tests.accepted_differences import BEHAVIOUR_DIFFERENCES
from parity_tests.clients import HTTPReader, connect, raw_get, recv_until_eof, reset
from parity_tests.conftest import Impl, Site, implementations
from parity_tests.harness import ServerProcess, assert_clean_stop, wait_until
from rosetta.launch import serve_command
from rosetta.net import LISTENING_LINE

LOW_LIMIT = 64
OFFERED = 120
SHORTAGE_MARK = "cannot accept a client"
LARGE = "/large.bin"


def _everywhere(items: list, case: Callable) -> dict:
    """`case` run on every item (an Impl or a server) at once: label -> what it returned."""
    with ThreadPoolExecutor(len(items)) as pool:
        return dict(zip([item.label for item in items], pool.map(case, items), strict=True))


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0  # utime + stime, in clock ticks


def _low_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (LOW_LIMIT, LOW_LIMIT))
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _out_of_descriptors(impl: Impl, root: Path, logs: Path) -> str | None:
    """None if the model came through, else what went wrong."""
    out, err = logs / f"{impl.label}.out", logs / f"{impl.label}.err"
    argv = serve_command("http", impl.model.name, dict(impl.options), root=root)
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        proc = subprocess.Popen(
            argv, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL, preexec_fn=_low_limit
        )
    clients: list[socket.socket] = []
    try:
        if not wait_until(lambda: b"\n" in out.read_bytes()):
            return f"did not start: {err.read_text()}"
        match = LISTENING_LINE.match(out.read_text().splitlines()[0])
        assert match is not None
        address = (match["host"].strip("[]"), int(match["port"]))
        for _ in range(OFFERED):
            try:
                clients.append(socket.create_connection(address, timeout=0.5))
            except OSError:
                break  # the backlog is full: enough for this model
        time.sleep(0.5)
        before = _cpu_seconds(proc.pid)
        time.sleep(1.0)
        busy = _cpu_seconds(proc.pid) - before
        if busy > 0.5:
            return f"spun while short of descriptors: {busy:.2f} s CPU in 1 s"
        for client in clients:
            client.close()
        clients = []

        def answers() -> bool:
            try:
                with connect(address, timeout=2) as sock:
                    sock.sendall(raw_get("/hello.txt", "Connection: close"))
                    return HTTPReader(sock).read().status == 200
            except OSError:
                return False

        if not wait_until(answers, timeout=15):
            return "no answer once the connections closed"
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(15)
        stderr_text = err.read_text()
        if code != 0 or "Traceback" in stderr_text:
            return f"exit {code}: {stderr_text[-2000:]}"
        warnings = stderr_text.count(SHORTAGE_MARK)
        if warnings > 3:
            return f"{warnings} warnings: one line per episode expected"
        return None
    finally:
        for client in clients:
            client.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_out_of_descriptors_every_model_recovers(site: Site, tmp_path: Path) -> None:
    impls = implementations("http")
    failures = _everywhere(impls, lambda impl: _out_of_descriptors(impl, site.root, tmp_path))
    assert {label: why for label, why in failures.items() if why} == {}


@pytest.fixture(scope="module")
def http_servers(site: Site) -> Iterator[dict[str, ServerProcess]]:
    impls = implementations("http")
    first = impls[0].start("http", root=site.root, extra=["--send-timeout", "1"])
    with ThreadPoolExecutor(len(impls)) as pool:
        rest = list(
            pool.map(
                lambda impl: impl.start("http", root=site.root, extra=["--send-timeout", "1"]),
                impls[1:],
            )
        )
    servers = dict(zip([impl.label for impl in impls], [first, *rest], strict=True))
    yield servers
    with ThreadPoolExecutor(len(servers)) as pool:
        list(pool.map(assert_clean_stop, servers.values()))


def _serves(server: ServerProcess) -> bool:
    with connect(server.address) as sock:
        sock.sendall(raw_get("/hello.txt", "Connection: close"))
        return HTTPReader(sock).read().status == 200


def _reset_mid_response(server: ServerProcess) -> bool:
    sock = connect(server.address)
    sock.sendall(raw_get(LARGE))
    sock.recv(1000)
    reset(sock)
    return wait_until(lambda: _serves(server), timeout=10)


def test_a_reset_mid_response_ends_only_that_client(
    http_servers: dict[str, ServerProcess],
) -> None:
    results = _everywhere(list(http_servers.values()), _reset_mid_response)
    assert {label: ok for label, ok in results.items() if not ok} == {}


def _half_close(server: ServerProcess) -> int:
    with connect(server.address) as sock:
        sock.sendall(raw_get("/hello.txt"))
        sock.shutdown(socket.SHUT_WR)
        wire = recv_until_eof(sock)
    return wire.count(b"HTTP/1.1 200 OK")


def test_a_half_closed_client_gets_its_answer_then_a_close(
    http_servers: dict[str, ServerProcess],
) -> None:
    results = _everywhere(list(http_servers.values()), _half_close)
    expected = {
        label: 0 if "half-close" in BEHAVIOUR_DIFFERENCES.get(server.model, {}) else 1
        for label, server in http_servers.items()
    }
    assert results == expected
