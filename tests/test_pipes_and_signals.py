"""The command line's rules for a reader that leaves and for SIGINT, the same in every
sub-command: a closed standard output ends the command quietly with 0, and SIGINT interrupts
even when the program inherited it ignored (as a shell's background job does)."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from rosetta.launch import wait_until

ROSETTA = [sys.executable, "-m", "rosetta"]


def _sigint_ignored() -> None:
    # What a non-interactive shell does to a job started with `&`.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _started_with_sigint_ignored(*argv: str) -> subprocess.Popen[bytes]:
    """`rosetta ARGV` started as a shell starts a background job: SIGINT ignored."""
    proc = subprocess.Popen(
        [*ROSETTA, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        preexec_fn=_sigint_ignored,
    )
    assert proc.stdout is not None and proc.stderr is not None
    return proc


@pytest.mark.parametrize(
    "argv",
    [
        ["demo", "interleave", "--model", "classic.greenlets"],
        ["demo", "interleave", "--model", "modern.coroutines"],
        ["models"],
    ],
    ids=lambda argv: " ".join(argv[:4]),
)
def test_a_reader_that_leaves_ends_the_command_quietly(argv: list[str]) -> None:
    proc = subprocess.Popen(
        [*ROSETTA, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()  # `| head -1`
    code = proc.wait(60)
    stderr = proc.stderr.read().decode()
    assert code == 0, stderr
    assert stderr == ""


def test_sigint_stops_a_server_that_inherited_it_ignored() -> None:
    proc = _started_with_sigint_ignored(
        "serve", "http", "--port", "0", "--model", "classic.blocking"
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert "listening" in proc.stdout.readline().decode()
    proc.send_signal(signal.SIGINT)
    assert proc.wait(10) == 0
    assert "Traceback" not in proc.stderr.read().decode()


def test_sigint_interrupts_a_demo_that_inherited_it_ignored() -> None:
    proc = _started_with_sigint_ignored(
        "demo", "interleave", "--model", "modern.coroutines", "--rounds", "1000"
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline()
    proc.send_signal(signal.SIGINT)
    assert wait_until(lambda: proc.poll() is not None, timeout=10)
    assert proc.returncode == 130
    assert "Traceback" not in proc.stderr.read().decode()
