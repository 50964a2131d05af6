"""`--workers N` (modern._workers): pre-forked workers on one port, supervised.

Both ways of sharing the port are tested: SO_REUSEPORT (the default here, Linux) and one
listening socket inherited by every worker (`ROSETTA_WORKERS_SHARING=listener`, what platforms
without SO_REUSEPORT get).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from parity_tests.clients import echo_roundtrip, get
from parity_tests.harness import ServerProcess, assert_clean_stop, server_command, start_server
from rosetta import registry

SHARING = ["reuseport", "listener"]
WAIT = 10.0


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("workers-site")
    (site / "index.html").write_bytes(b"<h1>workers</h1>\n")
    (site / "hello.txt").write_bytes(b"hello from a worker\n")
    return site


def children(pid: int) -> set[int]:
    """Live (not zombie) processes whose parent is `pid`."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it ended while we looked
        state, parent = fields[0], int(fields[1])
        if parent == pid and state != "Z":
            found.add(int(entry))
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def listening(pid: int, port: int) -> bool:
    """Whether `pid` holds a socket listening on `port` (/proc/net/tcp state 0A)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            for row in list(rows)[1:]:
                fields = row.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{fields[9]}]")
    try:
        descriptors = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for descriptor in descriptors:
        try:
            if os.readlink(f"/proc/{pid}/fd/{descriptor}") in inodes:
                return True
        except OSError:
            continue
    return False


def wait_for(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"not within {WAIT} s: {what}")


def start(model: str, job: str, sharing: str, root: Path, workers: int = 2) -> ServerProcess:
    return start_server(
        job,
        model,
        {"workers": str(workers)},
        root=root if job == "http" else None,
        env={"ROSETTA_WORKERS_SHARING": sharing},
    )


def assert_serves(server: ServerProcess) -> None:
    if server.job == "http":
        for _ in range(6):
            response = get(server.address, "/hello.txt")
            assert response.status == 200
            assert response.body == b"hello from a worker\n"
    else:
        for size in (1, 100_000):
            payload = os.urandom(size)
            assert echo_roundtrip(server.address, payload) == payload


def worker_models() -> list[tuple[str, str]]:
    return [
        (model.name, job)
        for model in registry.MODELS
        if "workers" in model.options
        for job in ("echo", "http")
        if job in model.jobs
    ]


@pytest.mark.parametrize("sharing", SHARING)
@pytest.mark.parametrize(("model", "job"), worker_models())
def test_every_modern_server_serves_with_two_workers(
    model: str, job: str, sharing: str, root: Path
) -> None:
    server = start(model, job, sharing, root)
    try:
        assert server.stdout().count("rosetta: listening on") == 1
        # The ready line is the supervisor's, with the shared port.
        assert f"pid={server.proc.pid})" in server.ready_line
        assert len(children(server.proc.pid)) == 2
        assert_serves(server)
    finally:
        assert_clean_stop(server)


@pytest.mark.parametrize("sharing", SHARING)
def test_a_killed_worker_is_replaced_and_sigterm_stops_all(sharing: str, root: Path) -> None:
    server = start("modern.sockets", "http", sharing, root)
    supervisor = server.proc.pid
    try:
        first = children(supervisor)
        assert len(first) == 2
        assert_serves(server)
        # Kill the workers one after the other: each time a new one takes its place, and
        # once both are replaced, whatever answers is a process that did not exist before.
        for victim in sorted(first):
            os.kill(victim, signal.SIGKILL)
            wait_for(
                lambda victim=victim: (
                    victim not in children(supervisor)
                    and len(children(supervisor)) == 2
                    and all(listening(pid, server.port) for pid in children(supervisor))
                ),
                f"worker {victim} replaced by one that listens",
            )
            assert_serves(server)
        now = children(supervisor)
        assert not now & first
        assert_serves(server)
        for victim in first:
            assert f"worker {victim} exited (SIGKILL); started worker" in server.stderr()
    finally:
        code = server.stop(signal.SIGTERM)
    assert code == 0, server.stderr()
    assert "Traceback" not in server.stderr()
    # No worker outlives the supervisor.
    assert not [pid for pid in now if alive(pid)]


def test_sigint_stops_all_too(root: Path) -> None:
    server = start("modern.streams", "echo", "reuseport", root, workers=3)
    workers = children(server.proc.pid)
    assert len(workers) == 3
    assert_serves(server)
    assert server.stop(signal.SIGINT) == 0, server.stderr()
    assert not [pid for pid in workers if alive(pid)]


def test_port_in_use_is_one_line_and_exit_2(root: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        argv = server_command("http", "modern.sockets", {"workers": "2"}, root=root)
        argv[argv.index("--port") + 1] = str(port)
        result = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("rosetta: error: cannot listen on 127.0.0.1:")
    assert result.stderr.count("\n") == 1


def test_one_worker_is_the_plain_server(root: Path) -> None:
    server = start("modern.sockets", "echo", "reuseport", root, workers=1)
    try:
        assert children(server.proc.pid) == set()
        assert_serves(server)
    finally:
        assert_clean_stop(server)


SUPERVISED_SCRIPT = """
import os, sys, time
from modern._workers import Supervisor

flag = sys.argv[1]

def work(ready):
    if os.path.exists(flag):
        os._exit(3)  # a replacement that cannot start
    ready(("127.0.0.1", 0))
    time.sleep(60)

Supervisor("127.0.0.1", 0, 2, work).run(lambda sockname: print("ready", flush=True))
"""


def test_a_replacement_that_cannot_start_stops_everything(tmp_path: Path) -> None:
    flag = tmp_path / "crash"
    proc = subprocess.Popen(
        [sys.executable, "-c", SUPERVISED_SCRIPT, str(flag)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "ready\n"
        workers = children(proc.pid)
        assert len(workers) == 2
        flag.touch()
        os.kill(min(workers), signal.SIGKILL)
        _, stderr = proc.communicate(timeout=WAIT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1
    assert "exited (exit code 3) before listening; stopping" in stderr
    assert "Traceback" not in stderr
    assert not [pid for pid in workers if alive(pid)]
