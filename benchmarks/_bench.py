"""What the scripts here share: each runs `rosetta bench` (the one place that measures) with
the settings its targets are stated in, and reads the figures back from its JSON document."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def bench(kind: str, *argv: str) -> dict[str, Any]:
    """`rosetta bench KIND ARGV...`, its progress and table shown, its document returned."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / f"{kind}.json"
        command = [sys.executable, "-m", "rosetta", "bench", kind, *argv, "--out", str(out)]
        print("$ rosetta bench " + " ".join([kind, *argv]), flush=True)
        subprocess.run(command, cwd=ROOT, check=True)
        return json.loads(out.read_text())


def figure(document: dict[str, Any], contender: str, **point: object) -> dict[str, Any]:
    for found in document["figures"]:
        if found["contender"] == contender and all(
            found["point"].get(key) == value for key, value in point.items()
        ):
            return found
    raise SystemExit(f"no figure for {contender} at {point} in the {document['kind']} run")


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def write(name: str, documents: Sequence[dict[str, Any]], table: str) -> None:
    """results/NAME.json (every document, every round) and results/NAME.md (the table)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(list(documents), indent=1) + "\n")
    (RESULTS / f"{name}.md").write_text(table + "\n")
    print(table)


def verdict(value: float | None, target: float, *, at_most: bool = False) -> str:
    if value is None:
        return "not measured"
    return "met" if (value <= target if at_most else value >= target) else "NOT met"
