"""The demos both models run: names, defaults, limits, and the pieces both sides share.

Defaults keep the course's pauses where the demo still ends within a few seconds: §7 and §8
paused 0.5 s; §9b slept 1 s per round, halved here so that five rounds take 2.5 s, not 5 s.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from rosetta.demos.trace import Trace, longest_gap

MAX_ROUNDS = 1000
MAX_DELAY = 10.0  # seconds; with MAX_ROUNDS a demo is long but never endless

# In `starve` the CPU-bound step lasts this many tick intervals. The half interval keeps its
# end well away from a tick, so the order of events does not depend on timing noise.
STARVE_WORK_INTERVALS = 2.5
STARVE_IN_LOOP = "the CPU-bound step runs in the scheduler's thread"
STARVE_IN_THREAD = "the CPU-bound step runs in a worker thread"
STARVE_TICKER = "ticker"
STARVE_CRUNCHER = "cruncher"


@dataclass(frozen=True)
class DemoSpec:
    name: str
    section: str
    summary: str
    rounds: int  # default number of rounds
    delay: float  # default pause in seconds
    min_rounds: int = 1
    pauses: bool = True  # False: the demo has no pause, so --delay means nothing to it


DEMOS: dict[str, DemoSpec] = {
    spec.name: spec
    for spec in (
        DemoSpec("handoff", "§7", "two generators hand control back and forth", 3, 0.5),
        DemoSpec("switch", "§8", "two greenlets switch to each other explicitly", 3, 0.5),
        DemoSpec("spawn", "§9a", "three greenlets with no I/O run one after another", 5, 0.0,
                 pauses=False),
        DemoSpec("interleave", "§9b", "three greenlets that sleep take turns", 5, 0.5),
        DemoSpec("starve", "§9 warning", "a CPU-bound step stalls everyone; a thread fixes it",
                 5, 0.2, min_rounds=2),
    )
}


def check(name: str, rounds: int | None, delay: float | None) -> tuple[int, float]:
    """The rounds and delay a demo will run with; ValueError says, in one line, what is wrong."""
    if name not in DEMOS:
        raise ValueError(f"unknown demo {name!r} (known: {', '.join(DEMOS)})")
    spec = DEMOS[name]
    if delay is not None and not spec.pauses:
        raise ValueError(f"demo {name} has no pause, so it takes no --delay")
    rounds = spec.rounds if rounds is None else rounds
    delay = spec.delay if delay is None else delay
    if not spec.min_rounds <= rounds <= MAX_ROUNDS:
        raise ValueError(f"demo {name} takes --rounds {spec.min_rounds} to {MAX_ROUNDS}: {rounds}")
    if not 0.0 <= delay <= MAX_DELAY:
        raise ValueError(f"--delay must be 0 to {MAX_DELAY:g} seconds: {delay:g}")
    return rounds, delay


def cpu_step(seconds: float) -> int:
    """Pure-Python arithmetic for `seconds` of wall time: work that never waits, holds the GIL
    (the interpreter still hands it to other threads every few milliseconds) and never yields
    to a scheduler."""
    deadline = time.perf_counter() + seconds
    total = 0
    while time.perf_counter() < deadline:
        total += sum(range(200))
    return total


def starve_work_seconds(delay: float) -> float:
    return STARVE_WORK_INTERVALS * delay


def summary(trace: Trace) -> list[str]:
    """Lines printed after a demo: for `starve`, the longest gap between ticks in each part."""
    if trace.demo != "starve":
        return []
    lines = [f"a tick is due every {trace.delay:.2f} s; longest gap between ticks:"]
    for phase, events in trace.phases():
        lines.append(f"  {longest_gap(events, STARVE_TICKER):.2f} s when {phase}")
    return lines
