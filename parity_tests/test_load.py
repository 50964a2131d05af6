"""A thousand concurrent keep-alive clients, and a stop under that load, in every model that can
hold them.

Load: 1,000 clients connect (each asked once on the way in), then all of them ask again and
again at once for a few seconds; every answer is checked byte for byte (status, length, body,
echo). Shutdown: with those 1,000 connected and one large file going out to a client that
reads slowly, SIGTERM: a new client is never answered, the large answer is finished or cut
(never with a wrong byte) within the grace time, every kept-alive client is closed, the server
exits 0 without a traceback and leaves no process behind (a forked child per client, workers).

`classic.blocking` serves one client at a time by design: it is held to that instead (the
others wait in the backlog, and are served in turn as each one leaves). The select models hold
1,000 clients (their descriptors stay below FD_SETSIZE); beyond it, `test_limits.py`.
The crowd runs with the deadlines off: it holds idle connections on purpose.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from parity_tests.clients import HTTPReader, connect, raw_get
from parity_tests.conftest import Impl, Site, implementations
from parity_tests.crowd import Crowd, echo_ask, http_asks
from parity_tests.harness import ServerProcess, assert_clean_stop, open_files_raised_to
from rosetta import registry

CLIENTS = 1000
SECONDS = 0.5  # of everyone asking at once, after each asked once while connecting
GRACE = 0.5
# Scheduling on a shared machine (2 cores, other servers): how late the stop may be.
SLACK = 5.0
NO_DEADLINES = ["--header-timeout", "0", "--keepalive-timeout", "0", "--idle-timeout", "0"]
FILES = ("/hello.txt", "/small.bin", "/index.html")
LARGE = "/large.bin"
# The slow reader of the large file: a small window, and this many bytes a tenth of a second,
# so that the file (3 MiB) would take longer than the grace time. Once the server has exited,
# it reads what the kernel still holds at full speed: the server closed its end by then.
SLOW_RCVBUF = 16 << 10
SLOW_PACE = 64 << 10
DESCRIPTORS = CLIENTS * 2 + 500  # both ends of each connection are in this process


@pytest.fixture(scope="module", autouse=True)
def enough_descriptors() -> Iterator[None]:
    with open_files_raised_to(DESCRIPTORS):
        yield


def _crowd_impls(job: str) -> list[Impl]:
    impls = [impl for impl in implementations(job) if not impl.model.one_client_at_a_time]
    if job == "http":
        # Pre-forked workers: their stop must leave no process behind either.
        impls.append(Impl(registry.get("modern.protocol"), (("workers", "2"),)))
    return impls


def _params(job: str) -> list[object]:
    return [pytest.param(impl, id=impl.label) for impl in _crowd_impls(job)]


@dataclass
class Loaded:
    server: ServerProcess
    crowd: Crowd
    files: dict[str, bytes] = field(default_factory=dict)


@pytest.fixture(scope="module", params=_params("http"))
def loaded_http(request: pytest.FixtureRequest, site: Site) -> Iterator[Loaded]:
    impl: Impl = request.param
    files = {path: (site.root / path.lstrip("/")).read_bytes() for path in FILES}
    server = impl.start("http", root=site.root, extra=[*NO_DEADLINES, "--grace", str(GRACE)])
    yield from _loaded(server, http_asks(files), files)


@pytest.fixture(scope="module", params=_params("echo"))
def loaded_echo(request: pytest.FixtureRequest) -> Iterator[Loaded]:
    impl: Impl = request.param
    yield from _loaded(impl.start("echo", extra=NO_DEADLINES), echo_ask, {})


def _loaded(server: ServerProcess, ask: object, files: dict[str, bytes]) -> Iterator[Loaded]:
    try:
        crowd = Crowd.connect(server.address, CLIENTS, ask)  # type: ignore[arg-type]
    except BaseException:
        server.stop(signal.SIGKILL)
        raise
    try:
        yield Loaded(server, crowd, files)
    finally:
        crowd.close()
        if not server.stopped:
            assert_clean_stop(server)


def test_a_thousand_keep_alive_http_clients_get_every_byte(loaded_http: Loaded) -> None:
    assert loaded_http.crowd.rounds(SECONDS) == []
    assert loaded_http.crowd.answered >= 2 * CLIENTS


def test_a_thousand_echo_clients_get_every_byte(loaded_echo: Loaded) -> None:
    assert loaded_echo.crowd.rounds(SECONDS) == []
    assert loaded_echo.crowd.answered >= 2 * CLIENTS


@dataclass
class SlowDownload:
    """One large answer read slowly in a thread: what came, and when it ended."""

    address: tuple[str, int]
    received: bytearray = field(default_factory=bytearray)
    ended_at: float | None = None
    how: str = ""
    started: threading.Event = field(default_factory=threading.Event)
    # Set once the server has exited: what the kernel still holds for us is read at once.
    hurry: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        sock = socket.socket(socket.AF_INET6 if ":" in self.address[0] else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SLOW_RCVBUF)
        sock.settimeout(10 + GRACE + SLACK)
        try:
            sock.connect(self.address)
            sock.sendall(raw_get(LARGE, "Connection: close"))
            while True:
                chunk = sock.recv(SLOW_PACE)
                if not chunk:
                    self.how = "eof"
                    break
                self.received += chunk
                self.started.set()
                self.hurry.wait(0.1)
        except ConnectionResetError:
            self.how = "reset"
        except OSError as error:
            self.how = f"{type(error).__name__}: {error}"
        finally:
            self.ended_at = time.monotonic()
            self.started.set()
            sock.close()

    def body(self) -> tuple[int | None, bytes]:
        head, _, body = bytes(self.received).partition(b"\r\n\r\n")
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                return int(value), body
        return None, body


def _process_tree(pid: int) -> list[tuple[int, str]]:
    """(pid, start time) of the server's descendants: pid reuse cannot fool the check."""
    found, parents = [], [pid]
    while parents:
        parent = parents.pop()
        for task in os.listdir(f"/proc/{parent}/task"):
            try:
                with open(f"/proc/{parent}/task/{task}/children") as children:
                    kids = [int(child) for child in children.read().split()]
            except FileNotFoundError:
                continue
            for kid in kids:
                found.append((kid, _start_time(kid)))
                parents.append(kid)
    return found


def _start_time(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (FileNotFoundError, IndexError):
        return ""


def _answered_after_stop(address: tuple[str, int]) -> bytes:
    """What a client arriving after the stop signal gets: nothing, or a refused connection."""
    try:
        with connect(address, timeout=GRACE + SLACK) as sock:
            sock.sendall(raw_get("/hello.txt", "Connection: close"))
            return sock.recv(1 << 16)
    except OSError:
        return b""


def test_sigterm_under_load_stops_accepting_and_ends_within_the_grace_time(
    loaded_http: Loaded, site: Site
) -> None:
    server, crowd = loaded_http.server, loaded_http.crowd
    large = (site.root / LARGE.lstrip("/")).read_bytes()
    download = SlowDownload(server.address)
    reader = threading.Thread(target=download.run, daemon=True)
    reader.start()
    assert download.started.wait(10) and download.ended_at is None, download.how
    children = _process_tree(server.pid)

    server.proc.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    server.stopped = True
    time.sleep(0.2)
    assert _answered_after_stop(server.address) == b""
    closed = crowd.closed_within(GRACE + SLACK)
    code = server.proc.wait(GRACE + SLACK)
    took = time.monotonic() - signalled
    download.hurry.set()
    reader.join(SLACK)

    assert closed == CLIENTS, f"{CLIENTS - closed} kept-alive clients still open"
    assert code == 0, server.stderr()
    assert "Traceback" not in server.stderr()
    assert took <= GRACE + SLACK
    assert download.ended_at is not None, "the large answer goes on after the server exited"
    assert download.how in ("eof", "reset"), download.how
    promised, body = download.body()
    assert promised == len(large)
    assert body == large[: len(body)], "a wrong byte in the large answer"
    left = [pid for pid, started in children if started and _start_time(pid) == started]
    assert left == [], f"processes left behind: {left}"


def test_blocking_serves_one_client_at_a_time_the_others_wait_their_turn(site: Site) -> None:
    impl = Impl(registry.get("classic.blocking"), ())
    assert impl.model.one_client_at_a_time
    server = impl.start("http", root=site.root, extra=NO_DEADLINES)
    expected = (site.root / "hello.txt").read_bytes()
    waiting: list[socket.socket] = []
    try:
        # Within its backlog of 5: each asks at once, all on kept-alive connections.
        for _ in range(5):
            sock = connect(server.address)
            sock.sendall(raw_get("/hello.txt"))
            waiting.append(sock)
        for turn, sock in enumerate(waiting):
            answer = HTTPReader(sock).read()
            assert (answer.status, answer.body) == (200, expected)
            # The one being served stays served; everyone behind it still waits.
            sock.sendall(raw_get("/hello.txt"))
            assert HTTPReader(sock).read().body == expected
            for behind in waiting[turn + 1 :]:
                behind.setblocking(False)
                with pytest.raises(BlockingIOError):  # nothing yet, and not closed
                    behind.recv(1)
                behind.settimeout(10)
            sock.close()
    finally:
        for sock in waiting:
            sock.close()
        assert_clean_stop(server)
