"""rosetta.launch: a server is ready on its listening line, its failures say why, stop() tells
its exit status."""

from __future__ import annotations

import resource
import signal
import sys
import time

import pytest

from rosetta import launch
from rosetta.net import listening_line


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def pretend_server(sockname: tuple[str, int], then: str = "") -> list[str]:
    line = listening_line("tcp", sockname, "pretend", 1)
    return python(
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, lambda *_: sys.exit(7))\n"
        f"{then}\n"
        f"print({line!r}, flush=True)\n"
        "print('chatter ' * 100000, flush=True)\n"
        "time.sleep(60)\n"
    )


@pytest.mark.parametrize(
    ("sockname", "host", "url"),
    [
        (("127.0.0.1", 4242), "127.0.0.1", "http://127.0.0.1:4242/x"),
        (("::1", 4243, 0, 0), "::1", "http://[::1]:4243/x"),
    ],
)
def test_the_address_comes_from_the_listening_line(sockname: tuple, host: str, url: str) -> None:
    server = launch.start_command(pretend_server(sockname), "pretend")
    try:
        assert server.address == (host, sockname[1])
        assert server.url("/x") == url
        # A chatty server never blocks on a pipe: all 800 KB of its chatter arrive while it
        # runs (waited for, so that the stop below cannot cut the print short).
        deadline = time.monotonic() + 10
        while server.stdout().count("chatter") < 100000 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.stdout().count("chatter") == 100000
        assert server.alive()
    finally:
        assert server.stop() == 7  # its own exit status, passed on
    assert server.stop() == 7  # stopping twice changes nothing


def test_a_command_that_exits_before_listening_says_what_it_printed() -> None:
    with pytest.raises(launch.LaunchError, match="exited with 3 before listening: no port"):
        launch.start_command(
            python("import sys; print('no port', file=sys.stderr); sys.exit(3)"), "quitter"
        )


def test_a_first_line_that_is_not_the_listening_line_is_refused() -> None:
    with pytest.raises(launch.LaunchError, match="not the ready line: 'hello'"):
        launch.start_command(
            python("import time; print('hello', flush=True); time.sleep(30)"), "greeter"
        )


def test_a_silent_command_times_out() -> None:
    started = time.monotonic()
    with pytest.raises(launch.LaunchError, match=r"no ready line within 0\.3s"):
        launch.start_command(python("import time; time.sleep(30)"), "mute", timeout=0.3)
    assert time.monotonic() - started < 10


def test_a_server_that_ignores_sigterm_is_killed_and_reported() -> None:
    argv = pretend_server(("127.0.0.1", 1), then="signal.signal(signal.SIGTERM, signal.SIG_IGN)")
    server = launch.start_command(argv, "stubborn")
    with pytest.raises(launch.LaunchError, match=r"did not stop within 0\.3s of signal"):
        server.stop(signal.SIGTERM, timeout=0.3)
    assert not server.alive()


def test_a_model_starts_and_stops_cleanly() -> None:
    with launch.running("echo", "classic.epoll_server", extra=["-q"]) as server:
        assert server.ready_line.startswith("rosetta: listening on tcp://127.0.0.1:")
        assert server.pid == server.proc.pid
        assert launch.resident_bytes(server.pid) > 0
    assert server.proc.returncode == 0


def test_starting_raises_the_soft_open_files_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, 256), hard))
        assert launch.raise_open_file_limit() == hard
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_wait_until() -> None:
    calls = []
    assert launch.wait_until(lambda: calls.append(1) or len(calls) >= 3, timeout=5)
    assert len(calls) == 3
    assert not launch.wait_until(lambda: False, timeout=0.05)
    assert launch.model_label("m", {"b": "2", "a": "1"}) == "m[a=1,b=2]"
