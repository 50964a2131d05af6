"""The built-in HTTP load generator, for machines without wrk: closed-loop keep-alive GETs.

    python -m rosetta.bench.httpload HOST PORT CONNS WORKERS SECONDS PATH...

WORKERS processes share CONNS connections; each process drives its share with a selector,
sends the next GET (rotating over the paths and the header sets of `rosetta.bench.load`) as
soon as the previous answer is whole, and records every latency. Prints one JSON line with
the requests, the seconds, p50/p99 in milliseconds and the errors. Slower than wrk: it is
there so the bench runs anywhere, with its own CPU reported so a saturated client shows.
"""

from __future__ import annotations

import json
import multiprocessing
import selectors
import socket
import statistics
import sys
import time


def _requests(host: str, paths: list[str]) -> list[bytes]:
    from rosetta.bench.load import HEADER_SETS

    built = []
    for index, path in enumerate(paths):
        headers = HEADER_SETS[(index // len(paths) + index) % len(HEADER_SETS)]
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        built.append(("\r\n".join(lines) + "\r\n\r\n").encode())
    return built


def _answer_length(buffer: bytes) -> int | None:
    """Bytes of the whole answer at the start of `buffer`, once its head is in."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    length = 0
    for line in buffer[:end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return end + 4 + length


def _worker(args: tuple[str, int, int, float, list[str]]) -> tuple[int, int, list[float]]:
    host, port, conns, seconds, paths = args
    requests = _requests(host, paths)
    selector = selectors.DefaultSelector()
    state: dict[socket.socket, list] = {}
    errors = 0
    latencies: list[float] = []
    served = 0
    for number in range(conns):
        sock = socket.create_connection((host, port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        state[sock] = [b"", time.perf_counter(), number]
        sock.sendall(requests[number % len(requests)])
        selector.register(sock, selectors.EVENT_READ)
    deadline = time.perf_counter() + seconds
    while state and time.perf_counter() < deadline:
        for key, _ in selector.select(timeout=0.1):
            sock = key.fileobj
            entry = state[sock]  # type: ignore[index]
            try:
                chunk = sock.recv(262144)  # type: ignore[union-attr]
            except OSError:
                chunk = b""
            if not chunk:
                errors += 1
                selector.unregister(sock)
                del state[sock]  # type: ignore[arg-type]
                sock.close()  # type: ignore[union-attr]
                continue
            entry[0] += chunk
            whole = _answer_length(entry[0])
            if whole is not None and len(entry[0]) >= whole:
                now = time.perf_counter()
                if not entry[0].startswith(b"HTTP/1.1 200") and not entry[0].startswith(
                    b"HTTP/1.0 200"
                ):
                    errors += 1
                latencies.append(now - entry[1])
                served += 1
                entry[0] = entry[0][whole:]
                entry[1] = now
                entry[2] += 1
                sock.send(requests[entry[2] % len(requests)])  # type: ignore[union-attr]
    for sock in state:
        sock.close()
    return served, errors, latencies


def main(argv: list[str]) -> int:
    host, port, conns, workers, seconds = (
        argv[0],
        int(argv[1]),
        int(argv[2]),
        int(argv[3]),
        float(argv[4]),
    )
    paths = argv[5:]
    shares = [conns // workers + (1 if n < conns % workers else 0) for n in range(workers)]
    started = time.perf_counter()
    with multiprocessing.Pool(workers) as pool:
        results = pool.map(_worker, [(host, port, share, seconds, paths) for share in shares])
    elapsed = time.perf_counter() - started
    latencies = sorted(value for _, _, values in results for value in values)
    served = sum(result[0] for result in results)

    def percentile(fraction: float) -> float:
        if not latencies:
            return 0.0
        return latencies[min(len(latencies) - 1, int(fraction * len(latencies)))] * 1000

    print(
        json.dumps(
            {
                "requests": served,
                "seconds": min(elapsed, seconds) or elapsed,
                "errors": sum(result[1] for result in results),
                "p50_ms": statistics.median(latencies) * 1000 if latencies else 0.0,
                "p99_ms": percentile(0.99),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
