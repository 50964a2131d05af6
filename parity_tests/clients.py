"""Clients for the parity suite, independent of the server code: plain sockets only."""

from __future__ import annotations

import socket
import struct
import threading
from dataclasses import dataclass

from rosetta.launch import wait_until as wait_until  # the parity clients poll with it too

TIMEOUT = 10.0


def connect(address: tuple[str, int], timeout: float = TIMEOUT) -> socket.socket:
    sock = socket.create_connection(address, timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def reset(sock: socket.socket) -> None:
    """Close abortively: the server sees ECONNRESET, as with a crashed client."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(min(size - len(chunks), 1 << 20))
        if not chunk:
            raise ConnectionError(f"EOF after {len(chunks)} of {size} bytes")
        chunks += chunk
    return bytes(chunks)


def recv_until_eof(sock: socket.socket, limit: int = 64 << 20) -> bytes:
    chunks = bytearray()
    while len(chunks) <= limit:
        chunk = sock.recv(1 << 20)
        if not chunk:
            return bytes(chunks)
        chunks += chunk
    raise AssertionError(f"more than {limit} bytes without EOF")


def echo_roundtrip(address: tuple[str, int], payload: bytes) -> bytes:
    """Send everything (from a thread, so neither side's buffers can deadlock), half-close,
    and return everything received up to EOF."""
    with connect(address) as sock:
        failure: list[BaseException] = []

        def send_all() -> None:
            try:
                sock.sendall(payload)
                sock.shutdown(socket.SHUT_WR)
            except BaseException as error:
                failure.append(error)

        sender = threading.Thread(target=send_all, daemon=True)
        sender.start()
        received = recv_until_eof(sock, limit=len(payload) + 1)
        sender.join(TIMEOUT)
        if failure:
            raise failure[0]
        return received


def raw_get(target: str, *headers: str, method: str = "GET", version: str = "1.1") -> bytes:
    lines = [f"{method} {target} HTTP/{version}", "Host: test", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def is_closed_by_peer(sock: socket.socket, wait: float = 5.0) -> bool:
    """True when the peer closed (EOF or reset) within `wait` seconds (0: has it already?)."""
    previous = sock.gettimeout()
    sock.settimeout(wait)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except (TimeoutError, BlockingIOError):
        return False
    finally:
        sock.settimeout(previous)


@dataclass
class Response:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    raw: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


class HTTPReader:
    """Reads HTTP/1.1 responses off one socket, in order, keeping the raw bytes."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()

    def _fill(self) -> None:
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("connection closed before a full response")
        self.buffer += chunk

    def read(self, *, head_only: bool = False) -> Response:
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        end = self.buffer.index(b"\r\n\r\n") + 4
        head = bytes(self.buffer[:end])
        del self.buffer[:end]
        lines = head.decode("latin-1").split("\r\n")
        _, status, reason = lines[0].split(" ", 2)
        headers = [tuple(line.split(": ", 1)) for line in lines[1:] if line]
        response = Response(int(status), reason, headers, b"", head)  # type: ignore[arg-type]
        length = response.header("Content-Length")
        if head_only or response.status in (204, 304) or length is None:
            return response
        while len(self.buffer) < int(length):
            self._fill()
        response.body = bytes(self.buffer[: int(length)])
        del self.buffer[: int(length)]
        response.raw = head + response.body
        return response


def request(address: tuple[str, int], raw: bytes, *, head_only: bool = False) -> Response:
    """One raw request on a new connection; the response."""
    with connect(address) as sock:
        sock.sendall(raw)
        return HTTPReader(sock).read(head_only=head_only)


def get(
    address: tuple[str, int], target: str, *extra_headers: str, method: str = "GET"
) -> Response:
    lines = [f"{method} {target} HTTP/1.1", "Host: test", "Connection: close", *extra_headers]
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return request(address, raw, head_only=method == "HEAD")
