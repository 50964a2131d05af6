"""Classic and modern demos: the same events in the same order, and as the course says."""

from __future__ import annotations

import gevent.monkey
import pytest
from demo_expected import expected_steps

from rosetta import registry
from rosetta.demos import catalog
from rosetta.demos.trace import (
    Trace,
    longest_gap,
    order_differences,
    timing_differences,
)

# Small rounds and pauses keep the suite fast; `starve` needs pauses long enough that the
# machine's noise (shared, two cores) stays well under half a tick.
CASES = {
    "handoff": (3, 0.01),
    "switch": (3, 0.01),
    "spawn": (4, None),
    "interleave": (3, 0.1),
    "starve": (5, 0.2),
}


# The pair is read from the registry, so the tests follow its counterparts.
classic = registry.get("classic.greenlets").load()
modern = registry.get(registry.get("classic.greenlets").counterparts[0]).load()


def test_registry_pairs_the_demo_models() -> None:
    demo_models = {model.name: model for model in registry.serving("demo")}
    assert {classic.MODEL, modern.MODEL} <= set(demo_models)
    for name, other in ((classic.MODEL, modern.MODEL), (modern.MODEL, classic.MODEL)):
        assert demo_models[name].counterparts == (other,)
        assert demo_models[name].jobs == frozenset({"demo"})
    assert set(demo_models[classic.MODEL].needs) == {"greenlet", "gevent"}
    assert demo_models[modern.MODEL].needs == ()
    for module in (classic, modern):
        assert tuple(catalog.DEMOS) == module.DEMOS


@pytest.fixture(scope="module")
def traces() -> dict[tuple[str, str], Trace]:
    runs: dict[tuple[str, str], Trace] = {}
    for name, (rounds, delay) in CASES.items():
        runs["classic", name] = classic.run_demo(name, rounds=rounds, delay=delay)
        runs["modern", name] = modern.run_demo(name, rounds=rounds, delay=delay)
    return runs


@pytest.mark.parametrize("name", list(CASES))
def test_classic_and_modern_traces_agree_in_order(
    traces: dict[tuple[str, str], Trace], name: str
) -> None:
    assert order_differences(traces["classic", name], traces["modern", name]) == []


@pytest.mark.parametrize("side", ["classic", "modern"])
@pytest.mark.parametrize("name", list(CASES))
def test_trace_is_the_courses_sequence(
    traces: dict[tuple[str, str], Trace], name: str, side: str
) -> None:
    trace = traces[side, name]
    assert trace.steps == expected_steps(name, trace.rounds, trace.delay)


def test_handoff_driven_by_send_matches_the_generators() -> None:
    by_send = modern.run_demo("handoff", rounds=4, delay=0.0, driver="send")
    by_next = classic.run_demo("handoff", rounds=4, delay=0.0)
    assert by_send.steps == expected_steps("handoff", 4, 0.0)
    assert order_differences(by_next, by_send) == []


def test_interleave_timing_agrees_and_follows_the_sleeps(
    traces: dict[tuple[str, str], Trace],
) -> None:
    _, delay = CASES["interleave"]
    assert delay is not None
    tolerance = delay / 2
    old, new = traces["classic", "interleave"], traces["modern", "interleave"]
    assert timing_differences(old, new, tolerance) == []
    # Round i starts after i sleeps, on both sides; a model that did not wait would fail here.
    for trace in (old, new):
        for event in trace.events:
            round_number = int(event.text.split()[1])
            assert abs(event.at - round_number * delay) <= tolerance, (trace.model, event)


@pytest.mark.parametrize("side", ["classic", "modern"])
def test_starve_stalls_in_the_loop_and_not_in_a_thread(
    traces: dict[tuple[str, str], Trace], side: str
) -> None:
    trace = traces[side, "starve"]
    (loop_title, in_loop), (thread_title, in_thread) = trace.phases()
    assert (loop_title, thread_title) == (catalog.STARVE_IN_LOOP, catalog.STARVE_IN_THREAD)
    stall = longest_gap(in_loop, catalog.STARVE_TICKER)
    fixed = longest_gap(in_thread, catalog.STARVE_TICKER)
    work = catalog.starve_work_seconds(trace.delay)
    # The ticker waits out the whole CPU step (2.5 ticks) in the loop...
    assert stall >= 0.8 * work, (stall, work)
    # ...and keeps its rhythm, far from that stall, when the step runs in a thread.
    assert fixed < (trace.delay + work) / 2, (fixed, trace.delay, work)


def test_classic_module_does_not_monkey_patch() -> None:
    assert not gevent.monkey.is_module_patched("socket")
    assert not gevent.monkey.is_module_patched("time")


def test_demos_are_bounded_by_their_arguments() -> None:
    with pytest.raises(ValueError, match="rounds"):
        classic.run_demo("handoff", rounds=catalog.MAX_ROUNDS + 1, delay=0.0)
    with pytest.raises(ValueError, match="delay"):
        modern.run_demo("interleave", rounds=1, delay=catalog.MAX_DELAY * 2)
    with pytest.raises(ValueError, match="unknown demo"):
        modern.run_demo("forever", rounds=1, delay=0.0)
    with pytest.raises(ValueError, match="driver"):
        modern.run_demo("spawn", rounds=1, driver="send")
