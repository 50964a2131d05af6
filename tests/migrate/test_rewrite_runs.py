"""Every rewrite is run: the program before and after prints the same, or the rewrite refuses.

Each example is a small program; it is rewritten, and both versions run in a subprocess of
their own (gevent and asyncio never share the test process). A refusal leaves the file as it
was and names the line and the reason.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rosetta.migrate.rewrite import rewrite_source

SAME_RESULT = {
    "sleep-in-a-coroutine": """
import asyncio

import gevent


async def tick(count):
    seen = []
    for number in range(count):
        gevent.sleep(0.01)
        seen.append(number)
    gevent.sleep()
    return seen


print(asyncio.run(tick(3)))
""",
    "patched-time-sleep": """
import asyncio
import time

from gevent import monkey

monkey.patch_time()


async def wait_then(value):
    time.sleep(0.01)
    return value * 2


print(asyncio.run(wait_then(21)))
""",
    "sleep-with-a-keyword": """
import asyncio

from gevent import sleep as nap


async def main():
    started = asyncio.get_running_loop().time()
    nap(seconds=0.05)
    print(asyncio.get_running_loop().time() - started >= 0.04)


asyncio.run(main())
""",
}

REFUSED = {
    "sleep-under-a-gevent-timeout": (
        """
import asyncio

import gevent


async def main():
    try:
        with gevent.Timeout(0.05):
            gevent.sleep(0.5)
        print("slept")
    except gevent.Timeout:
        print("timed out")


asyncio.run(main())
""",
        10,
        "under a gevent.Timeout",
    ),
    "sleep-after-a-started-timeout": (
        """
import asyncio

import gevent


async def main():
    timer = gevent.Timeout(0.05)
    timer.start()
    try:
        gevent.sleep(0.5)
        print("slept")
    finally:
        timer.cancel()


try:
    asyncio.run(main())
except gevent.Timeout:
    print("timed out")
""",
        11,
        "a gevent.Timeout is started",
    ),
    "gather-over-greenlets": (
        """
import asyncio

import gevent


async def main():
    jobs = [gevent.spawn(pow, 2, n) for n in range(3)]
    gevent.joinall(jobs)
    print([job.value for job in jobs])


asyncio.run(main())
""",
        9,
        "the jobs are greenlets",
    ),
    "shadowed-asyncio": (
        """
import gevent


async def pause(asyncio):
    gevent.sleep(0)
    return asyncio


coroutine = pause("not the module")
try:
    coroutine.send(None)
except StopIteration as done:
    print(done.value)
""",
        6,
        "a name asyncio in scope",
    ),
    "bare-except-around-the-await": (
        """
import asyncio

import gevent


async def main():
    try:
        gevent.sleep(0.01)
    except:  # noqa: E722
        print("swallowed")
    print("done")


asyncio.run(main())
""",
        9,
        "a bare except",
    ),
}


def run(tmp_path: Path, name: str, source: str) -> str:
    program = tmp_path / f"{name}.py"
    program.write_text(source, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(program)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("name", sorted(SAME_RESULT))
def test_a_rewrite_runs_with_the_same_result(tmp_path: Path, name: str) -> None:
    before = SAME_RESULT[name]
    result = rewrite_source(before, f"{name}.py")
    assert result.changed and result.left == []
    assert "await asyncio.sleep(" in result.after
    assert run(tmp_path, "before", before) == run(tmp_path, "after", result.after)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_rewrite_that_could_change_behaviour_is_refused(tmp_path: Path, name: str) -> None:
    before, line, reason = REFUSED[name]
    result = rewrite_source(before, f"{name}.py")
    assert not result.changed, result.diff()
    assert any(hit.line == line and note.startswith(reason) for hit, note in result.left), (
        result.left
    )
    run(tmp_path, "before", before)  # the program itself is sound


def test_the_refused_timeout_would_have_stopped_firing(tmp_path: Path) -> None:
    # Why the refusal matters: the same block with the await that the rewrite would write.
    before, _, _ = REFUSED["sleep-under-a-gevent-timeout"]
    forced = before.replace("gevent.sleep(0.5)", "await asyncio.sleep(0.5)")
    assert run(tmp_path, "before", before) == "timed out\n"
    assert run(tmp_path, "forced", forced) == "slept\n"
