"""Course §4's client (`python -m classic._nonblocking_client`): it checks every echo, says
which were wrong, and reports a server it cannot reach in one line."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading

from parity_tests.harness import ServerProcess, start_server


def run_client(port: int, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "classic._nonblocking_client", "--port", str(port), *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_nonblocking_client_checks_every_echo(stopped_cleanly: list[ServerProcess]) -> None:
    server = start_server("echo", "classic.nonblocking")
    stopped_cleanly.append(server)
    result = run_client(server.port, "--connections", "100", "--rounds", "5")
    assert result.returncode == 0, result.stderr
    assert "100 connections x 5 rounds: 500 echoes, all correct" in result.stdout


def test_nonblocking_client_fails_on_a_wrong_echo() -> None:
    """Against a server that answers in upper case, every echo is wrong: exit 1."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def shouting_server() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=_shout, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=shouting_server, daemon=True)
    thread.start()
    try:
        result = run_client(listener.getsockname()[1], "--connections", "3", "--rounds", "2")
    finally:
        stop.set()
        thread.join(5)
        listener.close()
    assert result.returncode == 1
    assert "6 echoes, 6 wrong" in result.stdout
    assert "expected b'connection 0 round 0\\n'" in result.stderr


def _shout(conn: socket.socket) -> None:
    with conn:
        conn.settimeout(10)
        try:
            while data := conn.recv(1024):
                conn.sendall(data.upper())
        except OSError:
            pass


def test_nonblocking_client_reports_a_refused_connection_in_one_line() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    result = run_client(port, "--connections", "2")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "cannot connect" in result.stderr
