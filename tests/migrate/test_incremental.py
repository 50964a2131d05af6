"""The incremental path: a gevent program and migrated asyncio code calling each other."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = Path(__file__).resolve().parent / "incremental" / "program.py"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(PROGRAM), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def test_gevent_calls_async_and_async_calls_gevent_through_the_bridge() -> None:
    done = run()
    assert done.returncode == 0, done.stderr
    total, name, ticked, failure = done.stdout.split(maxsplit=3)
    assert (total, name, failure.strip()) == ("6", "ABC", "raised on the loop")
    # The other greenlet ran while the first one waited for the coroutine (50 ms).
    assert int(ticked) >= 3


def test_the_bridge_refuses_a_patched_process() -> None:
    done = run("--patch")
    assert done.returncode != 0
    assert "PatchedProcess: gevent patched threading, socket, select" in done.stderr
