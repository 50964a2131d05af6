"""`rosetta bench http`: static files over HTTP/1.1 keep-alive, closed loop, against nginx.

A temporary document root holds --files files of --size random bytes under /static/; the load
(wrk with a Lua script, or the built-in Python client) rotates over all of them and over a
few browser-like header sets, so a server that remembers one answer gains nothing it would
not gain in real use. Every contender is checked to serve the right bytes before it is timed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rosetta.bench import contenders, load, procs
from rosetta.bench.document import Contender, Document
from rosetta.bench.rounds import Measure, StartFailed, execute, new_document

GENERATOR_BUSY = 0.95  # of one core: past this the load generator may be what limits


def run(args: argparse.Namespace) -> int:
    procs.raise_open_files()
    chosen = contenders.resolve(args.models, "http")
    use_wrk = args.load == "wrk" or (args.load == "auto" and load.have_wrk())
    if args.load == "wrk" and not load.have_wrk():
        from rosetta.usage import UsageError

        raise UsageError("wrk is not installed (apt install wrk), or use --load python")
    document = new_document(
        args, "req/s", chosen, contenders.REFERENCE["http"], load="wrk" if use_wrk else "python"
    )
    if not use_wrk:
        document.warn(
            "wrk is not installed (apt install wrk): using the built-in Python load generator, "
            "which saturates sooner; read the figures as a floor"
        )
    base = Path(tempfile.mkdtemp(prefix="rosetta-bench-http-"))
    try:
        root, paths, sample = make_root(base, args.files, args.size)
        script = load.write_wrk_script(base, paths) if use_wrk else None

        @contextlib.contextmanager
        def session(contender: Contender) -> Iterator[Measure]:
            with contenders.started(contender, "http", root) as server:
                check_bytes(server, contender, paths[0], sample)
                yield lambda point: one_load(
                    server, contender, document, point["conns"], args.duration, script, paths
                )

        return execute(args, document, [{"conns": n} for n in args.conns], session)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def make_root(base: Path, files: int, size: int) -> tuple[Path, list[str], bytes]:
    """ROOT/static/f0000.bin ...: world-readable (nginx's worker runs as another user)."""
    root = base / "html"
    static = root / "static"
    static.mkdir(parents=True)
    paths = []
    first = b""
    for number in range(files):
        data = os.urandom(size)
        first = first or data
        name = f"f{number:04d}.bin"
        (static / name).write_bytes(data)
        (static / name).chmod(0o644)
        paths.append(f"/static/{name}")
    for directory in (base, root, static):
        directory.chmod(0o755)
    return root, paths, first


def check_bytes(
    server: contenders.Running, contender: Contender, path: str, expected: bytes
) -> None:
    url = f"http://{server.host}:{server.port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            body = answer.read()
    except OSError as error:
        raise StartFailed(f"{contender.label} did not answer {path}: {error}") from None
    if body != expected:
        raise StartFailed(f"{contender.label} served wrong bytes for {path}")


def one_load(
    server: contenders.Running,
    contender: Contender,
    document: Document,
    conns: int,
    seconds: float,
    script: Path | None,
    paths: list[str],
) -> dict[str, Any]:
    pids = server.pids()
    cpu_before = procs.cpu_seconds(pids)
    if script is not None:
        measured, generator = load.wrk(server.address, script, conns, seconds)
    else:
        measured, generator = load.python_load(server.address, paths, conns, seconds)
    server_cpu = procs.cpu_seconds(server.pids()) - cpu_before
    requests = measured["value"] * (load.wrk_seconds(seconds) if script else seconds)
    measured["generator_cpu"] = generator.cores_busy
    measured["server_cpu_us"] = server_cpu * 1e6 / requests if requests else None
    # wrk is one process; the Python client has one per core.
    if generator.cores_busy >= GENERATOR_BUSY * (1 if script is not None else os.cpu_count() or 1):
        busy = generator.cores_busy
        document.warn(contenders.generator_bound("the load generator", busy, contender, conns))
    return contenders.settled(measured, server, contender, conns)
