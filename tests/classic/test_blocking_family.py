"""The blocking family, one flow of control per client (§2 processes, §3 threads, §10 gevent):
the course bugs each one fixes, shown by the case the course's listing got wrong.

Servers run as subprocesses through the CLI or `python -m classic.<module>`; every test stops
what it started (and, for the forking model, checks that no child outlives its server).
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from parity_tests.clients import (
    HTTPReader,
    connect,
    echo_roundtrip,
    get,
    is_closed_by_peer,
    recv_exactly,
    reset,
    wait_until,
)
from parity_tests.harness import (
    READY_LINE,
    START_TIMEOUT,
    STOP_TIMEOUT,
    ServerProcess,
    assert_clean_stop,
    start_server,
)

MODELS = ["classic.forking", "classic.threads", "classic.gevent_server"]
LARGE_FILE_SIZE = 16 * 1024 * 1024
# Generous: the models stop idle clients at once and give busy ones 2 s; this only catches hangs.
PROMPT_STOP = 10.0


def server_pid(server: ServerProcess) -> int:
    return int(server.ready_line.rsplit("pid=", 1)[1].rstrip(")"))


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            text = stat.read()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()  # the name in parentheses may hold spaces
    return fields[0], int(fields[1])


def children_of(pid: int) -> dict[int, str]:
    """Every child process of `pid`, zombies included, with its state letter."""
    children = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and (stat := _stat(int(name))) and stat[1] == pid:
            children[int(name)] = stat[0]
    return children


def socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:"):
            inodes.add(target)
    return inodes


def kill_leftovers(pids: set[int]) -> None:
    for pid in pids:
        if (stat := _stat(pid)) and stat[0] != "Z":
            os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def site() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="blocking-family-") as base:
        root = Path(base)
        (root / "index.html").write_bytes(b"<h1>blocking family</h1>\n")
        (root / "large.bin").write_bytes(os.urandom(LARGE_FILE_SIZE))
        yield root


@pytest.fixture
def stop_after() -> Iterator[Callable[[ServerProcess], ServerProcess]]:
    """Registers servers that the test must leave stopped; kills them if it did not."""
    servers: list[ServerProcess] = []

    def register(server: ServerProcess) -> ServerProcess:
        servers.append(server)
        return server

    yield register
    for server in servers:
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait()


def start_module(
    module: str, *args: str, new_session: bool = False
) -> tuple[subprocess.Popen[str], str]:
    """`python -m classic.<module> ARGS`; the process and its first line on stdout."""
    proc = subprocess.Popen(
        [sys.executable, "-m", module, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=new_session,
    )
    assert proc.stdout is not None
    readable, _, _ = select.select([proc.stdout], [], [], START_TIMEOUT)
    if not readable:
        proc.kill()
        proc.communicate()
        raise AssertionError(f"{module} printed nothing within {START_TIMEOUT}s")
    return proc, proc.stdout.readline()


def finish(proc: subprocess.Popen[str], signum: int | None = signal.SIGTERM) -> tuple[int, str]:
    if signum is not None and proc.poll() is None:
        proc.send_signal(signum)
    try:
        _, stderr = proc.communicate(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError("server did not stop") from None
    return proc.returncode, stderr


# --- §2 processes: zombies, the listener in the children, SIGTERM and Ctrl-C -----------------


def test_forking_reaps_every_child_when_clients_leave(stop_after) -> None:
    server = stop_after(start_server("echo", "classic.forking"))
    parent = server_pid(server)
    seen: set[int] = set()
    try:
        clients = [connect(server.address) for _ in range(5)]
        for index, sock in enumerate(clients):
            sock.sendall(b"client %d" % index)
            assert recv_exactly(sock, len(b"client %d" % index)) == b"client %d" % index
        live = children_of(parent)
        seen |= set(live)
        assert len(live) == 5 and "Z" not in live.values(), live

        # Each child holds its client's socket and nothing of the parent's (the listener);
        # the parent closes its copy of the client's socket just after the child starts.
        assert wait_until(lambda: len(socket_inodes(parent)) == 1), socket_inodes(parent)
        listener = socket_inodes(parent)
        for child in live:
            held = socket_inodes(child)
            assert len(held) == 1 and not held & listener, (child, held, listener)

        for sock in clients:
            sock.close()
        # No new client arrives to wake the parent: it must reap on SIGCHLD alone.
        assert wait_until(lambda: not children_of(parent)), children_of(parent)

        # The same again, a few times over, with reset clients among them.
        for round_index in range(3):
            for index in range(4):
                if index % 2:
                    rude = connect(server.address)
                    rude.sendall(b"half")
                    reset(rude)
                else:
                    assert echo_roundtrip(server.address, b"round %d" % round_index) == (
                        b"round %d" % round_index
                    )
            seen |= set(children_of(parent))
            assert wait_until(lambda: not children_of(parent)), children_of(parent)
    finally:
        assert_clean_stop(server)
        kill_leftovers(seen)


def test_forking_sigterm_stops_children_of_active_clients(stop_after) -> None:
    server = stop_after(start_server("echo", "classic.forking"))
    parent = server_pid(server)
    children: set[int] = set()
    clients = [connect(server.address) for _ in range(3)]
    try:
        for sock in clients:
            sock.sendall(b"still here")
            assert recv_exactly(sock, 10) == b"still here"
        children = set(children_of(parent))
        assert len(children) == 3
        assert_clean_stop(server)
        assert wait_until(lambda: all(_stat(pid) is None for pid in children)), [
            (pid, _stat(pid)) for pid in children
        ]
        assert all(is_closed_by_peer(sock) for sock in clients)
    finally:
        for sock in clients:
            sock.close()
        kill_leftovers(children)


def test_forking_ctrl_c_to_the_process_group_stops_everyone_quietly() -> None:
    """Ctrl-C signals the whole group: children ignore it, the parent stops them."""
    proc, first_line = start_module("classic.forking", "--port", "0", new_session=True)
    children: set[int] = set()
    try:
        match = READY_LINE.match(first_line.rstrip("\n"))
        assert match, first_line
        address = ("127.0.0.1", int(match["port"]))
        clients = [connect(address) for _ in range(2)]
        for sock in clients:
            sock.sendall(b"ping")
            assert recv_exactly(sock, 4) == b"ping"
        children = set(children_of(proc.pid))
        assert len(children) == 2
        os.killpg(proc.pid, signal.SIGINT)
        code, stderr = finish(proc, signum=None)
        assert code == 0, stderr
        assert stderr == "", stderr
        assert wait_until(lambda: all(_stat(pid) is None for pid in children))
        for sock in clients:
            sock.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        kill_leftovers(children)


# --- §3 threads: Ctrl-C with clients connected --------------------------------------------------


def test_threads_ctrl_c_exits_promptly_with_a_client_connected(stop_after) -> None:
    server = stop_after(start_server("echo", "classic.threads"))
    with connect(server.address) as idle, connect(server.address) as talking:
        talking.sendall(b"hello")
        assert recv_exactly(talking, 5) == b"hello"
        idle.sendall(b"x")
        assert recv_exactly(idle, 1) == b"x"
        started = time.monotonic()
        code = server.stop(signal.SIGINT)
        elapsed = time.monotonic() - started
        assert code == 0, server.stderr()
        assert "Traceback" not in server.stderr(), server.stderr()
        assert elapsed < PROMPT_STOP, elapsed
        assert is_closed_by_peer(idle) and is_closed_by_peer(talking)


# --- every model: stop signals, resets, the response in flight, the command line ---------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("model", MODELS)
def test_signal_stops_with_an_idle_client_exit_0_no_traceback(
    stop_after, model: str, signum: int
) -> None:
    server = stop_after(start_server("echo", model))
    with connect(server.address) as idle:
        idle.sendall(b"idle")
        assert recv_exactly(idle, 4) == b"idle"
        started = time.monotonic()
        code = server.stop(signum)
        assert code == 0, server.stderr()
        assert time.monotonic() - started < PROMPT_STOP
        assert server.stderr() == "", server.stderr()
        assert is_closed_by_peer(idle)


@pytest.mark.parametrize("model", MODELS)
def test_reset_mid_request_is_quiet_and_the_next_client_is_served(
    stop_after, model: str, site: Path
) -> None:
    server = stop_after(start_server("http", model, root=site))
    # A request cut in the middle of its head, then one cut in the middle of a large response.
    rude = connect(server.address)
    rude.sendall(b"GET /index.html HTTP/1.1\r\nHost: te")
    reset(rude)
    rude = connect(server.address)
    rude.sendall(b"GET /large.bin HTTP/1.1\r\nHost: test\r\n\r\n")
    assert rude.recv(4096).startswith(b"HTTP/1.1 200 ")
    reset(rude)

    response = get(server.address, "/index.html")
    assert response.status == 200 and response.body == b"<h1>blocking family</h1>\n"
    echo_check = start_server("echo", model)
    try:
        rude = connect(echo_check.address)
        # More than the socket buffers hold, never read: the server is stuck mid-sendall.
        rude.settimeout(0.5)
        with pytest.raises(TimeoutError):
            rude.sendall(os.urandom(LARGE_FILE_SIZE))
        reset(rude)
        assert echo_roundtrip(echo_check.address, b"next") == b"next"
    finally:
        assert_clean_stop(echo_check)
    assert server.alive()
    assert_clean_stop(server)
    assert "Traceback" not in server.stderr() + echo_check.stderr()


@pytest.mark.parametrize("model", MODELS)
def test_a_response_in_flight_finishes_after_sigterm(stop_after, model: str, site: Path) -> None:
    server = stop_after(start_server("http", model, root=site))
    with connect(server.address) as sock:
        sock.sendall(b"GET /large.bin HTTP/1.1\r\nHost: test\r\n\r\n")
        reader = HTTPReader(sock)
        head = reader.read(head_only=True)
        assert head.status == 200
        server.proc.send_signal(signal.SIGTERM)
        body = bytearray(reader.buffer)
        while len(body) < LARGE_FILE_SIZE:
            chunk = sock.recv(1 << 20)
            assert chunk, (
                f"closed after {len(body)} of {LARGE_FILE_SIZE} bytes\n"
                f"{server.stdout()}{server.stderr()}"
            )
            body += chunk
        assert bytes(body) == (site / "large.bin").read_bytes()
        assert is_closed_by_peer(sock)
    assert_clean_stop(server)


@pytest.mark.parametrize("job", ["echo", "http"])
@pytest.mark.parametrize("model", MODELS)
def test_python_m_prints_the_ready_line(model: str, job: str) -> None:
    args = ["--port", "0"] if job == "echo" else ["http", "--port", "0"]
    proc, first_line = start_module(model, *args)
    try:
        match = READY_LINE.match(first_line.rstrip("\n"))
        assert match, first_line
        assert match["model"] == model
        assert match["scheme"] == ("tcp" if job == "echo" else "http")
        assert int(match["pid"]) == proc.pid
    finally:
        code, stderr = finish(proc)
    assert code == 0 and stderr == "", stderr


@pytest.mark.parametrize(("job", "port"), [("echo", 7788), ("http", 7890)])
@pytest.mark.parametrize("model", MODELS)
def test_python_m_uses_the_course_port(model: str, job: str, port: int) -> None:
    """Listens on the course's port when it is free; when it is taken (by anyone), says that it
    cannot listen on that port, in one line, without disturbing whoever holds it."""
    proc, first_line = start_module(model, *([] if job == "echo" else ["http"]))
    code, stderr = finish(proc)
    match = READY_LINE.match(first_line.rstrip("\n"))
    if match:
        assert int(match["port"]) == port
        assert code == 0 and stderr == "", stderr
    else:
        assert first_line == "", first_line
        assert code == 2
        assert stderr.startswith(f"rosetta: error: cannot listen on 127.0.0.1:{port}:"), stderr
        assert stderr.count("\n") == 1, stderr
