"""`rosetta bench`: each kind run for about a second on a classic and a modern model, its JSON
document checked; and the command line's parsing, errors and lazy imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rosetta.bench import units

ROOT = Path(__file__).resolve().parents[2]


def bench(*argv: str, timeout: float = 120) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "rosetta", "bench", *argv, "--json"],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def figures(document: dict[str, Any], **point: object) -> dict[str, dict[str, Any]]:
    return {
        figure["contender"]: figure
        for figure in document["figures"]
        if all(figure["point"].get(key) == value for key, value in point.items())
    }


def assert_same_model_twice_agrees(document: dict[str, Any], label: str) -> None:
    """The same model, measured twice in interleaved rounds, agrees with itself: the medians
    within 2x of each other or, where a loaded machine spread the rounds wider than that, the
    two ranges of rounds overlapping. A bench that measured one of the two differently (other
    settings, a cold server, the wrong label) keeps every round of one apart from the other's."""
    by_contender = figures(document)
    first, second = by_contender.get(label), by_contender.get(f"{label}#2")
    assert first is not None and second is not None, document["contenders"]
    if 0.5 <= second["median"] / first["median"] <= 2:
        return
    assert second["min"] <= first["max"] and first["min"] <= second["max"], (first, second)


def assert_measured_cleanly(document: dict[str, Any]) -> None:
    for figure in document["figures"]:
        assert figure["status"] == "ok", figure
        assert figure["errors"] == 0, figure
        assert figure["median"] > 0, figure


def test_the_document_says_where_and_how_it_was_measured() -> None:
    document = bench(
        "switch",
        "--models",
        "greenlet,greenlet,asyncio",
        "--baseline",
        "greenlet",
        # Three rounds: a median of three stays within 0.5–2 of itself on a loaded machine,
        # where one slow round of two could not be outvoted.
        "--rounds",
        "3",
        "--duration",
        "200ms",
    )
    assert document["machine"]["cores"] >= 1 and document["machine"]["kernel"]
    assert document["versions"]["greenlet"] != "not installed"
    assert len(document["load_average"]["start"]) == 3
    assert len(document["rounds"]) == 3 * 3  # every round of every contender is kept
    # Interleaved: the second round starts with the second contender.
    assert [row["contender"] for row in document["rounds"]][3] == "greenlet#2"
    assert_measured_cleanly(document)
    assert_same_model_twice_agrees(document, "greenlet")
    switches = figures(document)
    assert switches["greenlet"]["median"] > switches["asyncio"]["median"] > 10_000


def test_echo_against_one_classic_and_one_modern_model() -> None:
    document = bench(
        "echo",
        "--models",
        "modern.protocol,modern.protocol,classic.select_echo",
        "--baseline",
        "modern.protocol",
        "--conns",
        "10",
        "--rounds",
        "2",
        "--duration",
        "0.4s",
    )
    assert document["unit"] == "req/s"
    assert_measured_cleanly(document)
    assert_same_model_twice_agrees(document, "modern.protocol")
    assert all(f["generator_cpu"] > 0 for f in document["figures"])


def test_http_with_wrk_rotates_over_files() -> None:
    document = bench(
        "http",
        "--models",
        "modern.protocol,modern.protocol,classic.epoll_server",
        "--baseline",
        "modern.protocol",
        "--conns",
        "8",
        # A median of three rounds: one slow round on a loaded machine cannot tip the
        # same-model ratio.
        "--rounds",
        "3",
        "--duration",
        "1",
        "--files",
        "100",
        "--load",
        "wrk",
    )
    assert document["settings"]["files"] == 100
    assert_measured_cleanly(document)
    assert_same_model_twice_agrees(document, "modern.protocol")
    assert all(f["p99_ms"] >= f["p50_ms"] > 0 for f in document["figures"])


def test_http_without_wrk_uses_the_python_load() -> None:
    document = bench(
        "http",
        "--models",
        "modern.streams",
        "--conns",
        "4",
        "--rounds",
        "1",
        "--duration",
        "0.5",
        "--load",
        "python",
    )
    assert document["settings"]["load"] == "python"
    assert_measured_cleanly(document)


def test_scale_shows_select_refusing_past_its_wall() -> None:
    document = bench(
        "scale",
        "--models",
        "classic.select_echo,modern.protocol",
        "--idle",
        "0,1100",
        "--active",
        "4",
        "--rounds",
        "1",
        "--duration",
        "0.4",
    )
    select = figures(document, idle=1100)["classic.select_echo"]
    assert select["status"] == "refused", select
    assert select["held"] < 1024
    assert figures(document, idle=0)["classic.select_echo"]["median"] > 0
    for idle in (0, 1100):
        modern = figures(document, idle=idle)["modern.protocol"]
        assert modern["status"] == "ok" and modern["median"] > 0 and modern["errors"] == 0


def test_idle_threads_cost_more_memory_than_the_protocol() -> None:
    document = bench(
        "idle",
        "--models",
        "classic.threads,modern.protocol",
        "--max",
        "400",
        "--rounds",
        "1",
        "--duration",
        "0.2",
    )
    last = figures(document, connections=400)
    assert last["classic.threads"]["median"] > last["modern.protocol"]["median"] > 0
    assert last["modern.protocol"]["held"] == 400
    assert last["modern.protocol"]["idle_cpu"] < 0.5  # an event loop sleeps while idle


def test_download_overlaps_the_waits() -> None:
    document = bench(
        "download",
        "--models",
        "sequential,classic.threads_download,modern.aiohttp_download",
        "--files",
        "16",
        "--latency",
        "0,200ms",
        "--rounds",
        "1",
        "-j",
        "8",
    )
    assert_measured_cleanly(document)
    slow = figures(document, latency=0.2)
    # 16 answers of 200 ms each: 3.2 s one after the other, two waves of 0.2 s eight at a time
    # (plus a process start, which on a loaded machine can take a second).
    assert slow["sequential"]["median"] >= 3.2
    assert slow["modern.aiohttp_download"]["ratio"] < 0.8
    assert slow["classic.threads_download"]["ratio"] < 0.8


def test_render_rewrites_only_between_the_markers(tmp_path: Path) -> None:
    document = bench(
        "switch", "--models", "generator,threads", "--rounds", "1", "--duration", "50ms"
    )
    recorded = tmp_path / "switch.json"
    recorded.write_text(json.dumps(document))
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n\nProse.\n\n<!-- bench:switch -->\nold\n<!-- /bench:switch -->\n\nMore prose.\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "rosetta", "bench", "render", str(recorded), "--page", str(page)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    text = page.read_text()
    assert text.startswith("# Title\n\nProse.\n") and text.endswith("\nMore prose.\n")
    assert "old" not in text and "| `threads` |" in text


def test_plots_are_png_files(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "rosetta",
            "bench",
            "switch",
            "--models",
            "generator",
            "--rounds",
            "1",
            "--duration",
            "50ms",
            "--plot",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "switch.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("text", "seconds"), [("3", 3.0), ("3s", 3.0), ("50ms", 0.05), ("2.5s", 2.5), ("1m", 60.0)]
)
def test_durations(text: str, seconds: float) -> None:
    assert units.seconds(text) == pytest.approx(seconds)


def test_lists_and_sizes() -> None:
    assert units.positive_counts("1,10,100") == [1, 10, 100]
    assert units.byte_size("1k") == 1024 and units.byte_size("100KiB") == 102400


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["echo", "--models", "classic.nowhere"], "unknown model"),
        (["echo", "--models", "classic.threads_download"], "does not serve echo"),
        (["echo", "--duration", "fast"], "not a duration"),
        (["switch", "--models", "fibers"], "unknown switch mechanism"),
        (["echo", "--models", "modern.protocol", "--baseline", "c-epoll"], "baseline"),
        (["echo", "--models", "modern.protocol:loop=tokio"], "loop=uvloop|asyncio"),
    ],
)
def test_mistakes_are_one_line_and_exit_2(argv: list[str], said: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rosetta", "bench", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 2
    assert said in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_help_says_what_is_measured_in_what_unit_and_what_it_needs() -> None:
    expected = {
        "switch": "switches/s",
        "echo": "requests per second",
        "http": "requests per second",
        "scale": "requests per second",
        "idle": "bytes",
        "download": "seconds",
    }
    for kind, unit in expected.items():
        done = subprocess.run(
            [sys.executable, "-m", "rosetta", "bench", kind, "--help"],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
        )
        text = " ".join(done.stdout.split())
        assert unit in text, (kind, text)
        assert "Needs" in text or "needs" in text, (kind, text)


def test_building_the_parser_imports_nothing_heavy() -> None:
    probe = (
        "import sys; from rosetta import cli; cli.build_parser(['bench']); "
        "print(' '.join(m for m in ('matplotlib', 'rich', 'aiohttp', 'gevent', "
        "'rosetta.bench.http', 'rosetta.bench.plots') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
