"""The trace: recording, its views, and the comparisons the parity tests rely on."""

from __future__ import annotations

import json

import pytest

from rosetta.demos import catalog
from rosetta.demos.trace import (
    LINE,
    MARK,
    PHASE,
    Event,
    Trace,
    longest_gap,
    order_differences,
    render,
    timing_differences,
)


def fake_clock(*times: float):
    ticks = iter(times)
    return lambda: next(ticks)


def make_trace(*times: float, **kwargs: object) -> Trace:
    return Trace("demo", "test.model", 2, 0.5, clock=fake_clock(0.0, *times), **kwargs)


def test_events_are_timed_from_the_start_and_seen_as_they_happen() -> None:
    seen: list[Event] = []
    trace = make_trace(10.0, 10.5, 11.25, on_event=seen.append)
    trace.line("A", "----A---")
    trace.mark("cruncher", "starts")
    trace.phase("part two")
    assert trace.events == seen
    assert [event.at for event in trace.events] == [10.0, 10.5, 11.25]
    assert trace.steps == [
        (LINE, "A", "----A---"), (MARK, "cruncher", "starts"), (PHASE, "demo", "part two"),
    ]


def test_printing_is_a_view_of_the_events() -> None:
    trace = make_trace(0.1, 0.2, 0.3)
    trace.phase("in the loop")
    trace.line("g1", "g1 0")
    trace.mark("cruncher", "CPU-bound step ends")
    assert trace.lines() == ["== in the loop ==", "g1 0", "[cruncher] CPU-bound step ends"]
    assert [render(event) for event in trace.events] == trace.lines()


def test_json_view_round_trips() -> None:
    trace = make_trace(0.25, 0.75)
    trace.line("B", "----B---")
    trace.line("A", "----A---")
    for document in (json.loads(trace.json_text()), trace.as_json()):
        assert {key: document[key] for key in ("demo", "model", "rounds", "delay")} == {
            "demo": "demo", "model": "test.model", "rounds": 2, "delay": 0.5,
        }
        assert [Event.from_json(item) for item in document["events"]] == trace.events


def test_empty_trace_is_valid_json() -> None:
    assert json.loads(make_trace().json_text())["events"] == []


def test_phases_split_the_events() -> None:
    trace = make_trace(1.0, 2.0, 3.0, 4.0, 5.0)
    trace.phase("first")
    trace.line("ticker", "ticker 0")
    trace.phase("second")
    trace.line("ticker", "ticker 0")
    trace.line("ticker", "ticker 1")
    parts = trace.phases()
    assert [title for title, _ in parts] == ["first", "second"]
    assert [len(events) for _, events in parts] == [1, 2]


def test_longest_gap_counts_one_actor_only() -> None:
    events = [
        Event(0.0, LINE, "ticker", "ticker 0"),
        Event(0.1, MARK, "cruncher", "starts"),
        Event(0.9, LINE, "ticker", "ticker 1"),
        Event(1.1, LINE, "ticker", "ticker 2"),
    ]
    assert longest_gap(events, "ticker") == pytest.approx(0.9)
    assert longest_gap(events, "cruncher") == 0.0


def test_comparisons_report_what_differs() -> None:
    first = make_trace(0.0, 1.0)
    first.line("A", "----A---")
    first.line("B", "----B---")
    swapped = make_trace(0.0, 1.0)
    swapped.line("B", "----B---")
    swapped.line("A", "----A---")
    shorter = make_trace(0.0)
    shorter.line("A", "----A---")
    late = make_trace(0.0, 1.4)
    late.line("A", "----A---")
    late.line("B", "----B---")

    assert order_differences(first, late) == []
    assert len(order_differences(first, swapped)) == 2
    assert order_differences(first, shorter) == ["2 events != 1 events"]
    assert timing_differences(first, late, tolerance=0.5) == []
    assert len(timing_differences(first, late, tolerance=0.3)) == 1


def test_starve_summary_names_both_parts() -> None:
    trace = Trace("starve", "test.model", 2, 0.2, clock=fake_clock(0, 0, 0, 0.5, 0.5, 0.5, 0.7))
    trace.phase(catalog.STARVE_IN_LOOP)
    trace.line("ticker", "ticker 0")
    trace.line("ticker", "ticker 1")
    trace.phase(catalog.STARVE_IN_THREAD)
    trace.line("ticker", "ticker 0")
    trace.line("ticker", "ticker 1")
    assert catalog.summary(trace) == [
        "a tick is due every 0.20 s; longest gap between ticks:",
        f"  0.50 s when {catalog.STARVE_IN_LOOP}",
        f"  0.20 s when {catalog.STARVE_IN_THREAD}",
    ]


@pytest.mark.parametrize(
    ("name", "rounds", "delay", "problem"),
    [
        ("nope", None, None, "unknown demo"),
        ("spawn", None, 0.5, "no pause"),
        ("handoff", 0, None, "--rounds 1 to"),
        ("starve", 1, None, "--rounds 2 to"),
        ("interleave", None, -0.1, "--delay"),
        ("interleave", None, float("inf"), "--delay"),
    ],
)
def test_check_refuses_bad_arguments(
    name: str, rounds: int | None, delay: float | None, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem.replace("-", r"\-")):
        catalog.check(name, rounds, delay)


def test_check_fills_in_the_defaults() -> None:
    for spec in catalog.DEMOS.values():
        assert catalog.check(spec.name, None, None) == (spec.rounds, spec.delay)
