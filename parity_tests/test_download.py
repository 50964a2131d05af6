"""Parity of the download models: the same URL list, the same files, outcomes and summary.

Each model runs once through the CLI (`python -m rosetta download --json ...`, a subprocess,
so gevent's monkey-patching never reaches pytest) against the local fixture server, whose
URLs cover files of many sizes, duplicate and hostile names, 404, 500, a 500-then-200, a reset
and a short body, a stall past the timeout, redirects, a redirect loop, a redirect to ftp:,
and a refused connection. Every model is checked against one expected table, so all of them
agree with each other. Ctrl-C is tried on each model during slow downloads.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from rosetta import registry
from rosetta.download.report import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK
from rosetta.protocol.download import MAX_REDIRECTS, Kind
from tests.download.server_process import (
    TLS_CERT,
    FixtureServer,
    content,
    default_signals,
    running,
)

JOBS = 4
RETRIES = 2
TIMEOUT = 1.0
RUN_TIMEOUT = 90


@dataclass(frozen=True)
class Case:
    path: str  # on the fixture server
    saved_as: str  # expected file name ("" when the URL fails)
    kind: str = ""  # expected failure kind ("" when ok)
    source: tuple[str, int] | None = None  # (server-side name, size) of the expected bytes
    attempts: int = 1


def ok(path: str, saved_as: str, name: str, size: int, attempts: int = 1) -> Case:
    return Case(path, saved_as, "", (name, size), attempts)


def failed(path: str, kind: str, attempts: int = 1) -> Case:
    return Case(path, "", kind, None, attempts)


SLOW = "pieces=5&delay=0.1"
CASES = [
    *(
        ok(f"/files/s{size}.bin?size={size}", f"s{size}.bin", f"s{size}.bin", size)
        for size in (0, 1, 100, 4095, 4096, 65536, 65537, 1024 * 1024 + 3)
    ),
    ok("/files/dup.bin?size=10", "dup.bin", "dup.bin", 10),
    ok("/files/dup.bin?size=20", "dup-1.bin", "dup.bin", 20),
    ok("/files/?size=30", "index.html", "files", 30),  # the server names it by its path
    ok("/files/caf%C3%A9%20menu.txt?size=40", "café menu.txt", "café menu.txt", 40),
    ok("/files/..%2F..%2Fevil.txt?size=50", "_.._evil.txt", "../../evil.txt", 50),
    ok("/files/.hidden?size=60", "hidden", ".hidden", 60),
    ok("/chunked/chunked.bin?size=100000", "chunked.bin", "chunked.bin", 100000),
    *(
        ok(f"/slow/slow{n}.bin?size=20000&{SLOW}", f"slow{n}.bin", f"slow{n}.bin", 20000)
        for n in range(6)
    ),
    ok("/flaky/once/flaky.bin?size=5000&fail=1", "flaky.bin", "flaky.bin", 5000, attempts=2),
    ok("/redirect/4/moved.bin?size=300", "moved.bin", "moved.bin", 300),
    failed("/status/404/missing.bin", Kind.CLIENT_ERROR),
    failed("/status/403/forbidden.bin", Kind.CLIENT_ERROR),
    failed("/status/500/broken.bin", Kind.SERVER_ERROR, attempts=RETRIES + 1),
    failed("/status/503/busy.bin", Kind.SERVER_ERROR, attempts=RETRIES + 1),
    failed("/reset/reset.bin?size=100000", Kind.INCOMPLETE, attempts=RETRIES + 1),
    failed("/short/short.bin?size=1000", Kind.INCOMPLETE, attempts=RETRIES + 1),
    failed("/stall/stall.bin?size=5000", Kind.TIMEOUT, attempts=RETRIES + 1),
    failed("/loop/loop.bin", Kind.TOO_MANY_REDIRECTS),
    failed("/redirect-scheme/ftp.bin", Kind.BAD_REDIRECT),
]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Run:
    model: str
    code: int
    document: dict
    stderr: str
    directory: Path
    stats: dict
    urls: list[str]
    refused_url: str


@pytest.fixture(scope="module")
def download_server() -> Iterator[FixtureServer]:
    with running() as server:
        yield server


def rosetta_download(model: str, directory: Path, urls: list[str], *extra: str) -> list[str]:
    """`rosetta download` with the suite's options; later options (in `extra`) win."""
    command = [sys.executable, "-m", "rosetta", "download", "--model", model, "-o", str(directory)]
    options = ["-j", str(JOBS), "--retries", str(RETRIES), "--backoff", "0.05"]
    return [*command, *options, "--timeout", str(TIMEOUT), *extra, *urls]


@pytest.fixture(scope="module", params=[model.name for model in registry.serving("download")])
def run(
    request: pytest.FixtureRequest,
    download_server: FixtureServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Run:
    model: str = request.param
    directory = tmp_path_factory.mktemp("parity-download") / "out"
    refused_url = f"http://127.0.0.1:{closed_port()}/refused.bin"
    urls = [download_server.url(case.path) for case in CASES] + [refused_url]
    download_server.reset()
    result = subprocess.run(
        rosetta_download(model, directory, urls, "--json"),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    stats = download_server.stats()
    assert result.stdout.strip(), f"{model}: no output; stderr: {result.stderr[-2000:]}"
    return Run(
        model,
        result.returncode,
        json.loads(result.stdout),
        result.stderr,
        directory,
        stats,
        urls,
        refused_url,
    )


def test_exit_code_and_no_traceback(run: Run) -> None:
    assert run.code == EXIT_FAILED, run.stderr
    assert "Traceback" not in run.stderr


def test_same_outcome_for_every_url(run: Run) -> None:
    results = run.document["results"]
    assert [result["url"] for result in results] == run.urls
    for case, result in zip(CASES, results, strict=False):
        assert (result["ok"], result["kind"]) == (not case.kind, case.kind), (case.path, result)
        assert result["attempts"] == case.attempts, (case.path, result)
        if not case.kind:
            assert result["name"] == case.saved_as, case.path
    refused = results[-1]
    assert (refused["ok"], refused["kind"], refused["attempts"]) == (
        False,
        Kind.CONNECTION,
        RETRIES + 1,
    )


def test_same_files_with_the_right_bytes(run: Run) -> None:
    saved = {case.saved_as: case.source for case in CASES if not case.kind}
    assert sorted(path.name for path in run.directory.iterdir()) == sorted(saved)
    by_name = {result["name"]: result for result in run.document["results"] if result["ok"]}
    for name, source in saved.items():
        assert source is not None
        expected = hashlib.sha256(content(*source)).hexdigest()
        actual = hashlib.sha256((run.directory / name).read_bytes()).hexdigest()
        assert actual == expected, name
        assert by_name[name]["sha256"] == expected, name
        assert by_name[name]["bytes"] == source[1], name


def test_same_summary(run: Run) -> None:
    summary = run.document["summary"]
    good = [case for case in CASES if not case.kind]
    bad = [case for case in CASES if case.kind]
    assert summary["files"] == len(good)
    assert summary["failed"] == len(bad) + 1
    assert summary["cancelled"] == 0
    assert summary["bytes"] == sum(case.source[1] for case in good if case.source)
    assert summary["exit_code"] == EXIT_FAILED
    assert [(failure["url"], failure["kind"]) for failure in summary["failures"]] == [
        *((url, case.kind) for url, case in zip(run.urls, CASES, strict=False) if case.kind),
        (run.refused_url, Kind.CONNECTION),
    ]


def test_requests_in_flight_never_above_the_limit(run: Run) -> None:
    # The six slow bodies keep every slot busy for a while, so the limit is reached.
    assert run.stats["max_in_flight"] == JOBS, run.stats
    assert run.stats["in_flight"] == 0


def test_retries_and_redirects_seen_by_the_server(run: Run) -> None:
    requests = run.stats["requests"]
    assert requests["/status/404/missing.bin"] == 1  # 4xx: never retried
    assert requests["/status/500/broken.bin"] == RETRIES + 1
    assert requests["/flaky/once/flaky.bin"] == 2
    assert requests["/loop/a/loop.bin"] + requests["/loop/b/loop.bin"] == (MAX_REDIRECTS)


def test_no_part_files_left(run: Run) -> None:
    assert not [path for path in run.directory.iterdir() if path.name.endswith(".part")]


def interrupted_run(
    argv: list[str], ready: Callable[[], bool], signum: int
) -> tuple[int, str, str]:
    """Start `argv`, wait (30 s at most) until `ready()`, send `signum`, and give its exit
    code, stdout and stderr (20 s at most to stop)."""
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
        preexec_fn=default_signals,
    )
    try:
        deadline = time.monotonic() + 30
        while not ready():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the downloads never started"
            time.sleep(0.05)
        proc.send_signal(signum)
        stdout, stderr = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, stdout, stderr


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("model", [model.name for model in registry.serving("download")])
def test_ctrl_c_leaves_only_complete_files(
    model: str, signum: int, download_server: FixtureServer, tmp_path: Path
) -> None:
    fast = [download_server.url(f"/files/fast{n}.bin?size=3000") for n in range(3)]
    slow = [
        download_server.url(f"/slow/slow{n}.bin?size=200000&pieces=100&delay=0.05")
        for n in range(6)
    ]
    directory = tmp_path / "out"

    def started() -> bool:
        parts = list(directory.glob("*.part")) if directory.is_dir() else []
        return len(parts) >= 2 and all((directory / f"fast{n}.bin").exists() for n in range(3))

    argv = rosetta_download(model, directory, fast + slow, "--json")
    code, stdout, stderr = interrupted_run(argv, started, signum)
    assert code == EXIT_INTERRUPTED, stderr
    assert "Traceback" not in stderr
    assert sorted(path.name for path in directory.iterdir()) == [f"fast{n}.bin" for n in range(3)]
    for n in range(3):
        assert (directory / f"fast{n}.bin").read_bytes() == content(f"fast{n}.bin", 3000)
    summary = json.loads(stdout)["summary"]
    assert summary["files"] == 3
    assert summary["cancelled"] == 6
    assert summary["exit_code"] == EXIT_INTERRUPTED


@pytest.fixture(scope="module")
def tls_server() -> Iterator[FixtureServer]:
    with running(tls=True) as server:
        yield server


@pytest.mark.parametrize("model", [model.name for model in registry.serving("download")])
def test_https_with_a_trusted_and_an_unknown_certificate(
    model: str, tls_server: FixtureServer, tmp_path: Path
) -> None:
    urls = [
        tls_server.url("/files/secure.bin?size=70000"),
        tls_server.url("/redirect/2/moved.bin?size=500"),
    ]
    environment = {key: value for key, value in os.environ.items() if key != "SSL_CERT_FILE"}
    trusted = subprocess.run(
        rosetta_download(model, tmp_path / "trusted", urls, "--json"),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        stdin=subprocess.DEVNULL,
        env={**environment, "SSL_CERT_FILE": str(TLS_CERT)},
    )
    assert trusted.returncode == EXIT_OK, trusted.stdout + trusted.stderr
    assert (tmp_path / "trusted" / "secure.bin").read_bytes() == content("secure.bin", 70000)
    assert (tmp_path / "trusted" / "moved.bin").read_bytes() == content("moved.bin", 500)

    refused = subprocess.run(
        rosetta_download(model, tmp_path / "refused", urls[:1], "--json"),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        stdin=subprocess.DEVNULL,
        env=environment,
    )
    assert refused.returncode == EXIT_FAILED, refused.stderr
    (result,) = json.loads(refused.stdout)["results"]
    assert (result["kind"], result["attempts"]) == (Kind.TLS, 1)  # never retried
    assert result["detail"] == "certificate refused: self-signed certificate"
    assert list((tmp_path / "refused").iterdir()) == []


@pytest.mark.parametrize("model", [model.name for model in registry.serving("download")])
def test_ctrl_c_wakes_transfers_stuck_on_a_silent_server(
    model: str, download_server: FixtureServer, tmp_path: Path
) -> None:
    """Reads blocked on a server that sends nothing end at Ctrl-C, not at --timeout (60 s):
    a thread cannot be interrupted, so the threads model shuts its sockets down."""
    stalled = [download_server.url(f"/stall/stuck{n}.bin?size=5000") for n in range(JOBS)]
    directory = tmp_path / "out"
    command = [sys.executable, "-m", "rosetta", "download", "--model", model, "-o", str(directory)]
    argv = [*command, "-j", str(JOBS), "--timeout", "60", "--json", *stalled]

    def stalled_all() -> bool:
        return directory.is_dir() and len(list(directory.glob("*.part"))) == JOBS

    # The signal is answered far sooner than --timeout: interrupted_run waits 20 s at most.
    code, stdout, stderr = interrupted_run(argv, stalled_all, signal.SIGINT)
    assert code == EXIT_INTERRUPTED, stderr
    assert list(directory.iterdir()) == []
    assert json.loads(stdout)["summary"]["cancelled"] == JOBS
