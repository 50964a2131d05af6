"""A local HTTP/1.1 server for the download tests: well-behaved and misbehaving URLs.

Run as `python fixture_server.py [--tls]`; it listens on 127.0.0.1 (with `--tls`: HTTPS, with
the test-only certificate beside it), prints `port N` once it listens, and serves until stdin
closes or it is killed. Written on raw asyncio streams (not on any code of
the project) so that it can misbehave on purpose, byte by byte.

Paths (the last segment is the file name the downloader should use):
  /files/NAME?size=N             N deterministic bytes (`content(NAME, N)`), keep-alive; with
                                 an ETag ("NAME-N-V", V from &version=V) and a Last-Modified,
                                 answering Range (with If-Range) by 206 unless &ranges=no, and
                                 If-Modified-Since / If-None-Match by 304
  /chunked/NAME?size=N           the same bytes, chunked, no Content-Length
  /slow/NAME?size=N&pieces=K&delay=D   the body in K pieces, D seconds apart (ranges as /files)
  /status/CODE/NAME              that status, a short body
  /flaky/TOKEN/NAME?size=N&fail=F      500 for the first F requests of TOKEN, then the file
  /reset/NAME?size=N             the head and half the body, then a TCP reset
  /short/NAME?size=N             Content-Length N, half the body, then a clean close
  /stall/NAME?size=N             the head, then silence until the client leaves
  /redirect/K/NAME?size=N        a chain of K redirects (301, 302, 307, relative and absolute)
                                 ending at /files/NAME
  /loop/NAME                     redirects forever (A -> B -> A)
  /redirect-scheme/NAME          redirects to ftp://
  /_stats                        JSON: max_in_flight, in_flight, requests (per path), count,
                                 sent (body bytes written, per path), ranges (per path)
  /_reset                        clears the statistics and the flaky counters
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import socket
import ssl
import struct
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

HEAD_LIMIT = 16 * 1024
LAST_MODIFIED = "Tue, 01 Dec 2026 12:00:00 GMT"


def content(name: str, size: int) -> bytes:
    """The bytes every model must save for /files/NAME?size=N (and its variants)."""
    return random.Random(f"{name}:{size}").randbytes(size)


class Stats:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.in_flight = 0
        self.max_in_flight = 0
        self.requests: Counter[str] = Counter()
        self.flaky: Counter[str] = Counter()
        self.sent: Counter[str] = Counter()
        self.ranges: dict[str, list[str]] = {}

    def as_json(self) -> dict[str, object]:
        return {
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "requests": dict(self.requests),
            "count": sum(self.requests.values()),
            "sent": dict(self.sent),
            "ranges": self.ranges,
        }


STATS = Stats()


def head(status: int, reason: str, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def abort_with_reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def ranged(
    path: str, name: str, size: int, query: dict[str, str], request: dict[str, str]
) -> tuple[int, str, dict[str, str], int]:
    """Status, reason, headers and first byte of a /files or /slow response, as a server
    with validators and byte ranges answers the request's conditional headers."""
    etag = f'"{name}-{size}-{query.get("version", "1")}"'
    validators = {"ETag": etag, "Last-Modified": LAST_MODIFIED}
    if request.get("if-none-match") == etag or request.get("if-modified-since") == LAST_MODIFIED:
        return 304, "Not Modified", validators, size
    wanted = request.get("range", "")
    if wanted and query.get("ranges") != "no":
        STATS.ranges.setdefault(path, []).append(wanted)
        if_range = request.get("if-range")
        start_text = wanted.removeprefix("bytes=").partition("-")[0]
        if if_range in (None, etag, LAST_MODIFIED) and start_text.isdigit():
            start = int(start_text)
            if start >= size:
                return 416, "Range Not Satisfiable", {"Content-Range": f"bytes */{size}"}, size
            span = {"Content-Range": f"bytes {start}-{size - 1}/{size}"}
            return 206, "Partial Content", {**validators, **span}, start
    return 200, "OK", validators, 0


async def respond(
    path: str,
    query: dict[str, str],
    request: dict[str, str],
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
) -> bool:
    """Write one response; returns False when the connection must not be reused."""
    parts = [unquote(part) for part in path.strip("/").split("/")]
    kind, name = parts[0], parts[-1]
    size = int(query.get("size", "1000"))
    body = content(name, size)
    host = request.get("host", "")

    if kind == "_stats":
        data = json.dumps(STATS.as_json()).encode()
        writer.write(head(200, "OK", {"Content-Length": str(len(data))}) + data)
        return True
    if kind == "_reset":
        STATS.reset()
        writer.write(head(204, "No Content", {"Content-Length": "0"}))
        return True
    if kind == "files":
        status, reason, headers, start = ranged(path, name, size, query, request)
        length = {"Content-Length": str(size - start)}
        writer.write(head(status, reason, {**headers, **length}) + body[start:])
        STATS.sent[path] += size - start
        return True
    if kind == "chunked":
        writer.write(head(200, "OK", {"Transfer-Encoding": "chunked"}))
        for start in range(0, size, 4096):
            piece = body[start : start + 4096]
            writer.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        writer.write(b"0\r\n\r\n")
        return True
    if kind == "slow":
        pieces = max(1, int(query.get("pieces", "10")))
        delay = float(query.get("delay", "0.05"))
        status, reason, headers, first = ranged(path, name, size, query, request)
        writer.write(head(status, reason, {**headers, "Content-Length": str(size - first)}))
        step = -(-size // pieces)
        # Counted in the statistics this request began under: a piece still leaving for a
        # client that is gone must not land in the counts of the run after a /_reset.
        sent = STATS.sent
        for start in range(first, size, step):
            if start > first:
                # Pauses only between pieces: once the last byte is out, the client is done
                # and this request must no longer count as in flight.
                await asyncio.sleep(delay)
            writer.write(body[start : start + step])
            await writer.drain()
            sent[path] += len(body[start : start + step])
        return True
    if kind == "status":
        code = int(parts[1])
        data = f"status {code}\n".encode()
        writer.write(head(code, "Status", {"Content-Length": str(len(data))}) + data)
        return True
    if kind == "flaky":
        token = parts[1]
        STATS.flaky[token] += 1
        if STATS.flaky[token] <= int(query.get("fail", "1")):
            data = b"try again\n"
            writer.write(head(500, "Internal Server Error", {"Content-Length": "10"}) + data)
            return True
        writer.write(head(200, "OK", {"Content-Length": str(size)}) + body)
        return True
    if kind == "reset":
        writer.write(head(200, "OK", {"Content-Length": str(size)}) + body[: size // 2])
        await writer.drain()
        # Time for the client to read the head: a reset that arrives first would discard it,
        # and the failure would look like a refused connection rather than a cut body.
        await asyncio.sleep(0.5)  # (less than the tests' shortest --timeout, 1 s)
        abort_with_reset(writer)
        return False
    if kind == "short":
        writer.write(head(200, "OK", {"Content-Length": str(size)}) + body[: size // 2])
        await writer.drain()
        writer.close()
        return False
    if kind == "stall":
        writer.write(head(200, "OK", {"Content-Length": str(size)}) + body[:100])
        await writer.drain()
        # Silent until the client gives up, so that it no longer counts as in flight.
        with contextlib.suppress(ConnectionError, asyncio.TimeoutError):
            await asyncio.wait_for(reader.read(), 600)
        return False
    if kind == "redirect":
        left = int(parts[1])
        suffix = f"{name}?size={size}"
        if left <= 0:
            location = f"/files/{suffix}"
        elif left % 3 == 0:
            location = f"http://{host}/redirect/{left - 1}/{suffix}"  # absolute
        else:
            location = f"../{left - 1}/{suffix}"  # relative to /redirect/K/
        status = (301, 302, 307)[left % 3]
        writer.write(head(status, "Moved", {"Location": location, "Content-Length": "0"}))
        return True
    if kind == "loop":
        other = "b" if parts[1] == "a" else "a"
        writer.write(
            head(302, "Found", {"Location": f"/loop/{other}/{name}", "Content-Length": "0"})
        )
        return True
    if kind == "redirect-scheme":
        writer.write(
            head(302, "Found", {"Location": f"ftp://{host}/{name}", "Content-Length": "0"})
        )
        return True
    data = b"not found\n"
    writer.write(head(404, "Not Found", {"Content-Length": str(len(data))}) + data)
    return True


async def serve_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        for _ in range(100_000):  # requests per connection, bounded
            try:
                request = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                return
            lines = request.decode("latin-1").split("\r\n")
            method, target, _version = lines[0].split(" ", 2)
            headers = {
                key.strip().lower(): value.strip()
                for key, _, value in (line.partition(":") for line in lines[1:] if line)
            }
            split = urlsplit(target)
            query = {key: values[0] for key, values in parse_qs(split.query).items()}
            counted = not split.path.startswith("/_")
            if counted:
                STATS.requests[split.path] += 1
                STATS.in_flight += 1
                STATS.max_in_flight = max(STATS.max_in_flight, STATS.in_flight)
            try:
                keep = await respond(split.path, query, headers, reader, writer)
                if keep:
                    await writer.drain()
            finally:
                if counted:
                    STATS.in_flight -= 1
            if not keep or headers.get("connection", "").lower() == "close" or method != "GET":
                return
    except (ConnectionError, asyncio.CancelledError):
        return
    finally:
        if not writer.transport.is_closing():
            writer.close()


async def main(host: str, tls: bool) -> None:
    context = None
    if tls:
        # A self-signed certificate for 127.0.0.1, for these tests only (valid 2000-2100).
        here = Path(__file__).resolve().parent
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(here / "tls-cert.pem", here / "tls-key.pem")
    server = await asyncio.start_server(
        serve_connection, host, 0, limit=HEAD_LIMIT, backlog=1024, ssl=context
    )
    port = server.sockets[0].getsockname()[1]
    print(f"port {port}", flush=True)
    loop = asyncio.get_running_loop()
    # Serve until the test process closes our stdin (or dies, which closes it too).
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


if __name__ == "__main__":
    asyncio.run(main("127.0.0.1", tls="--tls" in sys.argv[1:]))
