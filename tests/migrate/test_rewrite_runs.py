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
    "greenlets-only-joined-become-tasks": """
import asyncio

import gevent


def work(name, delay):
    gevent.sleep(delay)
    print("done", name)
    return name.upper()


async def main():
    first = gevent.spawn(work, "a", 0.03)
    second = gevent.spawn(work, "b", 0.02)
    third = gevent.spawn(work, "c", 0)
    print("spawned")
    first.join()
    print(second.get().lower())
    gevent.joinall([third])


asyncio.run(main())
""",
    "joined-errors-stay-where-they-were": """
import asyncio

import gevent


async def main():
    def fail(n):
        gevent.sleep(0.01)
        raise ValueError(n)

    first = gevent.spawn(fail, 1)
    second = gevent.spawn(fail, 2)
    first.join()
    print("joined")
    try:
        second.get()
    except ValueError as error:
        print("got", error)


asyncio.run(main())
""",
    "timeout-caught-around-its-with": """
import asyncio

import gevent


async def main():
    for limit in (0.05, 1.0):
        try:
            with gevent.Timeout(limit):
                gevent.sleep(0.2)
                print("slept")
        except gevent.Timeout:
            print("timed out")
        else:
            print("in time")


asyncio.run(main())
""",
}

# What each rewrite must have written (beyond the sleeps every example has).
WRITTEN = {
    "greenlets-only-joined-become-tasks": (
        "async def work(name, delay):",
        'first = asyncio.create_task(work("a", 0.03))',
        "await asyncio.wait([first])",
        "print((await second).lower())",
        "await asyncio.gather(third, return_exceptions=True)",
    ),
    "joined-errors-stay-where-they-were": (
        "    async def fail(n):",
        "await asyncio.wait([first])",
        "await second\n",
    ),
    "timeout-caught-around-its-with": (
        "async with asyncio.timeout(limit):",
        "except TimeoutError:",
    ),
}

# Each refused example is a whole program, run as it stands: examples that differ in one line
# (a named Timeout, an await already there) repeat the rest on purpose, so each reads alone.
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
    "timeout-caught-one-function-up": (
        """
import asyncio

import gevent


async def nap():
    with gevent.Timeout(0.05):
        gevent.sleep(0.5)


async def main():
    try:
        await nap()
        print("slept")
    except gevent.Timeout:
        print("timed out")


asyncio.run(main())
""",
        8,
        "the Timeout is not caught by an `except gevent.Timeout` around this with alone",
    ),
    "timeout-object-used-where-caught": (
        """
import asyncio

import gevent


async def main():
    try:
        with gevent.Timeout(0.05):
            gevent.sleep(0.5)
    except gevent.Timeout as expired:
        print("timed out after", expired.seconds)


asyncio.run(main())
""",
        9,
        "the caught gevent.Timeout is named",
    ),
    "timeout-around-an-await-already-there": (
        """
import asyncio

import gevent


async def main():
    try:
        with gevent.Timeout(0.05):
            await asyncio.sleep(0.2)
            print("slept")
    except gevent.Timeout:
        print("timed out")


asyncio.run(main())
""",
        9,
        "an await at line 10 runs asyncio code under gevent's hub",
    ),
    "greenlet-handle-kept": (
        """
import asyncio

import gevent


def work(n):
    gevent.sleep(0.01)
    return n * 2


async def main():
    job = gevent.spawn(work, 21)
    jobs = [job]
    job.join()
    print([each.value for each in jobs])


asyncio.run(main())
""",
        13,
        "the greenlet job is used at line 14",
    ),
    "spawned-function-also-called": (
        """
import asyncio

import gevent


def work(n):
    gevent.sleep(0.01)
    return n * 2


async def main():
    job = gevent.spawn(work, 21)
    print(job.get(), work(1))


asyncio.run(main())
""",
        13,
        "work is also used at line 14",
    ),
    "greenlet-got-under-a-timeout": (
        """
import asyncio

import gevent


def work(n):
    gevent.sleep(0.2)
    return n


async def main():
    job = gevent.spawn(work, 21)
    try:
        with gevent.Timeout(0.05):
            print(job.get())
    except gevent.Timeout:
        print("timed out")
    print(job.get())


asyncio.run(main())
""",
        13,
        "job is waited for under a timeout",
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
    if name in WRITTEN:
        assert all(fragment in result.after for fragment in WRITTEN[name])
        assert "gevent" not in result.after
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


def test_the_refused_get_would_have_cancelled_the_task(tmp_path: Path) -> None:
    # gevent's get under a timeout leaves the greenlet running; `await task` under
    # asyncio.timeout cancels the task with it, so the second get would fail.
    before, _, _ = REFUSED["greenlet-got-under-a-timeout"]
    forced = (
        before.replace("def work", "async def work")
        .replace("gevent.sleep(0.2)", "await asyncio.sleep(0.2)")
        .replace("gevent.spawn(work, 21)", "asyncio.create_task(work(21))")
        .replace("with gevent.Timeout(0.05)", "async with asyncio.timeout(0.05)")
        .replace("except gevent.Timeout", "except TimeoutError")
        .replace("print(job.get())", "print(await job)")
        .replace(
            "asyncio.run(main())",
            'try:\n    asyncio.run(main())\nexcept asyncio.CancelledError:\n    print("cancelled")',
        )
    )
    assert run(tmp_path, "before", before) == "timed out\n21\n"
    assert run(tmp_path, "forced", forced) == "timed out\ncancelled\n"


def test_the_refused_timeout_around_an_await_would_have_started_firing(tmp_path: Path) -> None:
    # gevent's timer cannot interrupt an asyncio await; asyncio.timeout would.
    before, _, _ = REFUSED["timeout-around-an-await-already-there"]
    forced = before.replace("with gevent.Timeout", "async with asyncio.timeout").replace(
        "except gevent.Timeout", "except TimeoutError"
    )
    assert run(tmp_path, "before", before) == "slept\n"
    assert run(tmp_path, "forced", forced) == "timed out\n"
