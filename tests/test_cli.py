"""The command line as a user meets it: listings, errors in one line, signals, defaults."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from parity_tests.clients import echo_roundtrip
from parity_tests.harness import assert_clean_stop, start_server
from rosetta import registry
from rosetta.site import BUNDLED_SITE

ROSETTA = [sys.executable, "-m", "rosetta"]


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ROSETTA, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0]
    assert result.stdout == ""


def test_models_table_lists_every_model_and_counterpart() -> None:
    result = run("models")
    assert result.returncode == 0
    for model in registry.MODELS:
        assert model.name in result.stdout
        for counterpart in model.counterparts:
            assert counterpart in result.stdout


def test_models_json() -> None:
    result = run("models", "--json")
    assert result.returncode == 0
    rows = json.loads(result.stdout)
    assert [row["name"] for row in rows] == [model.name for model in registry.MODELS]
    for row in rows:
        model = registry.get(row["name"])
        assert set(row["jobs"]) == set(model.jobs)
        assert row["counterpart"] == list(model.counterparts)
        assert row["available"] is True  # every dependency is installed by the project
    names = {row["name"] for row in rows}
    for row in rows:
        assert set(row["counterpart"]) <= names, f"{row['name']} names an unknown counterpart"


def test_registry_modules_exist_and_serve_their_jobs() -> None:
    functions = {"echo": "serve_echo", "http": "serve_http"}
    for model in registry.MODELS:
        module = model.load()
        for job in model.jobs & functions.keys():
            assert callable(getattr(module, functions[job])), (model.name, job)


def test_unknown_model() -> None:
    assert_one_line_error(run("serve", "echo", "--model", "classic.nope"), "unknown model")


def test_model_that_does_not_serve_the_job() -> None:
    not_echo = next(model for model in registry.MODELS if "echo" not in model.jobs)
    assert_one_line_error(
        run("serve", "echo", "--model", not_echo.name, "--port", "0"), "does not serve echo"
    )


def test_option_the_model_does_not_take() -> None:
    assert_one_line_error(
        run("serve", "echo", "--model", "classic.blocking", "--loop", "asyncio", "--port", "0"),
        "no --loop option",
    )


def test_missing_root(tmp_path: Path) -> None:
    assert_one_line_error(
        run("serve", "http", "--root", str(tmp_path / "nowhere"), "--port", "0"),
        "not a directory",
    )


@pytest.mark.parametrize("model", ["classic.blocking", "modern.streams"])
def test_port_in_use(model: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("serve", "echo", "--model", model, "--port", str(port))
    assert_one_line_error(result, "cannot listen", str(port))


@pytest.mark.parametrize(
    "argv",
    [
        ["serve", "echo", "--port", "70000"],
        ["serve", "echo", "--port", "-1"],
        ["serve", "echo", "--port", "http"],
        ["serve", "echo", "--bogus"],
        ["serve", "ftp"],
        [],
    ],
    ids=["port-too-big", "port-negative", "port-word", "unknown-flag", "unknown-job", "nothing"],
)
def test_usage_mistakes_are_one_line(argv: list[str]) -> None:
    assert_one_line_error(run(*argv), "error")


def test_unresolvable_host() -> None:
    assert_one_line_error(run("serve", "echo", "--host", "no.such.host.invalid", "--port", "0"))


@pytest.mark.parametrize("model", ["classic.blocking", "modern.streams"])
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signals_stop_cleanly(model: str, signum: int) -> None:
    server = start_server("echo", model)
    with socket.create_connection(server.address, timeout=5) as client:
        client.sendall(b"hi")
        assert client.recv(2) == b"hi"
        assert server.stop(signum) == 0
    assert "Traceback" not in server.stderr()


@pytest.mark.parametrize("model", ["classic.blocking", "modern.streams"])
def test_ipv6_host(model: str) -> None:
    server = start_server("echo", model, host="::1")
    try:
        assert server.ready_line.startswith("rosetta: listening on tcp://[::1]:")
        assert echo_roundtrip(server.address, b"over six") == b"over six"
    finally:
        assert_clean_stop(server)


def test_quiet_and_verbose_volumes() -> None:
    quiet = start_server("echo", "classic.blocking", extra=["--quiet"])
    verbose = start_server("echo", "classic.blocking", extra=["--verbose"])
    try:
        for server in (quiet, verbose):
            assert echo_roundtrip(server.address, b"course line") == b"course line"
    finally:
        assert_clean_stop(quiet)
        assert_clean_stop(verbose)
    assert quiet.stdout().splitlines() == [quiet.ready_line]
    lines = verbose.stdout().splitlines()
    assert any(line.startswith("now serving [") for line in lines)
    assert any(line.startswith("recv[(") and line.endswith(":course line") for line in lines)
    assert any(line.endswith("client closed") for line in lines)


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def test_default_http_server_serves_the_bundled_site_on_7890() -> None:
    proc = subprocess.Popen(
        [*ROSETTA, "serve", "http"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("rosetta: listening on http://127.0.0.1:7890 ("), line
        assert fetch("http://127.0.0.1:7890/") == (BUNDLED_SITE / "index.html").read_bytes()
        png = fetch("http://127.0.0.1:7890/images/rosetta.png")
        assert png == (BUNDLED_SITE / "images" / "rosetta.png").read_bytes()
    finally:
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=15)
    assert proc.returncode == 0
    assert "Traceback" not in stderr


@pytest.mark.parametrize(
    ("module", "job", "port"),
    [("classic.blocking", "echo", 7788), ("modern.streams", "http", 7890)],
)
def test_python_dash_m_uses_the_course_defaults(module: str, job: str, port: int) -> None:
    argv = [sys.executable, "-m", module] + (["http"] if job == "http" else [])
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        scheme = "tcp" if job == "echo" else "http"
        assert line.startswith(
            f"rosetta: listening on {scheme}://127.0.0.1:{port} (model={module}, "
        ), line
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=15)
    assert proc.returncode == 0, stderr
