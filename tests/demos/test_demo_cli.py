"""`rosetta demo` from the command line: every demo, both models, bad arguments."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from demo_expected import expected_steps

from rosetta.demos import catalog
from rosetta.demos.trace import Event, render

MODELS = ("classic.greenlets", "modern.coroutines")
# Generous: the demos take about 2.5 s with default rounds, but several share two busy cores.
RUN_LIMIT = 30.0


def rosetta(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "rosetta", *arguments]


def expected_output(name: str, rounds: int, delay: float) -> list[str]:
    lines = [render(Event(0.0, *step)) for step in expected_steps(name, rounds, delay)]
    if name == "starve":
        lines.append(f"a tick is due every {delay:.2f} s; longest gap between ticks:")
    return lines


def run_all(commands: list[list[str]]) -> list[tuple[subprocess.CompletedProcess[str], float]]:
    """Start the commands together (they mostly sleep), then collect each one."""
    started = time.monotonic()
    processes = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for command in commands
    ]
    results = []
    for command, process in zip(commands, processes, strict=True):
        try:
            out, err = process.communicate(timeout=RUN_LIMIT)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
        elapsed = time.monotonic() - started
        results.append(
            (subprocess.CompletedProcess(command, process.returncode, out, err), elapsed)
        )
    return results


def check_default_run(result: subprocess.CompletedProcess[str], elapsed: float) -> None:
    name, model = result.args[4], result.args[6]
    spec = catalog.DEMOS[name]
    assert result.returncode == 0, (model, name, result.stderr)
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    expected = expected_output(name, spec.rounds, spec.delay)
    # `starve` ends with the measured gaps, whose figures vary; their labels do not.
    assert lines[: len(expected)] == expected, (model, name)
    assert len(lines) == len(expected) + (2 if name == "starve" else 0)
    assert elapsed < RUN_LIMIT


def test_sleepy_demos_run_with_default_rounds() -> None:
    names = [name for name in catalog.DEMOS if name != "starve"]
    commands = [rosetta("demo", name, "--model", model) for name in names for model in MODELS]
    for result, elapsed in run_all(commands):
        check_default_run(result, elapsed)


@pytest.mark.parametrize("model", MODELS)
def test_starve_runs_with_default_rounds(model: str) -> None:
    # Alone, so that the other demos' processes do not disturb its ticker.
    [(result, elapsed)] = run_all([rosetta("demo", "starve", "--model", model)])
    check_default_run(result, elapsed)
    gaps = [float(line.split()[0]) for line in result.stdout.splitlines()[-2:]]
    assert gaps[0] > gaps[1], result.stdout


@pytest.mark.parametrize("model", MODELS)
def test_trace_option_prints_the_events_as_json(model: str) -> None:
    result = subprocess.run(
        rosetta("demo", "interleave", "--model", model, "--rounds", "2", "--delay", "0.05",
                "--trace"),
        capture_output=True, text=True, timeout=RUN_LIMIT, check=False,
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert (document["demo"], document["model"], document["rounds"], document["delay"]) == (
        "interleave", model, 2, 0.05,
    )
    events = [Event.from_json(item) for item in document["events"]]
    assert [event.step for event in events] == expected_steps("interleave", 2, 0.05)
    assert events == sorted(events, key=lambda event: event.at)


def test_send_driver_runs_the_modern_handoff() -> None:
    result = subprocess.run(
        rosetta("demo", "handoff", "--model", "modern.coroutines", "--driver", "send",
                "--rounds", "2", "--delay", "0"),
        capture_output=True, text=True, timeout=RUN_LIMIT, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["----B---", "----A---"] * 2


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        (["forever"], "unknown demo"),
        (["spawn", "--delay", "1"], "no pause"),
        (["handoff", "--rounds", "0"], "--rounds"),
        (["handoff", "--rounds", "many"], "--rounds"),
        (["handoff", "--rounds", "1001"], "--rounds"),
        (["interleave", "--delay", "-1"], "--delay"),
        (["interleave", "--delay", "nan"], "--delay"),
        (["interleave", "--delay", "3600"], "--delay"),
        (["starve", "--rounds", "1"], "--rounds"),
        (["handoff", "--model", "no.such"], "unknown model"),
        (["handoff", "--model", "classic.blocking"], "does not serve demo"),
        (["handoff", "--model", "classic.greenlets", "--driver", "send"], "--driver"),
        (["switch", "--model", "modern.coroutines", "--driver", "send"], "--driver"),
        ([], "NAME"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(arguments: list[str], complaint: str) -> None:
    result = subprocess.run(
        rosetta("demo", *arguments), capture_output=True, text=True, timeout=RUN_LIMIT,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert complaint in result.stderr
    assert "Traceback" not in result.stderr


def test_importing_the_command_does_not_import_a_model() -> None:
    probe = (
        "import sys, rosetta.demos.cli; "
        "print(sorted(m for m in ('gevent', 'greenlet', 'classic.greenlets', "
        "'modern.coroutines') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=RUN_LIMIT,
        check=True,
    )
    assert result.stdout.strip() == "[]"
