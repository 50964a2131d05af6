"""Clients that stop reading, and files that change while they are sent, in every HTTP model.

A client that never reads is cut at the send deadline, and the server's memory stays bounded
meanwhile: the file is sent from disk, not queued whole. Loopback hides a stalled client well
(the kernel's send buffer grows to `net.ipv4.tcp_wmem`'s maximum, 4 MiB by default, and the
receiver's as far as `tcp_rmem` allows), so the client shrinks its receive buffer before it
connects and asks for a file much larger than both.

A file truncated while it is sent ends the answer early: the client gets fewer bytes than
Content-Length, every one of them right, and then a close; never a complete-looking answer
with other bytes, never a hang, never a next request answered on that connection. A file
deleted while it is sent is sent whole where the server had it open already (the open file
outlives its name), or ends early in the same way where it opens the file for the body.

Every model is tried at once (one server each), so the waiting costs the suite once.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from parity_tests.accepted_differences import BEHAVIOUR_DIFFERENCES
from parity_tests.clients import raw_get
from parity_tests.conftest import implementations
from parity_tests.harness import ServerProcess, assert_clean_stop
from rosetta.launch import resident_bytes

SEND_TIMEOUT = 1.0
# Scheduling on a shared machine: how late the deadline may be kept.
SLACK = 2.5
# Far beyond what the kernel buffers on both sides of a loopback connection.
HUGE_SIZE = 16 << 20
# The stalled client's receive buffer, set before connecting (the window it offers).
SMALL_RCVBUF = 4096
# A reader that does read: room to go fast, too small to take in the truncated part.
READER_RCVBUF = 256 << 10
TRUNCATED_TO = 8 << 20
# What a server may grow by while a client does not read a HUGE_SIZE file.
MEMORY_BOUND = 8 << 20
READ_TIMEOUT = 10.0


def _everywhere(servers: dict[str, ServerProcess], case: Callable) -> dict:
    with ThreadPoolExecutor(len(servers)) as pool:
        results = pool.map(case, servers.values())
        return dict(zip(servers, results, strict=True))


def _differs(server: ServerProcess, what: str) -> bool:
    """A difference named in accepted_differences, by model or by model and options."""
    return any(what in BEHAVIOUR_DIFFERENCES.get(name, {}) for name in (server.model, server.label))


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("slow-readers")
    (folder / "huge.bin").write_bytes(os.urandom(HUGE_SIZE))
    return folder


@pytest.fixture(scope="module")
def servers(root: Path) -> Iterator[dict[str, ServerProcess]]:
    impls = implementations("http")
    extra = ["--send-timeout", str(SEND_TIMEOUT)]
    first = impls[0].start("http", root=root, extra=extra)  # makes the harness's log folder
    with ThreadPoolExecutor(len(impls)) as pool:
        rest = list(pool.map(lambda impl: impl.start("http", root=root, extra=extra), impls[1:]))
    started = dict(zip([impl.label for impl in impls], [first, *rest], strict=True))
    yield started
    with ThreadPoolExecutor(len(started)) as pool:
        list(pool.map(assert_clean_stop, started.values()))


def _process_tree(pid: int) -> list[int]:
    """The server and its descendants (a forked child per client, workers)."""
    tree, index = [pid], 0
    while index < len(tree):
        parent = tree[index]
        try:
            for task in os.listdir(f"/proc/{parent}/task"):
                with open(f"/proc/{parent}/task/{task}/children") as children:
                    tree += [int(child) for child in children.read().split()]
        except FileNotFoundError:
            pass  # ended meanwhile
        index += 1
    return tree


def _resident(pid: int) -> int:
    total = 0
    for member in _process_tree(pid):
        with contextlib.suppress(OSError, RuntimeError):  # ended meanwhile
            total += resident_bytes(member)
    return total


def _connect(server: ServerProcess, rcvbuf: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in server.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)  # before connect: the window
    sock.settimeout(READ_TIMEOUT)
    sock.connect(server.address)
    return sock


def _read_answer(sock: socket.socket, have: bytes = b"") -> tuple[int | None, bytes, str]:
    """(Content-Length, body, how it ended: "eof", "reset" or "timeout") read as fast as we can;
    stops at the promised length plus one byte (a next answer would be wrong)."""
    buffer = bytearray(have)
    length: int | None = None
    how = "eof"
    try:
        while True:
            if length is None and b"\r\n\r\n" in buffer:
                head = bytes(buffer[: buffer.index(b"\r\n\r\n")]).decode("latin-1")
                for line in head.split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    if name.lower() == "content-length":
                        length = int(value) + len(head) + 4
            if length is not None and len(buffer) > length:
                break
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            buffer += chunk
    except ConnectionResetError:
        how = "reset"
    except TimeoutError:
        how = "timeout"
    head, _, body = bytes(buffer).partition(b"\r\n\r\n")
    promised = None if length is None else length - len(head) - 4
    return promised, body, how


def _never_reads(server: ServerProcess) -> str | None:
    pid = server.pid
    before = _resident(pid)
    with _connect(server, SMALL_RCVBUF) as sock:
        sock.sendall(raw_get("/huge.bin"))
        started = time.monotonic()
        time.sleep(SEND_TIMEOUT + SLACK)
        grown = _resident(pid) - before
        # Now read all: a server that still holds the connection goes on and sends the rest.
        promised, body, how = _read_answer(sock)
        waited = time.monotonic() - started
    if grown > MEMORY_BOUND:
        return f"grew by {grown >> 20} MiB while the client did not read"
    if promised != HUGE_SIZE:
        return f"promised {promised} bytes"
    if _differs(server, "send-deadline"):
        return None if len(body) <= HUGE_SIZE else f"{len(body)} bytes: more than promised"
    if len(body) >= HUGE_SIZE or how == "timeout":
        return f"not cut: {len(body)} of {HUGE_SIZE} bytes ({how}) after {waited:.1f} s"
    return None


def test_a_client_that_never_reads_is_cut_at_the_send_deadline_in_bounded_memory(
    servers: dict[str, ServerProcess],
) -> None:
    failures = _everywhere(servers, _never_reads)
    assert {label: why for label, why in failures.items() if why} == {}


def _changed_while_sent(root: Path, change: str) -> Callable[[ServerProcess], str | None]:
    original = (root / "huge.bin").read_bytes()

    def case(server: ServerProcess) -> str | None:
        name = f"{change}-{server.pid}.bin"
        shutil.copyfile(root / "huge.bin", root / name)
        with _connect(server, READER_RCVBUF) as sock:
            # Two requests at once: the second must never be answered if the first ends short.
            sock.sendall(raw_get(f"/{name}") + raw_get("/huge.bin"))
            first = sock.recv(64 << 10)
            if change == "truncate":
                os.truncate(root / name, TRUNCATED_TO)
            else:
                os.unlink(root / name)
            promised, body, how = _read_answer(sock, first)
        (root / name).unlink(missing_ok=True)
        if promised != len(original):
            return f"promised {promised} bytes"
        if body[: len(original)] != original[: len(body)]:
            return "wrong bytes in the body"
        if len(body) >= len(original):
            if change == "truncate":
                return f"{len(original)} bytes of a file truncated to {TRUNCATED_TO}"
            return None  # sent whole (the open file outlives its name)
        if how == "timeout":
            return f"no close after {len(body)} of {len(original)} bytes"
        return None  # short, and closed

    return case


@pytest.mark.parametrize("change", ["truncate", "delete"])
def test_a_file_changed_while_sent(
    servers: dict[str, ServerProcess], root: Path, change: str
) -> None:
    failures = _everywhere(servers, _changed_while_sent(root, change))
    assert {label: why for label, why in failures.items() if why} == {}
