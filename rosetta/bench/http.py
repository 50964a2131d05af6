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
from rosetta.bench.rounds import Measure, Point, StartFailed, execute

GENERATOR_BUSY = 0.95  # of one core: past this the load generator may be what limits


def run(args: argparse.Namespace) -> int:
    procs.raise_open_files()
    chosen = contenders.resolve(args.models, "http")
    use_wrk = args.load == "wrk" or (args.load == "auto" and load.have_wrk())
    if args.load == "wrk" and not load.have_wrk():
        from rosetta.usage import UsageError

        raise UsageError("wrk is not installed (apt install wrk), or use --load python")
    document = Document(
        kind="http",
        unit="req/s",
        higher_is_better=True,
        settings={
            "rounds": args.rounds,
            "duration": args.duration,
            "conns": args.conns,
            "size": args.size,
            "files": args.files,
            "load": "wrk" if use_wrk else "python",
        },
        baseline=args.baseline or _default_baseline(chosen),
        contenders=chosen,
    )
    if not use_wrk:
        document.warn(
            "wrk is not installed (apt install wrk): using the built-in Python load generator, "
            "which saturates sooner; read the figures as a floor"
        )
    base = Path(tempfile.mkdtemp(prefix="rosetta-bench-http-"))
    try:
        root, paths, sample = make_root(base, args.files, args.size)
        script = load.write_wrk_script(base, paths)

        @contextlib.contextmanager
        def session(contender: Contender) -> Iterator[Measure]:
            server = contenders.start(contender, "http", root)
            try:
                check_bytes(server, contender, paths[0], sample)

                def measure(point: Point) -> dict[str, Any]:
                    return one_load(
                        server,
                        contender,
                        document,
                        point["conns"],
                        args.duration,
                        script if use_wrk else None,
                        paths,
                    )

                yield measure
            finally:
                server.stop()

        return execute(args, document, [{"conns": n} for n in args.conns], session)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _default_baseline(chosen: list[Contender]) -> str:
    for contender in chosen:
        if contender.name == contenders.REFERENCE["http"]:
            return contender.label
    return chosen[0].label


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
    if generator.cores_busy >= GENERATOR_BUSY * (1 if script is not None else os.cpu_count() or 1):
        document.warn(
            f"the load generator used {generator.cores_busy:.0%} of a core against "
            f"{contender.label} at {conns} connections: it may be the bottleneck there"
        )
    if contenders.is_one_client_at_a_time(contender) and conns > 1:
        measured["status"] = "limit"
        measured["note"] = "one client at a time: the other connections wait (documented)"
    elif not server.alive():
        measured["status"] = "failed"
        measured["note"] = "the server exited"
    return measured
