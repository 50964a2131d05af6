"""The JSON document of one bench run: every round of every contender, summarised.

A figure is one contender at one point of the sweep (`{"conns": 100}`); its rounds are kept
whole, its value is their median with the min and max beside it, and its ratio is that median
over the baseline's median at the same point, measured in the same run. The document also
says where it was measured: the machine (CPU model, cores, kernel), Python and the libraries'
versions, and the load average when the run started and ended.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LIBRARIES = (
    "uvloop",
    "gevent",
    "greenlet",
    "aiohttp",
    "httptools",
    "uvicorn",
    "starlette",
    "granian",
    "matplotlib",
    "rich",
)
TOOLS = {
    "wrk": ["wrk", "-v"],
    "nginx": ["nginx", "-v"],
    "curl": ["curl", "--version"],
    "aria2c": ["aria2c", "--version"],
    "cc": ["cc", "--version"],
}
# Rounds that count toward a figure's median; a refused or limited round is measured and kept
# but says something else than a speed.
COUNTED = ("ok", "limit", "refused")


def point_key(point: Mapping[str, Any]) -> str:
    return ",".join(f"{name}={value}" for name, value in point.items()) or "-"


@dataclass
class Contender:
    """One column of the comparison: a registered model, a reference or a peer."""

    name: str
    role: str  # "model", "reference", "peer" or "mechanism"
    label: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        self.label = self.label or self.name


@dataclass
class Document:
    kind: str
    unit: str
    higher_is_better: bool
    settings: dict[str, Any]
    baseline: str
    contenders: list[Contender] = field(default_factory=list)
    rounds: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    load_at_start: list[float] = field(default_factory=lambda: list(os.getloadavg()))

    def add(
        self,
        contender: Contender,
        point: Mapping[str, Any],
        round_number: int,
        measured: Mapping[str, Any],
    ) -> None:
        row = {"contender": contender.label, "point": dict(point), "round": round_number}
        row.update(measured)
        row.setdefault("status", "ok")
        row.setdefault("errors", 0)
        self.rounds.append(row)

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)
            print(f"rosetta bench: warning: {message}", file=sys.stderr, flush=True)

    def figures(self) -> list[dict[str, Any]]:
        grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
        points: dict[str, dict[str, Any]] = {}
        for row in self.rounds:
            key = point_key(row["point"])
            points[key] = row["point"]
            grouped.setdefault((row["contender"], key), []).append(row)
        medians = {group: _summary(rows)["median"] for group, rows in grouped.items()}
        figures = []
        for (label, key), rows in grouped.items():
            summary = _summary(rows)
            base = medians.get((self.baseline, key))
            ratio = summary["median"] / base if base and summary["median"] is not None else None
            figures.append(
                {
                    "contender": label,
                    "point": points[key],
                    **summary,
                    "ratio": ratio,
                    "errors": sum(int(row.get("errors", 0)) for row in rows),
                }
            )
        return figures

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "unit": self.unit,
            "higher_is_better": self.higher_is_better,
            "command": "rosetta " + shlex.join(sys.argv[1:])
            if _ran_as_rosetta()
            else shlex.join(sys.argv),
            "started_utc": _utc(self.started),
            "finished_utc": _utc(time.time()),
            "seconds": round(time.time() - self.started, 1),
            "settings": self.settings,
            "baseline": self.baseline,
            "machine": machine(),
            "python": platform.python_version(),
            "versions": versions(),
            "tools": tool_versions(),
            "load_average": {"start": self.load_at_start, "end": list(os.getloadavg())},
            "contenders": [vars(contender) for contender in self.contenders],
            "figures": self.figures(),
            "rounds": self.rounds,
            "warnings": self.warnings,
        }


def _summary(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    counted = [float(row["value"]) for row in rows if row["status"] in COUNTED]
    statuses = {row["status"] for row in rows}
    status = "ok" if statuses <= {"ok"} else sorted(statuses - {"ok"})[0]
    notes = sorted({row["note"] for row in rows if row.get("note")})
    extras: dict[str, Any] = {}
    for name in (
        "p50_ms",
        "p99_ms",
        "mean_ms",
        "generator_cpu",
        "server_cpu_us",
        "held",
        "idle_cpu",
    ):
        values = [float(row[name]) for row in rows if row.get(name) is not None]
        if values:
            extras[name] = statistics.median(values)
    if not counted:
        return {
            "median": None,
            "min": None,
            "max": None,
            "status": status,
            "note": "; ".join(notes),
            **extras,
        }
    return {
        "median": statistics.median(counted),
        "min": min(counted),
        "max": max(counted),
        "status": status,
        "note": "; ".join(notes),
        **extras,
    }


def _utc(moment: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(moment))


def _ran_as_rosetta() -> bool:
    return Path(sys.argv[0]).name in ("rosetta", "__main__.py")


def machine() -> dict[str, Any]:
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = None
    with contextlib.suppress(ValueError, OSError):
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "platform": platform.platform(),
        "memory_bytes": memory,
    }


def versions(names: Iterable[str] = LIBRARIES) -> dict[str, str]:
    found = {}
    for name in names:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def tool_versions() -> dict[str, str]:
    found = {}
    for name, argv in TOOLS.items():
        if shutil.which(argv[0]) is None:
            found[name] = "not installed"
            continue
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
        lines = (done.stdout + done.stderr).strip().splitlines()
        found[name] = lines[0].split(" Copyright")[0].strip() if lines else "?"
    return found
