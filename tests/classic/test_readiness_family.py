"""The readiness family (§4 non-blocking, §5a/§5b select, §6 epoll): the course bugs each one
fixes, each shown by a case the course's listing got wrong. Their shared outbox is tested in
test_outbox.py, §4's client in test_nonblocking_client.py."""

from __future__ import annotations

import os
import pty
import resource
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from parity_tests.clients import (
    connect,
    echo_roundtrip,
    is_closed_by_peer,
    recv_exactly,
    wait_until,
)
from parity_tests.harness import (
    READY_LINE,
    ServerProcess,
    server_command,
    start_server,
)

READINESS_MODELS: list[tuple[str, dict[str, str]]] = [
    ("classic.nonblocking", {}),
    ("classic.select_echo", {}),
    ("classic.select_writelist", {}),
    ("classic.epoll_server", {"trigger": "edge"}),
    ("classic.epoll_server", {"trigger": "level"}),
]
MODEL_IDS = [
    name + "".join(f"[{v}]" for v in options.values()) for name, options in READINESS_MODELS
]


def ready_port(ready_line: str) -> int:
    match = READY_LINE.match(ready_line.rstrip("\n"))
    assert match, ready_line
    return int(match["port"])


def server_pid(server: ServerProcess) -> int:
    return int(server.ready_line.rsplit("pid=", 1)[1].rstrip(")"))


def open_descriptor_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


# -- every model of the family ---------------------------------------------------------------


@pytest.mark.parametrize(("model", "options"), READINESS_MODELS, ids=MODEL_IDS)
def test_closed_clients_leave_no_descriptor_behind(
    model: str, options: dict[str, str], stopped_cleanly: list[ServerProcess]
) -> None:
    """§4 collected closed clients in a misspelled list and §6 never deleted its dict
    entries: closed sockets stayed. Here every descriptor is released."""
    server = start_server("echo", model, options)
    stopped_cleanly.append(server)
    pid = server_pid(server)
    baseline = open_descriptor_count(pid)
    clients = [connect(server.address) for _ in range(30)]
    for index, sock in enumerate(clients):
        sock.sendall(b"%d" % index)
        assert recv_exactly(sock, len(b"%d" % index)) == b"%d" % index
    assert open_descriptor_count(pid) >= baseline + 30
    for sock in clients:
        sock.close()
    assert wait_until(lambda: open_descriptor_count(pid) == baseline)
    assert echo_roundtrip(server.address, b"still serving") == b"still serving"


@pytest.mark.parametrize(("model", "options"), READINESS_MODELS, ids=MODEL_IDS)
def test_runs_as_a_module_with_the_course_messages(
    model: str, options: dict[str, str], tmp_path: Path
) -> None:
    """`python -m classic.<module>` goes through the CLI, so it prints the ready line and,
    with -v, the course's per-message lines; it stops on SIGTERM with exit code 0."""
    argv = [sys.executable, "-m", model, "echo", "--port", "0", "-v"]
    for key, value in options.items():
        argv += [f"--{key}", value]
    out_path = tmp_path / "out"
    with open(out_path, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: b"\n" in out_path.read_bytes())
        ready_line = out_path.read_text().splitlines()[0]
        assert ready_line.startswith("rosetta: listening on tcp://127.0.0.1:")
        assert f"(model={model}, pid={proc.pid})" in ready_line
        port = ready_port(ready_line)
        assert echo_roundtrip(("127.0.0.1", port), b"course message") == b"course message"
        goodbye = "offline" if model == "classic.epoll_server" else "client closed"
        assert wait_until(lambda: goodbye in out_path.read_text())
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=15)
    assert proc.returncode == 0
    assert b"Traceback" not in stderr
    output = out_path.read_text()
    if model == "classic.epoll_server":
        assert "new client" in output and "recv:course message" in output
        assert "offline" in output
    else:
        assert "now serving" in output and "]:course message" in output


# -- §6 epoll, edge-triggered: the bursts the course's listing stranded ------------------------


@pytest.fixture(params=["edge", "level"])
def epoll_server(
    request: pytest.FixtureRequest, stopped_cleanly: list[ServerProcess]
) -> ServerProcess:
    server = start_server("echo", "classic.epoll_server", {"trigger": request.param})
    stopped_cleanly.append(server)
    return server


def test_epoll_three_megabytes_in_one_burst(epoll_server: ServerProcess) -> None:
    """One recv per edge would read 64 KiB of the burst and strand the rest."""
    payload = os.urandom(3 * 1024 * 1024)
    with connect(epoll_server.address) as sock:
        # Sent from a thread, so that neither side's buffers can hold the other up.
        sender = threading.Thread(target=sock.sendall, args=(payload,), daemon=True)
        sender.start()
        assert recv_exactly(sock, len(payload)) == payload
        sender.join(10)


def test_epoll_fifty_connections_in_one_burst(epoll_server: ServerProcess) -> None:
    """One accept per edge would leave 49 of them waiting in the backlog for ever."""
    clients = []
    try:
        for _ in range(50):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            sock.connect_ex(epoll_server.address)
            clients.append(sock)
        for sock in clients:
            sock.settimeout(10)
        for index, sock in enumerate(clients):
            sock.sendall(b"burst %d" % index)
        for index, sock in enumerate(clients):
            assert recv_exactly(sock, len(b"burst %d" % index)) == b"burst %d" % index
    finally:
        for sock in clients:
            sock.close()


def test_epoll_rejects_an_unknown_trigger() -> None:
    result = subprocess.run(
        server_command("echo", "classic.epoll_server", {"trigger": "sideways"}),
        capture_output=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2
    assert b"Traceback" not in result.stderr
    assert b"--trigger" in result.stderr


# -- §5b select with a write list: the exceptional list --------------------------------------


def test_select_writelist_closes_a_socket_in_the_exceptional_list(
    stopped_cleanly: list[ServerProcess],
) -> None:
    server = start_server("echo", "classic.select_writelist")
    stopped_cleanly.append(server)
    with connect(server.address) as bystander, connect(server.address) as urgent:
        urgent.send(b"!", socket.MSG_OOB)
        assert is_closed_by_peer(urgent)
        bystander.sendall(b"unaffected")
        assert recv_exactly(bystander, 10) == b"unaffected"
    assert "exceptional condition" in server.stdout()


# -- §5a select on stdin ------------------------------------------------------------------------


def start_select_echo(stdin: int | None, **popen: object) -> tuple[subprocess.Popen[bytes], int]:
    proc = subprocess.Popen(
        server_command("echo", "classic.select_echo"),
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **popen,  # type: ignore[call-overload]
    )
    assert proc.stdout is not None
    ready_line = proc.stdout.readline().decode()
    assert ready_line.startswith("rosetta: listening on tcp://"), proc.stderr
    return proc, ready_port(ready_line)


def test_select_echo_stops_on_a_line_from_a_pipe_and_closes_clients() -> None:
    proc, port = start_select_echo(subprocess.PIPE)
    assert proc.stdin is not None
    try:
        with connect(("127.0.0.1", port)) as client:
            client.sendall(b"before the line")
            assert recv_exactly(client, 15) == b"before the line"
            proc.stdin.write(b"\n")
            proc.stdin.flush()
            assert proc.wait(timeout=15) == 0
            assert is_closed_by_peer(client)  # the course left its clients open
    finally:
        if proc.poll() is None:
            proc.kill()
        _, stderr = proc.communicate(timeout=15)
    assert b"Traceback" not in stderr


def test_select_echo_stops_on_enter_at_its_terminal() -> None:
    """The course's use: run in a terminal, press Enter to stop."""
    pid, terminal = pty.fork()
    if pid == 0:  # the child: its controlling terminal is the pty, in the foreground
        os.execv(sys.executable, server_command("echo", "classic.select_echo"))
    waited = 0
    try:
        shown = bytearray()
        deadline = time.monotonic() + 20
        while b"press Enter" not in shown and time.monotonic() < deadline:
            if select.select([terminal], [], [], 0.5)[0]:
                shown += os.read(terminal, 4096)
        assert b"press Enter to stop the server" in shown
        os.write(terminal, b"\n")
        for _ in range(150):
            waited, status = os.waitpid(pid, os.WNOHANG)
            if waited:
                break
            time.sleep(0.1)
        assert waited, "a line typed on the terminal did not stop the server"
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        if not waited:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(terminal)


def test_select_echo_keeps_serving_when_the_pipe_ends_without_a_line() -> None:
    proc, port = start_select_echo(subprocess.PIPE)
    assert proc.stdin is not None
    try:
        proc.stdin.write(b"no newline")
        proc.stdin.close()
        time.sleep(0.2)
        assert echo_roundtrip(("127.0.0.1", port), b"after EOF") == b"after EOF"
        assert proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    assert proc.stderr is not None
    stderr = proc.stderr.read()
    assert proc.returncode == 0
    assert b"Traceback" not in stderr


def test_select_echo_serves_with_stdin_closed() -> None:
    def close_stdin() -> None:
        os.close(0)

    proc, port = start_select_echo(None, preexec_fn=close_stdin)
    try:
        assert echo_roundtrip(("127.0.0.1", port), b"no stdin at all") == b"no stdin at all"
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=15)
    assert proc.returncode == 0
    assert b"Traceback" not in stderr


def test_select_echo_sendall_delivers_everything_to_a_slow_reader(
    stopped_cleanly: list[ServerProcess],
) -> None:
    """§5a's one `send` dropped what did not fit; `sendall` waits for a reader that is late
    (holding the others up meanwhile, the model's documented cost) and loses nothing."""
    server = start_server("echo", "classic.select_echo")
    stopped_cleanly.append(server)
    flood = os.urandom(4 * 1024 * 1024)
    echoed: list[bytes] = []
    with connect(server.address) as slow, connect(server.address) as other:
        sender = threading.Thread(target=slow.sendall, args=(flood,), daemon=True)
        sender.start()
        time.sleep(0.3)  # not reading yet: the server's sendall to us blocks
        other.sendall(b"waiting")
        reader = threading.Thread(
            target=lambda: echoed.append(recv_exactly(slow, len(flood))), daemon=True
        )
        reader.start()
        assert recv_exactly(other, 7) == b"waiting"
        reader.join(30)
        sender.join(30)
    assert echoed == [flood]


# -- out of descriptors ----------------------------------------------------------------------

LOW_FD_LIMIT = 40


def _low_fd_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (LOW_FD_LIMIT, LOW_FD_LIMIT))


@pytest.mark.parametrize(("model", "options"), READINESS_MODELS, ids=MODEL_IDS)
def test_out_of_descriptors_pauses_accepting_and_recovers(
    model: str, options: dict[str, str], tmp_path: Path
) -> None:
    """With a hard limit it cannot raise, accept() fails with EMFILE: the server warns, keeps
    serving the clients it has, and accepts the waiting ones once descriptors are free."""
    stdout_path, stderr_path = tmp_path / "out", tmp_path / "err"
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        proc = subprocess.Popen(
            server_command("echo", model, options),
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            preexec_fn=_low_fd_limit,
        )
    clients: list[socket.socket] = []
    try:
        assert wait_until(lambda: b"\n" in stdout_path.read_bytes())
        address = ("127.0.0.1", ready_port(stdout_path.read_text().splitlines()[0]))
        # More clients than the server has descriptors: the last ones wait in its backlog.
        clients = [connect(address) for _ in range(LOW_FD_LIMIT + 10)]
        assert wait_until(lambda: b"cannot accept a client" in stderr_path.read_bytes())
        clients[0].sendall(b"first")
        assert recv_exactly(clients[0], 5) == b"first"
        for sock in clients[:20]:
            sock.close()
        for index, sock in enumerate(clients[20:]):
            sock.sendall(b"late %d" % index)
            assert recv_exactly(sock, len(b"late %d" % index)) == b"late %d" % index
    finally:
        for sock in clients:
            sock.close()
        proc.terminate()
        proc.wait(timeout=15)
    stderr = stderr_path.read_text()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
