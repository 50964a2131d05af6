"""Static HTTP targets: modern servers against nginx, `wrk -t1 -c50 -d5s`, the same files.

    python benchmarks/http_vs_nginx.py [--rounds 5] [--duration 5s] [--models modern.protocol]

Writes a document root with a 1 KB file (1024 bytes) and a 1 MiB file into a temporary
folder, starts nginx on a loopback port as a non-daemon subprocess with a temporary config
(one worker, `sendfile on`, `access_log off`; keep-alive not capped, so nginx never pays for
reconnecting), starts each model with `rosetta serve http --root` on the same folder, and runs
wrk against nginx and each model in turn (who goes first alternates), round after round.
Each round's ratio is the model's requests/s over nginx's in that round; the figure is the
median of the rounds.

Targets: modern.protocol >= 1.0x nginx on the 1 KB file (all per-request work: parsing, path
checks, the head), >= 0.8x on the 1 MiB file (`sendfile`, the system call nginx makes too).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from bench_common import Server, machine, markdown_table, start_rosetta, verdict, write_results

FILES = {"1k.bin": 1024, "1m.bin": 1024 * 1024}
TARGETS = {("modern.protocol", "1k.bin"): 1.0, ("modern.protocol", "1m.bin"): 0.8}
NGINX_CONF = """\
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    keepalive_requests 100000000;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_nginx(tmp: Path, root: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    conf = tmp / "nginx.conf"
    conf.write_text(NGINX_CONF.format(tmp=tmp, root=root, port=port))
    proc = subprocess.Popen(
        ["nginx", "-c", str(conf), "-p", str(tmp), "-e", str(tmp / "error.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/1k.bin", timeout=1) as answer:
                if answer.status == 200:
                    return proc, base
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"bench: nginx did not answer on {base}; see {tmp / 'error.log'}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def nginx_worker(master: int) -> int:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with open(f"/proc/{master}/task/{master}/children") as children:
            pids = children.read().split()
        if pids:
            return int(pids[0])
        time.sleep(0.1)
    raise SystemExit("bench: nginx has no worker process")


def wrk(url: str, duration: str, pid: int) -> tuple[float, float]:
    """requests/s, and the server's CPU microseconds per request during the run."""
    cpu_before = cpu_seconds(pid)
    done = subprocess.run(
        ["wrk", "-t1", "-c50", f"-d{duration}", url], capture_output=True, text=True, check=True
    )
    if re.search(r"Non-2xx|Socket errors", done.stdout):
        raise SystemExit(f"bench: wrk saw errors against {url}:\n{done.stdout}")
    cpu = cpu_seconds(pid) - cpu_before
    match = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    total = re.search(r"(\d+) requests in ([\d.]+)(m?s)", done.stdout)
    if match is None or total is None:
        raise SystemExit(f"bench: wrk said:\n{done.stdout}{done.stderr}")
    return float(match[1]), cpu * 1e6 / max(int(total[1]), 1)


def same_bytes(url: str, expected: bytes) -> bool:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.read() == expected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", default="5s")
    parser.add_argument("--models", default="modern.protocol",
                        help="comma-separated models to measure against nginx")
    parser.add_argument("--loop", default="uvloop", choices=("uvloop", "asyncio"))
    args = parser.parse_args()
    models = [name for name in args.models.split(",") if name]

    tmp = Path(tempfile.mkdtemp(prefix="rosetta-http-bench-"))
    root = tmp / "html"
    root.mkdir()
    contents = {}
    for name, size in FILES.items():
        contents[name] = os.urandom(size)
        (root / name).write_bytes(contents[name])
        (root / name).chmod(0o644)
    # nginx's worker runs as an unprivileged user: it must be able to reach the root.
    tmp.chmod(0o755)
    root.chmod(0o755)

    results: dict[str, object] = {"machine": machine(), "loop": args.loop, "figures": []}
    nginx, nginx_base = start_nginx(tmp, root)
    worker = nginx_worker(nginx.pid)
    servers: dict[str, Server] = {}
    try:
        for model in models:
            servers[model] = start_rosetta("http", model, "--loop", args.loop, root=root)
            for name, content in contents.items():
                if not same_bytes(servers[model].url(f"/{name}"), content):
                    raise SystemExit(f"bench: {model} served wrong bytes for /{name}")
        rows = []
        for name in FILES:
            per_model: dict[str, list[tuple[float, float]]] = {model: [] for model in models}
            cpu_per_request: dict[str, list[tuple[float, float]]] = {m: [] for m in models}
            for round_number in range(args.rounds):
                for model in models:
                    # Who goes first alternates, so a drift in the machine's load during a
                    # round does not always favour the same side.
                    nginx_url = f"{nginx_base}/{name}"
                    model_url = servers[model].url(f"/{name}")
                    if round_number % 2 == 0:
                        reference, reference_cpu = wrk(nginx_url, args.duration, worker)
                        measured, measured_cpu = wrk(model_url, args.duration, servers[model].pid)
                    else:
                        measured, measured_cpu = wrk(model_url, args.duration, servers[model].pid)
                        reference, reference_cpu = wrk(nginx_url, args.duration, worker)
                    per_model[model].append((measured, reference))
                    cpu_per_request[model].append((measured_cpu, reference_cpu))
                    print(f"{name} {model}: {measured:.0f} req/s ({measured_cpu:.1f} us CPU/req),"
                          f" nginx {reference:.0f} req/s ({reference_cpu:.1f} us CPU/req),"
                          f" ratio {measured / reference:.2f}", flush=True)
            for model, pairs in per_model.items():
                ratios = [measured / reference for measured, reference in pairs]
                median = statistics.median(ratios)
                model_cpu = statistics.median(cpu for cpu, _ in cpu_per_request[model])
                nginx_cpu = statistics.median(cpu for _, cpu in cpu_per_request[model])
                target = TARGETS.get((model, name))
                figure = {
                    "model": model, "file": name, "bytes": FILES[name],
                    "rounds": [
                        {"server_rps": m, "nginx_rps": r, "server_cpu_us_per_request": mc,
                         "nginx_cpu_us_per_request": rc}
                        for (m, r), (mc, rc) in zip(pairs, cpu_per_request[model], strict=True)
                    ],
                    "median_ratio": median, "target": target,
                    "verdict": verdict(median, target) if target else "",
                }
                results["figures"].append(figure)  # type: ignore[union-attr]
                rows.append((
                    f"`{model}` ({args.loop})", f"{FILES[name]} B",
                    f"{statistics.median(m for m, _ in pairs):.0f}",
                    f"{statistics.median(r for _, r in pairs):.0f}",
                    f"{model_cpu:.1f} / {nginx_cpu:.1f}",
                    f"**{median:.2f}x**", f">= {target:.1f}x" if target else "-",
                    figure["verdict"], ", ".join(f"{ratio:.2f}" for ratio in ratios),
                ))
    finally:
        for server in servers.values():
            server.stop()
        nginx.terminate()
        nginx.wait(timeout=15)
        shutil.rmtree(tmp, ignore_errors=True)
    table = markdown_table(
        ("server", "file", "req/s (median)", "nginx req/s (median)",
         "server / nginx CPU us per request", "median ratio", "target", "", "rounds"),
        rows,
    )
    write_results("http_vs_nginx", results, table)
    print(table)


if __name__ == "__main__":
    main()
