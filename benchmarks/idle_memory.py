"""Idle-connection targets: server RSS growth per idle connection, 10,000 connections.

    python benchmarks/idle_memory.py [--connections 10000] [--models modern.protocol,...]

For each model and job: starts `rosetta serve JOB --model M` (with RLIMIT_NOFILE raised to the
hard limit, in this process and so in the server), makes a few warm-up connections (so that
what a server allocates once, on its first client, is not counted), reads the server's RSS,
opens N connections that send nothing, waits until the server holds all N descriptors and
its RSS is steady, and reports (RSS after - RSS before) / N. For `http` it then sends one
request on every connection and reads the answer, and reports the same figure for
connections that are idle between keep-alive requests (for information; no target).

Targets: modern.protocol <= 2 KiB per idle connection (a transport and a small protocol
object), modern.streams <= 6 KiB (a task, a reader and a writer more).
"""

from __future__ import annotations

import argparse
import os
import socket
import tempfile
import time
from pathlib import Path

from bench_common import (
    machine,
    markdown_table,
    raise_open_file_limit,
    resident_bytes,
    start_rosetta,
    verdict,
    write_results,
)

TARGETS = {"modern.protocol": 2048, "modern.streams": 6144}
SETTLE_SECONDS = 1.0
REQUEST = b"GET /index.html HTTP/1.1\r\nHost: bench\r\n\r\n"


def open_descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def steady_rss(pid: int) -> int:
    """RSS once two readings a settle time apart agree within 1%."""
    previous = resident_bytes(pid)
    for _ in range(10):
        time.sleep(SETTLE_SECONDS)
        current = resident_bytes(pid)
        if abs(current - previous) <= previous // 100:
            return current
        previous = current
    return previous


def read_answer(sock: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed an idle connection")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length: ", 1)[1].split(b"\r\n", 1)[0])
    while len(body) < length:
        body += sock.recv(65536)


def measure(model: str, job: str, count: int, root: Path) -> dict[str, object]:
    server = start_rosetta(job, model, root=root if job == "http" else None)
    sockets: list[socket.socket] = []
    try:
        address = (server.host, server.port)
        for _ in range(3):
            with socket.create_connection(address) as warm:
                if job == "http":
                    warm.sendall(REQUEST)
                    read_answer(warm)
        time.sleep(0.5)
        descriptors = open_descriptors(server.pid)
        before = steady_rss(server.pid)
        for _ in range(count):
            sockets.append(socket.create_connection(address))
        deadline = time.monotonic() + 60
        while open_descriptors(server.pid) < descriptors + count:
            if time.monotonic() > deadline:
                raise SystemExit(f"bench: {model} did not accept {count} connections")
            time.sleep(0.1)
        idle = steady_rss(server.pid)
        figure: dict[str, object] = {
            "model": model, "job": job, "connections": count,
            "rss_before": before, "rss_idle": idle,
            "bytes_per_idle_connection": (idle - before) / count,
        }
        if job == "http":
            for sock in sockets:
                sock.sendall(REQUEST)
            for sock in sockets:
                read_answer(sock)
            after_request = steady_rss(server.pid)
            figure["rss_after_one_request"] = after_request
            figure["bytes_per_connection_after_one_request"] = (after_request - before) / count
        return figure
    finally:
        for sock in sockets:
            sock.close()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--models", default="modern.protocol,modern.streams")
    parser.add_argument("--jobs", default="echo,http")
    args = parser.parse_args()
    limit = raise_open_file_limit()
    if limit < args.connections + 100:
        raise SystemExit(f"bench: RLIMIT_NOFILE hard limit {limit} is too low")
    root = Path(tempfile.mkdtemp(prefix="rosetta-idle-bench-"))
    (root / "index.html").write_bytes(b"<h1>idle</h1>\n")
    results: dict[str, object] = {"machine": machine(), "open_file_limit": limit, "figures": []}
    rows = []
    for model in args.models.split(","):
        for job in args.jobs.split(","):
            figure = measure(model, job, args.connections, root)
            per_connection = float(figure["bytes_per_idle_connection"])  # type: ignore[arg-type]
            target = TARGETS.get(model)
            figure["target_bytes"] = target
            figure["verdict"] = verdict(per_connection, target, at_most=True) if target else ""
            results["figures"].append(figure)  # type: ignore[union-attr]
            after = figure.get("bytes_per_connection_after_one_request")
            rows.append((
                f"`{model}`", job, f"{args.connections:,}",
                f"{int(figure['rss_before']) >> 10:,} KiB",
                f"{int(figure['rss_idle']) >> 10:,} KiB",
                f"**{per_connection / 1024:.2f} KiB**",
                f"<= {target / 1024:.0f} KiB" if target else "-", figure["verdict"],
                f"{float(after) / 1024:.2f} KiB" if after is not None else "-",
            ))
            print(rows[-1], flush=True)
    table = markdown_table(
        ("server", "job", "idle connections", "RSS before", "RSS with them", "per connection",
         "target", "", "per connection after one keep-alive request"),
        rows,
    )
    write_results("idle_memory", results, table)
    print(table)


if __name__ == "__main__":
    main()
