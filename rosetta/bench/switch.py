"""`rosetta bench switch`: hand-overs of control per second, one mechanism per process.

The course says a coroutine switch is so cheap that a million a second is fine; here each way
of switching the course and its modern counterpart use runs alone in a child process
(`rosetta.bench.switching`) for --duration, and the figure is switches per second.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

from rosetta.bench.document import Contender
from rosetta.bench.rounds import (
    Measure,
    Point,
    StartFailed,
    execute,
    label_twice_named,
    new_document,
)
from rosetta.bench.switching import MECHANISMS
from rosetta.usage import UsageError

BASELINE = "generator"


def run(args: argparse.Namespace) -> int:
    names = args.models or list(MECHANISMS)
    unknown = [name for name in names if name not in MECHANISMS]
    if unknown:
        raise UsageError(
            f"unknown switch mechanism {unknown[0]!r} (known: {', '.join(MECHANISMS)})"
        )
    chosen = [
        Contender(name, "mechanism", label, MECHANISMS[name][0])
        for name, label in label_twice_named(names)
    ]
    document = new_document(args, "switches/s", chosen, BASELINE)

    @contextlib.contextmanager
    def session(contender: Contender) -> Iterator[Measure]:
        def measure(point: Point) -> dict[str, Any]:
            return _switches(contender.name, args.duration)

        yield measure

    return execute(args, document, [{}], session)


def _switches(name: str, seconds: float) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "rosetta.bench.switching", name, str(seconds)],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=False,
    )
    if done.returncode != 0:
        raise StartFailed(f"{name} failed: {done.stderr.strip().splitlines()[-1:]}")
    counted = json.loads(done.stdout)
    return {"value": counted["switches"] / counted["seconds"]}
