"""The HTTP side under gunicorn, as docs/scale-out.md documents it: the aiohttp application
(`rosetta.adapters.aiohttp_web`) with `aiohttp.GunicornUVLoopWebWorker`, and the WSGI one
(`rosetta.adapters.wsgi`) with `-k gevent`.

gunicorn cannot listen on port 0 and print the port, so each run picks a free port first (and
tries another if something takes it in between).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from parity_tests.clients import get, request

START_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0
ATTEMPTS = 3

APPS = {
    "aiohttp_web": (
        "aiohttp.GunicornUVLoopWebWorker",
        "rosetta.adapters.aiohttp_web:make_app({root!r})",
    ),
    "wsgi": ("gevent", "rosetta.adapters.wsgi:make_app({root!r})"),
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def start_gunicorn(worker_class: str, app: str, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    for _ in range(ATTEMPTS):
        port = free_port()
        with open(log, "wb") as output:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--no-control-socket",
                    "-w",
                    "2",
                    "-k",
                    worker_class,
                    "-b",
                    f"127.0.0.1:{port}",
                    "--graceful-timeout",
                    "3",
                    app,
                ],
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and proc.poll() is None:
            if answers(port):
                return proc, port
            time.sleep(0.1)
        stop(proc)
    raise AssertionError(f"gunicorn did not start: {log.read_text(errors='replace')}")


def stop(proc: subprocess.Popen[bytes]) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError("gunicorn did not stop on SIGTERM") from None


@pytest.mark.parametrize("name", list(APPS))
def test_gunicorn_serves_a_file(name: str, tmp_path: Path) -> None:
    root = tmp_path / "html"
    (root / "docs").mkdir(parents=True)
    (root / "index.html").write_bytes(b"<h1>under gunicorn</h1>\n")
    (root / "docs" / "index.html").write_bytes(b"<h1>docs</h1>\n")
    content = os.urandom(300_000)
    (root / "data.bin").write_bytes(content)
    (tmp_path / "secret.txt").write_bytes(b"NOT FOR THE WEB\n")
    worker_class, app = APPS[name]
    proc, port = start_gunicorn(worker_class, app.format(root=str(root)), tmp_path / "log")
    try:
        address = ("127.0.0.1", port)
        response = get(address, "/data.bin")
        assert response.status == 200
        assert response.body == content
        assert response.header("Content-Type") == "application/octet-stream"
        assert get(address, "/").body == b"<h1>under gunicorn</h1>\n"
        assert get(address, "/docs/").body == b"<h1>docs</h1>\n"
        assert get(address, "/data.bin", "Range: bytes=10-19").body == content[10:20]
        assert get(address, "/missing.txt").status == 404
        traversal = request(
            address, b"GET /../secret.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
        )
        assert traversal.status in (400, 404)
        assert b"NOT FOR THE WEB" not in traversal.body
    finally:
        code = stop(proc)
    assert code == 0, (tmp_path / "log").read_text(errors="replace")
