"""The command line's rules for a reader that leaves and for SIGINT, the same in every
sub-command: a closed standard output ends the command quietly with 0 (a server too, at its
next console line), and SIGINT interrupts even when the program inherited it ignored (as a
shell's background job does)."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys

import pytest

from rosetta.launch import wait_until
from rosetta.net import LISTENING_LINE

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


def _default_dispositions() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


# Each way a classic model gives a client its own flow of control writes the console there: the
# main thread (as the readiness loops do), a thread, a forked process, a greenlet.
CONSOLE_WRITERS = [
    "classic.blocking",
    "classic.threads",
    "classic.forking",
    "classic.gevent_server",
]


@pytest.mark.parametrize("model", CONSOLE_WRITERS)
def test_a_verbose_server_whose_reader_leaves_stops_quietly(model: str) -> None:
    """`rosetta serve http -v | head`, the reader leaving while a client is served: the
    client's own flow of control finds no reader first; the server stops as on SIGINT, with 0
    and nothing on stderr."""
    proc = subprocess.Popen(
        [*ROSETTA, "serve", "http", "--port", "0", "--model", model, "-v"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        preexec_fn=_default_dispositions,
    )
    assert proc.stdout is not None and proc.stderr is not None
    try:
        match = LISTENING_LINE.match(proc.stdout.readline().decode().rstrip("\n"))
        assert match is not None
        address = (match["host"].strip("[]"), int(match["port"]))
        with socket.create_connection(address, timeout=10) as client:
            port = str(client.getsockname()[1]).encode()
            line = b"?"
            while line and port not in line:  # the console line for this client's arrival
                line = proc.stdout.readline()
            assert line, "no console line for the client"
            proc.stdout.close()  # the reader leaves
            client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # a line in its flow
            client.recv(1 << 16)

        def asked_and_stopped() -> bool:
            with contextlib.suppress(OSError), socket.create_connection(address, 2) as sock:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                sock.recv(1 << 16)
            return proc.poll() is not None

        assert wait_until(asked_and_stopped, timeout=20, interval=0.2), "still serving"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert proc.stderr.read().decode() == ""
