"""`rosetta bench download`: many small files, each answer delayed, every downloader timed.

A local server (`rosetta.bench.slowfiles`) answers --files files of --size bytes, each after
a delay of every --latency value; the course's claim is that concurrency overlaps those waits,
so the sequential version (one URL after the other: `rosetta download -j 1`) is the baseline
and each concurrent model should approach files x latency / jobs. curl --parallel and aria2c
with the same -j stand beside them when installed. A figure is the wall time of the whole
command, start-up included, as a user waits for it; every run's files are counted and checked.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rosetta import launch, registry
from rosetta.bench import contenders, procs
from rosetta.bench.document import Contender
from rosetta.bench.rounds import Measure, Point, execute, label_twice_named, new_document
from rosetta.usage import UsageError

SEQUENTIAL = "sequential"
TOOLS = {"curl": "curl --parallel", "aria2c": "aria2c"}
BARE = "bare-aiohttp"
# The floor under any Python downloader: the interpreter, the CLI and aiohttp imported.
STARTUP = "start-up"
STARTUP_PROBE = (
    "import rosetta.cli, modern.aiohttp_download; rosetta.cli.build_parser(['download'])"
)
SUMMARY_TIME = re.compile(r"files downloaded, .* in ([0-9.]+) s")


def known_names() -> list[str]:
    names = [SEQUENTIAL] + [model.name for model in registry.serving("download")]
    return [*names, BARE, STARTUP, *(tool for tool in TOOLS if shutil.which(tool))]


def run(args: argparse.Namespace) -> int:
    names = args.models or [
        name
        for name in known_names()
        if name in (*TOOLS, SEQUENTIAL, BARE, STARTUP) or registry.get(name).available
    ]
    chosen = []
    for name, label in label_twice_named(names):
        if name == SEQUENTIAL:
            note = "rosetta download --model classic.threads_download -j 1: one URL at a time"
            chosen.append(Contender(name, "reference", label, note))
        elif name == STARTUP:
            note = "python, the CLI and aiohttp imported, nothing downloaded"
            chosen.append(Contender(name, "reference", label, note))
        elif name == BARE:
            note = "20 lines of aiohttp: no checks, no .part files, no retries"
            chosen.append(Contender(name, "reference", label, note))
        elif name in TOOLS:
            if shutil.which(name) is None:
                raise UsageError(f"{name} is not installed")
            chosen.append(Contender(name, "peer", label, TOOLS[name]))
        else:
            try:
                model = registry.get(name)
            except registry.UnknownModel as error:
                raise UsageError(str(error)) from None
            if "download" not in model.jobs:
                raise UsageError(f"model {name} does not download")
            chosen.append(Contender(name, "model", label, model.summary))
    nginx_there = shutil.which("nginx") is not None
    server_said = "nginx at latency 0, else " if nginx_there else ""
    document = new_document(
        args,
        "s",
        chosen,
        SEQUENTIAL,
        higher_is_better=False,
        server=server_said + "rosetta.bench.slowfiles",
    )
    base = Path(tempfile.mkdtemp(prefix="rosetta-bench-download-"))
    base.chmod(0o755)  # nginx's worker runs as another user
    server = None
    nginx: contenders.Running | None = None
    outputs: Path | None = None
    try:
        digests = _write_files(base / "files", args.files, args.size)
        server = launch.start_command(
            [sys.executable, "-m", "rosetta.bench.slowfiles", str(base / "files")], "slowfiles"
        )
        if 0 in args.latency and nginx_there:
            # No delay: the fastest server there is, so that the downloaders are what is timed.
            nginx = contenders.start(Contender("nginx", "reference"), "http", base / "files")
        lists = {}
        for latency in args.latency:
            ms = round(latency * 1000)
            if ms == 0 and nginx is not None:
                urls = [f"http://127.0.0.1:{nginx.port}/{name}" for name in digests]
            else:
                urls = [f"http://127.0.0.1:{server.port}/delay/{ms}/{name}" for name in digests]
            lists[latency] = _url_files(base / f"urls-{ms}", urls)
        outputs = Path(tempfile.mkdtemp(prefix="rosetta-bench-out-", dir=args.out_base))

        @contextlib.contextmanager
        def session(contender: Contender) -> Iterator[Measure]:
            def measure(point: Point) -> dict[str, Any]:
                out = Path(tempfile.mkdtemp(prefix="out-", dir=outputs))
                os.sync()  # no downloader pays for the previous one's write-back
                try:
                    return _timed(contender, lists[point["latency"]], out, args.jobs, digests)
                finally:
                    shutil.rmtree(out, ignore_errors=True)

            yield measure

        return execute(args, document, [{"latency": value} for value in args.latency], session)
    finally:
        if server is not None:
            with contextlib.suppress(launch.LaunchError):
                server.stop()
        if nginx is not None:
            nginx.stop()
        shutil.rmtree(base, ignore_errors=True)
        if outputs is not None:
            shutil.rmtree(outputs, ignore_errors=True)


def _write_files(folder: Path, count: int, size: int) -> dict[str, str]:
    folder.mkdir(parents=True)
    digests = {}
    for number in range(count):
        data = os.urandom(size)
        name = f"f{number:05d}.bin"
        (folder / name).write_bytes(data)
        digests[name] = hashlib.sha256(data).hexdigest()
    return digests


def _url_files(stem: Path, urls: list[str]) -> tuple[Path, Path]:
    plain, curl = stem.with_suffix(".txt"), stem.with_suffix(".curl")
    plain.write_text("".join(url + "\n" for url in urls))
    curl.write_text("".join(f'url = "{url}"\n' for url in urls))
    return plain, curl


def curl_argv(jobs: int, out: str, config: Path) -> list[str]:
    """curl downloading every URL listed in `config` into `out`, `jobs` at a time: the
    reference both download benchmarks hold the models against."""
    parallel = ["--parallel", "--parallel-max", str(jobs), "--remote-name-all"]
    return ["curl", "-sS", "--fail", *parallel, "--output-dir", out, "--config", str(config)]


def _argv(contender: Contender, lists: tuple[Path, Path], out: Path, jobs: int) -> list[str]:
    plain, curl = lists
    if contender.name == "curl":
        return curl_argv(jobs, str(out), curl)
    if contender.name == STARTUP:
        return [sys.executable, "-c", STARTUP_PROBE]
    if contender.name == BARE:
        return [
            sys.executable,
            "-m",
            "rosetta.bench.bare_download",
            str(plain),
            str(out),
            str(jobs),
        ]
    if contender.name == "aria2c":
        return [
            "aria2c",
            f"-j{jobs}",
            "-i",
            str(plain),
            "-d",
            str(out),
            "--quiet",
            "--allow-overwrite=true",
            "--auto-file-renaming=false",
        ]
    model, jobs_here = contender.name, jobs
    if contender.name == SEQUENTIAL:
        model, jobs_here = "classic.threads_download", 1
    return [
        sys.executable,
        "-m",
        "rosetta",
        "download",
        "--model",
        model,
        "-j",
        str(jobs_here),
        "-i",
        str(plain),
        "-o",
        str(out),
    ]


def _timed(
    contender: Contender,
    lists: tuple[Path, Path],
    out: Path,
    jobs: int,
    digests: dict[str, str],
) -> dict[str, Any]:
    started = time.perf_counter()
    finished = procs.run_timed(_argv(contender, lists, out, jobs), timeout=900)
    elapsed = time.perf_counter() - started
    if finished.returncode != 0:
        last = (finished.stderr or finished.stdout).strip().splitlines()[-1:] or ["?"]
        raise RuntimeError(f"exit {finished.returncode}: {last[0]}")
    if contender.name == STARTUP:
        return {"value": elapsed, "client_cpu": finished.cpu}
    saved = {path.name for path in out.iterdir()}
    wrong = [
        name
        for name in list(digests)[:: max(1, len(digests) // 20)]
        if name in saved and hashlib.sha256((out / name).read_bytes()).hexdigest() != digests[name]
    ]
    missing = len(set(digests) - saved)
    transfer = SUMMARY_TIME.search(finished.stdout[-500:])
    measured: dict[str, Any] = {
        "value": elapsed,
        "errors": missing + len(wrong),
        "client_cpu": finished.cpu,
        "transfer_s": float(transfer[1]) if transfer else None,
    }
    if missing or wrong:
        measured["note"] = f"{missing} files missing, {len(wrong)} wrong"
    return measured
