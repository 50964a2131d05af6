"""What the server-target benchmarks share: starting a `rosetta serve`, the machine's
description and load, and writing results as JSON and as a markdown table.

Every figure is a ratio measured in one run, the server under test and its reference taking
turns round by round, so that the load other programs put on the machine touches both alike.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
if str(ROOT) not in sys.path:
    # `python benchmarks/NAME.py` from a checkout: the project beside the scripts.
    sys.path.insert(0, str(ROOT))

from rosetta import launch  # noqa: E402  (needs the path above)
from rosetta.launch import Server as Server  # noqa: E402
from rosetta.launch import raise_open_file_limit as raise_open_file_limit  # noqa: E402
from rosetta.launch import resident_bytes as resident_bytes  # noqa: E402


def start_rosetta(job: str, model: str, *extra: str, root: Path | None = None) -> Server:
    """`rosetta serve JOB --model MODEL --port 0 -q`, once it printed its ready line."""
    try:
        return launch.start(job, model, root=root, extra=[*extra, "-q"], cwd=ROOT)
    except launch.LaunchError as error:
        raise SystemExit(f"bench: {error}") from None


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
