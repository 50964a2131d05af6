"""Download benchmark: every workload and every downloader side by side, from a local nginx.

    python benchmarks/download_bench.py [--workloads 10000x16k,1000x16k,1x100m] [-j 16]
                                        [--rounds 5] [--out-base /dev/shm] [--reference]

Starts nginx itself on 127.0.0.1 (a temporary config, `daemon off`, one worker, access log
off), writes the files of every workload, then times in turns, round after round and
workload after workload, the same URL list fetched by `curl --parallel --parallel-max J -K`,
`aria2c -jJ`, `rosetta download --model M -j J` for every download model (and, with
`--reference`, a bare 20-line aiohttp downloader). Each run writes into a fresh directory,
is checked (every file there, with the right bytes) and removed, and is timed from the
outside (wall time of the whole command, interpreter start-up included, as a user waits for
it). The project's modules are compiled to bytecode first, as a second run finds them.
The tables give the medians and the ratios the project's targets are stated in; the closing
lines say which targets are met. Nothing leaves the machine: every URL is on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from rosetta import registry  # noqa: E402
from rosetta.bench.download import STARTUP_PROBE, curl_argv  # noqa: E402

NGINX_CONFIG = """\
daemon off;
master_process off;
worker_processes 1;
pid {base}/nginx.pid;
error_log {base}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    keepalive_timeout 60s;
    client_body_temp_path {base}/tmp_body;
    proxy_temp_path {base}/tmp_proxy;
    fastcgi_temp_path {base}/tmp_fastcgi;
    uwsgi_temp_path {base}/tmp_uwsgi;
    scgi_temp_path {base}/tmp_scgi;
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        root {base}/www;
    }}
}}
"""


@dataclass
class Tool:
    label: str
    argv: list[str]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_nginx(base: Path) -> tuple[subprocess.Popen[bytes], int]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    port = free_port()
    config = base / "nginx.conf"
    config.write_text(NGINX_CONFIG.format(base=base, port=port))
    proc = subprocess.Popen(
        [nginx, "-p", str(base), "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"nginx did not start: {proc.stderr.read().decode()[-500:]}")  # type: ignore[union-attr]
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("nginx did not listen within 10 s")


# Shaped like rosetta.instruments.EchoRound (two fields, one derived value), nothing shared.
@dataclass(frozen=True)
class Workload:
    count: int
    size: int

    @property
    def label(self) -> str:
        if self.count == 1:
            return f"1 x {self.size // (1 << 20)} MiB"
        return f"{self.count:,} x {self.size // 1024} KiB"


def parse_workload(text: str) -> Workload:
    count, _, size = text.lower().partition("x")
    units = {"k": 1 << 10, "m": 1 << 20}
    scale = units.get(size[-1:], 1)
    return Workload(int(count), int(size.rstrip("km")) * scale)


def write_files(www: Path, count: int, size: int) -> dict[str, str]:
    www.mkdir(parents=True)
    digests = {}
    for number in range(count):
        name = f"f{number:05d}.bin"
        data = os.urandom(size)
        (www / name).write_bytes(data)
        digests[name] = hashlib.sha256(data).hexdigest()
    return digests


def tools(base: Path, jobs: int, models: Sequence[str], reference: bool) -> list[Tool]:
    urls_txt = base / "urls.txt"
    curl_config = base / "urls.curl"
    listed = [
        Tool(
            "curl",
            curl_argv(jobs, "{out}", curl_config),
        ),
        Tool(
            "aria2c",
            [
                "aria2c",
                f"-j{jobs}",
                "-i",
                str(urls_txt),
                "-d",
                "{out}",
                "--quiet",
                "--allow-overwrite=true",
                "--auto-file-renaming=false",
            ],
        ),
    ]
    if reference:
        bare = [sys.executable, "-c", BARE_AIOHTTP, str(urls_txt), "{out}", str(jobs)]
        listed.append(Tool("bare aiohttp (reference)", bare))
    rosetta = [sys.executable, "-m", "rosetta", "download"]
    for model in models:
        options = ["--model", model, "-j", str(jobs), "-i", str(urls_txt), "-o", "{out}"]
        listed.append(Tool(model, [*rosetta, *options]))
    return listed


# The yardstick: a bare aiohttp downloader with no checks, no .part files, no
# retries, no summary; its figure shows what the model's promises cost on top of aiohttp.
BARE_AIOHTTP = """
import asyncio, os, sys
import aiohttp, uvloop

async def main(urls, out, jobs):
    limit = asyncio.Semaphore(jobs)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=jobs)) as session:
        async def fetch(url):
            async with limit, session.get(url) as response:
                body = await response.read()
            with open(os.path.join(out, url.rsplit("/", 1)[1]), "wb") as file:
                file.write(body)
        await asyncio.gather(*(fetch(url) for url in urls))

urls = open(sys.argv[1]).read().split()
uvloop.run(main(urls, sys.argv[2], int(sys.argv[3])))
"""
SUMMARY_TIME = re.compile(rb"files downloaded, .* in ([0-9.]+) s")


def run_once(tool: Tool, out: Path) -> tuple[float, float | None]:
    """Wall time of the whole command, and (for rosetta) its own transfer time: from the
    first request to the last rename, without interpreter start-up and imports."""
    argv = [part.replace("{out}", str(out)) for part in tool.argv]
    out.mkdir()
    started = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, cwd=ROOT, timeout=600, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(
            f"{tool.label} failed ({result.returncode}): {result.stderr.decode()[-500:]}"
        )
    match = SUMMARY_TIME.search(result.stdout[-500:])
    return elapsed, float(match[1]) if match else None


def check_output(out: Path, digests: dict[str, str]) -> None:
    found = {path.name for path in out.iterdir()}
    if found != set(digests):
        raise SystemExit(f"{out}: {len(found)} files, expected {len(digests)}")
    for name in list(digests)[:: max(1, len(digests) // 50)]:
        if hashlib.sha256((out / name).read_bytes()).hexdigest() != digests[name]:
            raise SystemExit(f"{out / name}: wrong content")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--workloads",
        default="10000x16k,1000x16k,1x100m",
        help="COUNTxSIZE,... (default 10000x16k,1000x16k,1x100m), each round runs them all",
    )
    parser.add_argument("-j", "--jobs", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--models", default=",".join(m.name for m in registry.serving("download")))
    parser.add_argument("--reference", action="store_true", help="also the bare aiohttp loop")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--out-base",
        type=Path,
        help="where every tool writes its files (default: the temporary directory, on disk "
        "as a user's downloads are; /dev/shm, a tmpfs, leaves the disk out of the figures)",
    )
    args = parser.parse_args(argv)
    workloads = [parse_workload(text) for text in args.workloads.split(",")]
    models = [m for m in args.models.split(",") if m]

    base = Path(tempfile.mkdtemp(prefix="rosetta-download-bench-"))
    os.chmod(base, 0o755)
    nginx = None
    out_base: Path | None = None
    timings: dict[str, dict[str, list[float]]] = {}
    startup: list[float] = []
    try:
        digests = {}
        for number, workload in enumerate(workloads):
            digests[workload] = write_files(
                base / "www" / f"w{number}", workload.count, workload.size
            )
        # Bytecode, as every run after an installed copy's first finds it (an environment
        # with PYTHONDONTWRITEBYTECODE would otherwise compile each module at every start).
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", "rosetta", "modern", "classic"],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        nginx, port = start_nginx(base)
        listed = {}
        for number, workload in enumerate(workloads):
            home = base / f"w{number}"
            home.mkdir()
            urls = [f"http://127.0.0.1:{port}/w{number}/{name}" for name in digests[workload]]
            (home / "urls.txt").write_text("".join(url + "\n" for url in urls))
            (home / "urls.curl").write_text("".join(f'url = "{url}"\n' for url in urls))
            listed[workload] = tools(home, args.jobs, models, args.reference)
            for url in urls[:20]:  # warm nginx and the page cache once
                with urllib.request.urlopen(url, timeout=60) as response:
                    response.read()

        out_base = Path(tempfile.mkdtemp(prefix="rosetta-download-out-", dir=args.out_base))
        for round_number in range(args.rounds):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", STARTUP_PROBE], cwd=ROOT, check=True, timeout=60)
            startup.append(time.perf_counter() - started)
            for workload in workloads:
                # Rotate the order each round so that no tool always runs first or last.
                order = listed[workload]
                shift = round_number % len(order)
                for tool in order[shift:] + order[:shift]:
                    out = out_base / "run"
                    os.sync()  # no tool pays for another's write-back
                    elapsed, _ = run_once(tool, out)
                    check_output(out, digests[workload])
                    shutil.rmtree(out)
                    timings.setdefault(workload.label, {}).setdefault(tool.label, []).append(
                        elapsed
                    )
                    print(
                        f"round {round_number + 1}: {workload.label:16s} {tool.label:28s} "
                        f"{elapsed:7.3f} s",
                        file=sys.stderr,
                        flush=True,
                    )
    finally:
        if nginx is not None:
            nginx.terminate()
            try:
                nginx.wait(timeout=10)
            except subprocess.TimeoutExpired:
                nginx.kill()
        shutil.rmtree(base, ignore_errors=True)
        if out_base is not None:
            shutil.rmtree(out_base, ignore_errors=True)

    medians = {
        label: {tool: statistics.median(values) for tool, values in runs.items()}
        for label, runs in timings.items()
    }
    print(f"nginx on 127.0.0.1, -j {args.jobs}, median of {args.rounds} interleaved rounds")
    print(
        f"(wall time of the whole command; outputs under {args.out_base or tempfile.gettempdir()})"
    )
    for label, runs in medians.items():
        curl, aria2c = runs["curl"], runs["aria2c"]
        print(f"\n{label}")
        print(f"{'tool':28s} {'median s':>9s} {'min s':>7s} {'x curl':>7s} {'x aria2c':>9s}")
        for tool, median in runs.items():
            print(
                f"{tool:28s} {median:9.3f} {min(timings[label][tool]):7.3f} "
                f"{median / curl:7.2f} {median / aria2c:9.2f}"
            )
    print(f"\nstart-up only (python, CLI, aiohttp imports): {statistics.median(startup):.3f} s")
    print("\ntargets")
    for line in targets(medians, workloads, models):
        print(line)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "workloads": [workload.label for workload in workloads],
                    "jobs": args.jobs,
                    "rounds": args.rounds,
                    "machine": f"{platform.platform()}, {os.cpu_count()} cores",
                    "python": platform.python_version(),
                    "out_base": str(args.out_base),
                    "timings": timings,
                    "medians": medians,
                    "startup": startup,
                },
                indent=2,
            )
        )
    return 0


def targets(
    medians: dict[str, dict[str, float]], workloads: Sequence[Workload], models: Sequence[str]
) -> list[str]:
    """The project's targets, as ratios of medians within this run: met or not, by how much."""
    modern = [model for model in models if model.startswith("modern.")]
    lines = []

    def check(what: str, ratio: float, goal: float, strict: bool = False) -> None:
        met = ratio < goal if strict else ratio <= goal
        sign = "<" if strict else "<="
        lines.append(
            f"{what:58s} {ratio:6.2f}x  (goal {sign} {goal:g}x)  {'met' if met else 'NOT met'}"
        )

    for workload in workloads:
        runs = medians[workload.label]
        fastest = min(modern, key=lambda model: runs[model])
        goal = {10000: 1.5, 1000: 2.5, 1: 1.1}.get(workload.count)
        if goal is not None:
            check(
                f"{workload.label}: fastest modern ({fastest}) / curl",
                runs[fastest] / runs["curl"],
                goal,
            )
        if workload.count > 1:
            for model in modern:
                check(
                    f"{workload.label}: {model} / aria2c", runs[model] / runs["aria2c"], 1.0, True
                )
        if workload.count == 10000 and "modern.aiohttp_download" in runs:
            check(
                f"{workload.label}: modern.aiohttp_download / curl",
                runs["modern.aiohttp_download"] / runs["curl"],
                2.5,
            )
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
