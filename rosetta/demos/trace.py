"""A demo's trace: the ordered events it produced, each with the time it happened.

Both sides of a demo write into a `Trace` through `line` (what the course printed) and `mark`
(a step the course did not print but the demo needs to show, such as a CPU-bound step starting).
Everything else is a view of the events: `render` gives the console line, `as_json` the
`--trace` output, `order_differences` and `timing_differences` the parity checks.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

LINE = "line"  # a line the course printed: `----A---`, `g1 3`
MARK = "mark"  # a step the demo names, e.g. "CPU-bound step starts"
PHASE = "phase"  # a demo in several parts starts a new part
KINDS = (LINE, MARK, PHASE)


# --8<-- [start:event]
@dataclass(frozen=True, slots=True)
class Event:
    at: float  # seconds since the trace started
    kind: str
    actor: str  # who acted: "A", "gr1", "g2", "ticker"; "demo" for phases
    text: str

    @property
    def step(self) -> tuple[str, str, str]:
        """The event without its time: what must match across models."""
        return (self.kind, self.actor, self.text)

    def as_json(self) -> dict[str, Any]:
        return {"at": round(self.at, 6), "kind": self.kind, "actor": self.actor, "text": self.text}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Event:
        return cls(float(data["at"]), str(data["kind"]), str(data["actor"]), str(data["text"]))
# --8<-- [end:event]


def render(event: Event) -> str:
    """The console line for one event: course lines verbatim, the demo's own steps bracketed."""
    if event.kind == LINE:
        return event.text
    if event.kind == PHASE:
        return f"== {event.text} =="
    return f"[{event.actor}] {event.text}"


@dataclass
class Trace:
    demo: str
    model: str
    rounds: int
    delay: float
    on_event: Callable[[Event], None] | None = None
    clock: Callable[[], float] = time.perf_counter
    events: list[Event] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._started = self.clock()

    def line(self, actor: str, text: str) -> None:
        self._record(LINE, actor, text)

    def mark(self, actor: str, text: str) -> None:
        self._record(MARK, actor, text)

    def phase(self, text: str) -> None:
        self._record(PHASE, "demo", text)

    def _record(self, kind: str, actor: str, text: str) -> None:
        event = Event(self.clock() - self._started, kind, actor, text)
        self.events.append(event)
        if self.on_event is not None:
            self.on_event(event)

    @property
    def steps(self) -> list[tuple[str, str, str]]:
        return [event.step for event in self.events]

    def lines(self) -> list[str]:
        return [render(event) for event in self.events]

    def as_json(self) -> dict[str, Any]:
        return {
            "demo": self.demo,
            "model": self.model,
            "rounds": self.rounds,
            "delay": self.delay,
            "events": [event.as_json() for event in self.events],
        }

    def json_text(self) -> str:
        """The `--trace` output: one JSON document, one event per line so that it reads well."""
        head = json.dumps({key: value for key, value in self.as_json().items() if key != "events"})
        events = ",\n".join("  " + json.dumps(event.as_json()) for event in self.events)
        return f'{head[:-1]}, "events": [\n{events}\n]}}'

    def phases(self) -> list[tuple[str, list[Event]]]:
        """The events split at each PHASE event; events before the first one form phase ""."""
        parts: list[tuple[str, list[Event]]] = [("", [])]
        for event in self.events:
            if event.kind == PHASE:
                parts.append((event.text, []))
            else:
                parts[-1][1].append(event)
        return [part for part in parts if part[0] or part[1]]


def longest_gap(events: Iterable[Event], actor: str) -> float:
    """The longest time between two successive events of one actor (0.0 with fewer than two)."""
    times = [event.at for event in events if event.actor == actor]
    return max((later - earlier for earlier, later in itertools.pairwise(times)), default=0.0)


def order_differences(expected: Trace, actual: Trace) -> list[str]:
    """Where two traces differ in what happened or in which order; empty when they agree."""
    problems = [
        f"event {index}: {want} != {got}"
        for index, (want, got) in enumerate(zip(expected.steps, actual.steps, strict=False))
        if want != got
    ]
    if len(expected.events) != len(actual.events):
        problems.append(f"{len(expected.events)} events != {len(actual.events)} events")
    return problems


def timing_differences(expected: Trace, actual: Trace, tolerance: float) -> list[str]:
    """Events (paired by position) whose times differ by more than `tolerance` seconds."""
    return [
        f"event {index} {want.step}: at {want.at:.3f} s != {got.at:.3f} s"
        for index, (want, got) in enumerate(zip(expected.events, actual.events, strict=False))
        if abs(want.at - got.at) > tolerance
    ]
