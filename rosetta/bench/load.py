"""The HTTP load: wrk with a Lua script that rotates over many files and a few browser-like
header sets, or, when wrk is missing, a built-in multi-process Python client doing the same.

Both run closed loops over keep-alive connections and report requests per second, latency
p50/p99 and errors; the caller reads the generator's own CPU time to tell whether it, rather
than the server, was the bottleneck.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rosetta.bench import procs

HEADER_SETS: tuple[dict[str, str], ...] = (
    {
        "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "Accept-Encoding": "gzip, deflate, br, zstd",
        "Accept-Language": "en-US,en;q=0.5",
    },
    {
        "User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
        "Accept": "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8",
        "Accept-Encoding": "gzip, deflate, br",
        "Accept-Language": "de-DE,de;q=0.9,en;q=0.8",
    },
    {
        "User-Agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Safari/605.1.15",
        "Accept": "*/*",
        "Accept-Encoding": "gzip, deflate",
        "Accept-Language": "fr-FR,fr;q=0.9",
    },
    {
        "User-Agent": "curl/8.5.0",
        "Accept": "*/*",
        "Accept-Encoding": "identity",
        "Accept-Language": "*",
    },
)

WRK_SCRIPT = """\
local paths = {%(paths)s}
local header_sets = {%(headers)s}
local counter = 0
request = function()
  counter = counter + 1
  local path = paths[(counter %% #paths) + 1]
  local headers = header_sets[(math.floor(counter / #paths) %% #header_sets) + 1]
  return wrk.format("GET", path, headers)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'ROSETTA {"requests": %%d, "duration_us": %%d, "connect": %%d, "read": %%d, '
    .. '"write": %%d, "status": %%d, "timeout": %%d, "p50_us": %%d, "p99_us": %%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_wrk_script(directory: Path, paths: Sequence[str]) -> Path:
    headers = ", ".join(
        "{" + ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in h.items()) + "}"
        for h in HEADER_SETS
    )
    script = directory / "rotate.lua"
    script.write_text(
        WRK_SCRIPT % {"paths": ", ".join(_lua_string(p) for p in paths), "headers": headers}
    )
    return script


def wrk_seconds(seconds: float) -> int:
    return max(1, round(seconds))


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def wrk(
    address: tuple[str, int], script: Path, conns: int, seconds: float
) -> tuple[dict[str, Any], procs.Finished]:
    """One wrk run: requests/s, p50/p99 in ms, errors, and wrk's own run (its CPU time)."""
    host, port = address
    # wrk takes whole seconds only.
    argv = [
        "wrk",
        "-t1",
        f"-c{conns}",
        f"-d{wrk_seconds(seconds)}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        f"http://{host}:{port}/",
    ]
    finished = procs.run_timed(argv, timeout=seconds + 30)
    for line in finished.stdout.splitlines():
        if line.startswith("ROSETTA "):
            counts = json.loads(line[len("ROSETTA ") :])
            break
    else:
        raise RuntimeError(f"wrk said: {(finished.stdout + finished.stderr).strip()[-300:]}")
    duration = counts["duration_us"] / 1e6
    errors = sum(counts[name] for name in ("connect", "read", "write", "status", "timeout"))
    return {
        "value": counts["requests"] / duration if duration else 0.0,
        "p50_ms": counts["p50_us"] / 1000,
        "p99_ms": counts["p99_us"] / 1000,
        "errors": errors,
        "error_kinds": {
            k: counts[k] for k in ("connect", "read", "write", "status", "timeout") if counts[k]
        },
    }, finished


def python_load(
    address: tuple[str, int], paths: Sequence[str], conns: int, seconds: float
) -> tuple[dict[str, Any], procs.Finished]:
    """The same closed loop from one process per core (`rosetta.bench.httpload`)."""
    import sys

    workers = max(1, min(os.cpu_count() or 1, conns))
    argv = [
        sys.executable,
        "-m",
        "rosetta.bench.httpload",
        address[0],
        str(address[1]),
        str(conns),
        str(workers),
        f"{seconds:.3f}",
        *paths,
    ]
    started = time.perf_counter()
    finished = procs.run_timed(argv, timeout=seconds + 60)
    if finished.returncode != 0:
        raise RuntimeError(f"the Python load generator failed: {finished.stderr[-300:]}")
    counts = json.loads(finished.stdout.strip().splitlines()[-1])
    del started
    return {
        "value": counts["requests"] / counts["seconds"] if counts["seconds"] else 0.0,
        "p50_ms": counts["p50_ms"],
        "p99_ms": counts["p99_ms"],
        "errors": counts["errors"],
    }, finished
