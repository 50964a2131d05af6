"""What the server-target benchmarks share: starting a `rosetta serve`, the machine's
description and load, and writing results as JSON and as a markdown table.

Every figure is a ratio measured in one run, the server under test and its reference taking
turns round by round, so that the load other programs put on the machine touches both alike.
"""

from __future__ import annotations

import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
READY = re.compile(r"listening on (?:tcp|http)://(?P<host>[\d.]+):(?P<port>\d+) .*pid=(?P<pid>\d+)")
START_TIMEOUT = 30.0


def raise_open_file_limit() -> int:
    """Soft RLIMIT_NOFILE up to the hard limit; children (the servers) inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def rosetta_command() -> list[str]:
    return [sys.executable, "-m", "rosetta"]


@dataclass
class Server:
    proc: subprocess.Popen[str]
    host: str
    port: int
    pid: int

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_rosetta(job: str, model: str, *extra: str, root: Path | None = None) -> Server:
    """`rosetta serve JOB --model MODEL --port 0 -q`, once it printed its ready line."""
    argv = [*rosetta_command(), "serve", job, "--model", model, "--port", "0", "-q", *extra]
    if root is not None:
        argv += ["--root", str(root)]
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        text=True, cwd=ROOT,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        match = READY.search(line)
        if match:
            return Server(proc, match["host"], int(match["port"]), int(match["pid"]))
    proc.kill()
    raise SystemExit(f"bench: no ready line from {' '.join(argv)}")


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def tool_version(argv: Sequence[str]) -> str:
    if shutil.which(argv[0]) is None:
        return "not installed"
    done = subprocess.run(argv, capture_output=True, text=True)
    text = (done.stdout + done.stderr).strip().splitlines()
    return text[0].split(" Copyright")[0] if text else "?"


def machine() -> dict[str, object]:
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import uvloop

    return {
        "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "uvloop": uvloop.__version__,
        "nginx": tool_version(["nginx", "-v"]),
        "wrk": tool_version(["wrk", "-v"]),
        "load_average_at_start": load_average(),
    }


def write_results(name: str, results: dict[str, object], table: str) -> Path:
    """results/NAME.json and results/NAME.md; returns the JSON's path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    results = {**results, "load_average_at_end": load_average()}
    json_path = RESULTS / f"{name}.json"
    json_path.write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(table + "\n")
    return json_path


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def verdict(value: float, target: float, *, at_most: bool = False) -> str:
    met = value <= target if at_most else value >= target
    return "met" if met else "NOT met"
