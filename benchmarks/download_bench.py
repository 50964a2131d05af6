"""Download benchmark: N small files from a local nginx, every downloader side by side.

    python benchmarks/download_bench.py [--files 1000] [--size 16384] [-j 16] [--rounds 5]

Starts nginx itself on 127.0.0.1 (a temporary config, `daemon off`, one worker, access log
off), writes the files, then times in turns, round after round, the same URL list fetched by
`curl --parallel --parallel-max J`, `aria2c -jJ`, a bare 20-line aiohttp downloader (what
aiohttp alone costs: no checks, no .part, no retries), and `rosetta download --model M -j J` for
every download model. Each run writes into a fresh directory, is checked (every file there,
with the right bytes), and is timed from the outside (wall time of the whole command,
interpreter start-up included, as a user waits for it). The table reports the median of the
rounds and the ratios the project's targets are stated in (aiohttp <= 1.5x curl, < aria2c).
Nothing leaves the machine: every URL is on 127.0.0.1.
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


def write_files(www: Path, count: int, size: int) -> dict[str, str]:
    www.mkdir(parents=True)
    digests = {}
    for number in range(count):
        name = f"f{number:05d}.bin"
        data = os.urandom(size)
        (www / name).write_bytes(data)
        digests[name] = hashlib.sha256(data).hexdigest()
    return digests


def tools(base: Path, jobs: int, models: Sequence[str]) -> list[Tool]:
    urls_txt = base / "urls.txt"
    curl_config = base / "urls.curl"
    listed = [
        Tool(
            "curl",
            [
                "curl",
                "-sS",
                "--fail",
                "--parallel",
                "--parallel-max",
                str(jobs),
                "--remote-name-all",
                "--output-dir",
                "{out}",
                "--config",
                str(curl_config),
            ],
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
    listed.append(
        Tool(
            "bare aiohttp (reference)",
            [sys.executable, "-c", BARE_AIOHTTP, str(urls_txt), "{out}", str(jobs)],
        )
    )
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
STARTUP_PROBE = "import rosetta.cli, modern.aiohttp_download; rosetta.cli.build_parser()"
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
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--size", type=int, default=16 * 1024)
    parser.add_argument("-j", "--jobs", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--models", default=",".join(m.name for m in registry.serving("download")))
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--out-base",
        type=Path,
        help="where every tool writes its files (default: the temporary directory, on disk "
        "as a user's downloads are; /dev/shm, a tmpfs, leaves the disk out of the figures)",
    )
    args = parser.parse_args(argv)

    base = Path(tempfile.mkdtemp(prefix="rosetta-download-bench-"))
    os.chmod(base, 0o755)
    nginx = None
    out_base: Path | None = None
    try:
        digests = write_files(base / "www", args.files, args.size)
        nginx, port = start_nginx(base)
        urls = [f"http://127.0.0.1:{port}/{name}" for name in digests]
        (base / "urls.txt").write_text("".join(url + "\n" for url in urls))
        (base / "urls.curl").write_text("".join(f'url = "{url}"\n' for url in urls))
        # Warm nginx and the page cache once, so the first tool timed is not penalised.
        for url in urls[:20]:
            with urllib.request.urlopen(url, timeout=10) as response:
                response.read()

        out_base = Path(tempfile.mkdtemp(prefix="rosetta-download-out-", dir=args.out_base))
        timings: dict[str, list[float]] = {}
        transfers: dict[str, list[float]] = {}
        listed = tools(base, args.jobs, [m for m in args.models.split(",") if m])
        startup: list[float] = []
        for round_number in range(args.rounds):
            # The floor under any Python downloader here: the interpreter, the CLI and the
            # model's imports, with nothing downloaded.
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", STARTUP_PROBE], cwd=ROOT, check=True, timeout=60)
            startup.append(time.perf_counter() - started)
            # Rotate the order each round so that no tool always runs first or last.
            shift = round_number % len(listed)
            for tool in listed[shift:] + listed[:shift]:
                out = out_base / f"{tool.label}-{round_number}"
                # Flush what the previous run wrote, so that no tool pays for another's
                # write-back; outputs are only deleted at the end (a delete is disk work too).
                os.sync()
                elapsed, transfer = run_once(tool, out)
                check_output(out, digests)
                timings.setdefault(tool.label, []).append(elapsed)
                if transfer is not None:
                    transfers.setdefault(tool.label, []).append(transfer)
                print(
                    f"round {round_number + 1}: {tool.label:28s} {elapsed:7.3f} s",
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

    medians = {label: statistics.median(values) for label, values in timings.items()}
    curl, aria2c = medians["curl"], medians["aria2c"]
    print(
        f"{args.files} files x {args.size} B from nginx on 127.0.0.1, -j {args.jobs}, "
        f"median of {args.rounds} rounds (wall time of the whole command)"
    )
    print(
        f"outputs written under {args.out_base or tempfile.gettempdir()}; "
        "'transfer s' is rosetta's own summary time (no start-up, no imports)"
    )
    print(
        f"{'tool':28s} {'median s':>9s} {'min s':>7s} {'x curl':>7s} {'x aria2c':>9s} "
        f"{'transfer s':>10s}"
    )
    for label, median in medians.items():
        transfer = (
            f"{statistics.median(transfers[label]):10.3f}" if label in transfers else f"{'-':>10s}"
        )
        print(
            f"{label:28s} {median:9.3f} {min(timings[label]):7.3f} "
            f"{median / curl:7.2f} {median / aria2c:9.2f} {transfer}"
        )
    print(
        f"{'(start-up: python, CLI, aiohttp)':28s} {statistics.median(startup):9.3f} "
        f"{min(startup):7.3f} {statistics.median(startup) / curl:7.2f} "
        f"{statistics.median(startup) / aria2c:9.2f}"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "files": args.files,
                    "size": args.size,
                    "jobs": args.jobs,
                    "rounds": args.rounds,
                    "machine": f"{platform.platform()}, {os.cpu_count()} cores",
                    "python": platform.python_version(),
                    "out_base": str(args.out_base),
                    "timings": timings,
                    "medians": medians,
                    "transfers": transfers,
                    "startup": startup,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
