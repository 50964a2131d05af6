"""What each demo must do, written out by hand from the course, independent of both models."""

from __future__ import annotations

import math

from rosetta.demos import catalog
from rosetta.demos.trace import LINE, MARK, PHASE

Step = tuple[str, str, str]
GREENLETS = ("g1", "g2", "g3")


def expected_steps(name: str, rounds: int, delay: float) -> list[Step]:
    if name == "handoff":  # §7: B() runs first and calls next(a), A answers, turn by turn
        return [(LINE, "B", "----B---"), (LINE, "A", "----A---")] * rounds
    if name == "switch":  # §8: gr1.switch() starts test1, which switches to test2 and back
        return [(LINE, "gr1", "---A--"), (LINE, "gr2", "---B--")] * rounds
    if name == "spawn":  # §9a: no I/O, so each greenlet runs to its end before the next
        return [(LINE, g, f"{g} {i}") for g in GREENLETS for i in range(rounds)]
    if name == "interleave":  # §9b: every sleep hands the turn on
        return [(LINE, g, f"{g} {i}") for i in range(rounds) for g in GREENLETS]
    if name == "starve":
        return starve_steps(rounds, delay)
    raise AssertionError(f"no expectation for {name}")


def starve_steps(rounds: int, delay: float) -> list[Step]:
    seconds = catalog.starve_work_seconds(delay)
    ticks = [(LINE, "ticker", f"ticker {i}") for i in range(rounds)]
    starts = (MARK, "cruncher", f"CPU-bound step starts ({seconds:.2f} s)")
    ends = (MARK, "cruncher", "CPU-bound step ends")
    # In the loop: the step runs from ticker 0's sleep to its end; no tick can come between.
    in_loop = [(PHASE, "demo", catalog.STARVE_IN_LOOP), ticks[0], starts, ends, *ticks[1:]]
    # In a thread: ticks go on every `delay`; the step ends between two of them.
    ticks_before_end = min(rounds, math.floor(catalog.STARVE_WORK_INTERVALS) + 1)
    in_thread = [
        (PHASE, "demo", catalog.STARVE_IN_THREAD), ticks[0], starts,
        *ticks[1:ticks_before_end], ends, *ticks[ticks_before_end:],
    ]
    return in_loop + in_thread
