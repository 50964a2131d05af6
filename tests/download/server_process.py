"""Start `fixture_server.py` as a subprocess on loopback and talk to its control paths.

Shared by `tests/download/` and `parity_tests/test_download.py`.
"""

from __future__ import annotations

import contextlib
import json
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.download.fixture_server import content

SERVER_SCRIPT = Path(__file__).with_name("fixture_server.py")
START_TIMEOUT = 20.0

__all__ = ["TLS_CERT", "FixtureServer", "content", "default_signals", "running", "start"]


# The certificate the TLS fixture server presents; a client trusts it with SSL_CERT_FILE.
TLS_CERT = Path(__file__).with_name("tls-cert.pem")


@dataclass
class FixtureServer:
    proc: subprocess.Popen[bytes]
    port: int
    host: str = "127.0.0.1"
    tls: bool = False

    def url(self, path: str) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}{path}"

    def _get(self, path: str) -> bytes:
        handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]
        if self.tls:
            context = ssl.create_default_context(cafile=str(TLS_CERT))
            handlers.append(urllib.request.HTTPSHandler(context=context))
        opener = urllib.request.build_opener(*handlers)
        with opener.open(self.url(path), timeout=10) as response:
            return response.read()

    def stats(self) -> dict:
        return json.loads(self._get("/_stats"))

    def reset(self) -> None:
        self._get("/_reset")

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start(*, tls: bool = False) -> FixtureServer:
    proc = subprocess.Popen(
        [sys.executable, str(SERVER_SCRIPT), *(["--tls"] if tls else [])],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT
    line = proc.stdout.readline().decode()
    if not line.startswith("port ") or time.monotonic() > deadline:
        proc.kill()
        raise AssertionError(f"fixture server did not start: {line!r}")
    return FixtureServer(proc, int(line.split()[1]), tls=tls)


@contextlib.contextmanager
def running(*, tls: bool = False) -> Iterator[FixtureServer]:
    """The fixture server for the length of a `with` block."""
    server = start(tls=tls)
    try:
        yield server
    finally:
        server.stop()


def default_signals() -> None:
    """`preexec_fn` of a child a test signals: SIGINT and SIGTERM as Python expects them,
    even when the suite was started from a background shell (which ignores SIGINT)."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)
