"""Static HTTP targets: modern servers against nginx, `wrk -t1 -c50 -d5s`, the same files.

    python benchmarks/http_vs_nginx.py [--rounds 5] [--duration 5s] [--models modern.protocol]

Writes a document root with a 1 KB file (1024 bytes) and a 1 MiB file into a temporary
folder, starts nginx on a loopback port as a non-daemon subprocess with a temporary config
(one worker, `sendfile on`, `access_log off`; keep-alive not capped, so nginx never pays for
reconnecting), starts each model with `rosetta serve http --root` on the same folder, and runs
wrk against nginx and each model in turn (who goes first alternates), round after round.
Each round's ratio is the model's requests/s over nginx's in that round; the figure is the
median of the rounds.

Targets (issue 4): modern.protocol >= 1.0x nginx on the 1 KB file, >= 0.8x on the 1 MiB file.
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


def wrk(url: str, duration: str) -> float:
    done = subprocess.run(
        ["wrk", "-t1", "-c50", f"-d{duration}", url], capture_output=True, text=True, check=True
    )
    if re.search(r"Non-2xx|Socket errors", done.stdout):
        raise SystemExit(f"bench: wrk saw errors against {url}:\n{done.stdout}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    if match is None:
        raise SystemExit(f"bench: wrk said:\n{done.stdout}{done.stderr}")
    return float(match[1])


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
            for round_number in range(args.rounds):
                for model in models:
                    # Who goes first alternates, so a drift in the machine's load during a
                    # round does not always favour the same side.
                    if round_number % 2 == 0:
                        reference = wrk(f"{nginx_base}/{name}", args.duration)
                        measured = wrk(servers[model].url(f"/{name}"), args.duration)
                    else:
                        measured = wrk(servers[model].url(f"/{name}"), args.duration)
                        reference = wrk(f"{nginx_base}/{name}", args.duration)
                    per_model[model].append((measured, reference))
                    print(f"{name} {model}: {measured:.0f} req/s, nginx {reference:.0f} req/s,"
                          f" ratio {measured / reference:.2f}", flush=True)
            for model, pairs in per_model.items():
                ratios = [measured / reference for measured, reference in pairs]
                median = statistics.median(ratios)
                target = TARGETS.get((model, name))
                figure = {
                    "model": model, "file": name, "bytes": FILES[name],
                    "rounds": [{"server_rps": m, "nginx_rps": r} for m, r in pairs],
                    "median_ratio": median, "target": target,
                    "verdict": verdict(median, target) if target else "",
                }
                results["figures"].append(figure)  # type: ignore[union-attr]
                rows.append((
                    f"`{model}` ({args.loop})", f"{FILES[name]} B",
                    f"{statistics.median(m for m, _ in pairs):.0f}",
                    f"{statistics.median(r for _, r in pairs):.0f}",
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
        ("server", "file", "req/s (median)", "nginx req/s (median)", "median ratio", "target",
         "", "rounds"),
        rows,
    )
    write_results("http_vs_nginx", results, table)
    print(table)


if __name__ == "__main__":
    main()
