"""The command line as a user meets it: listings, errors in one line, signals, defaults."""

from __future__ import annotations

import argparse
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
from rosetta import cli, launch, registry
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
        assert row["tls"] is model.tls
    names = {row["name"] for row in rows}
    for row in rows:
        assert set(row["counterpart"]) <= names, f"{row['name']} names an unknown counterpart"


# Run in a fresh interpreter: importing classic.gevent_server monkey-patches the process that
# imports it (threads, sockets, selectors), which would leak into every later test.
_SERVE_FUNCTIONS_MISSING = """
from rosetta import registry
functions = {"echo": "serve_echo", "http": "serve_http"}
for model in registry.MODELS:
    module = model.load()
    for job in sorted(model.jobs & functions.keys()):
        if not callable(getattr(module, functions[job], None)):
            print(model.name, job)
"""


def test_registry_modules_exist_and_serve_their_jobs() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _SERVE_FUNCTIONS_MISSING], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""


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


# -- start-up pays only for what runs ------------------------------------------------------

HEAVY = ("aiohttp", "rich", "libcst", "gevent", "greenlet", "uvloop")


def imported_top_level(importtime_report: str) -> set[str]:
    """Top-level package names in a `python -X importtime` report."""
    names = set()
    for line in importtime_report.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".", 1)[0])
    return names


def test_imported_top_level_reads_an_importtime_report() -> None:
    report = (
        "import time: self [us] | cumulative | imported package\n"
        "import time:       120 |        120 |   aiohttp.web\n"
        "import time:        80 |        200 | rosetta.cli\n"
    )
    assert imported_top_level(report) == {"imported package", "aiohttp", "rosetta"}


@pytest.mark.parametrize(
    ("job", "model", "allowed"),
    [
        ("echo", "classic.blocking", set()),
        ("http", "classic.epoll_server", set()),
        ("http", "modern.protocol", {"uvloop"}),
    ],
)
def test_serve_imports_only_what_the_model_needs(job: str, model: str, allowed: set[str]) -> None:
    argv = launch.serve_command(job, model, python=[sys.executable, "-X", "importtime"])
    server = launch.start_command(argv, model)
    try:
        if job == "echo":
            assert echo_roundtrip(server.address, b"x") == b"x"
        else:
            assert fetch(server.url("/")) == (BUNDLED_SITE / "index.html").read_bytes()
    finally:
        assert server.stop() == 0
    imported = imported_top_level(server.stderr())
    assert "rosetta" in imported and model.split(".")[0] in imported
    assert imported & set(HEAVY) == allowed


@pytest.mark.parametrize(
    ("argv", "allowed"),
    [
        (["models", "--json"], set()),
        (["serve", "--help"], set()),
        (["--help"], set()),
        (["demo", "--help"], set()),
        (["download", "--help"], {"aiohttp", "rich", "gevent", "greenlet", "uvloop"}),
        (["migrate", "--help"], {"libcst", "rich"}),
    ],
)
def test_each_sub_command_imports_only_its_own_stack(argv: list[str], allowed: set[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "rosetta", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    imported = imported_top_level(result.stderr)
    assert imported & set(HEAVY) <= allowed
    assert not imported & {"classic", "modern"}


def test_every_feature_command_registers_itself_when_chosen() -> None:
    for name in cli.FEATURE_COMMANDS:
        parser = cli.build_parser([name])
        commands = next(
            action for action in parser._actions if isinstance(action, argparse._SubParsersAction)
        )
        chosen = commands.choices[name]
        assert chosen.get_default("handler") is not None, name
        # The others stay placeholders: listed, never imported.
        assert all(
            commands.choices[other].get_default("handler") is None
            for other in cli.FEATURE_COMMANDS
            if other != name
        )


def test_help_lists_every_sub_command() -> None:
    result = run("--help")
    assert result.returncode == 0
    for name in ("models", "serve", *cli.FEATURE_COMMANDS):
        assert f"\n    {name} " in result.stdout, name


def test_a_listed_feature_module_that_is_missing_is_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    missing = cli.FeatureCommand("rosetta.no_such_feature", "not there")
    monkeypatch.setitem(cli.FEATURE_COMMANDS, "nothing", missing)
    with pytest.raises(ModuleNotFoundError, match=r"rosetta\.no_such_feature"):
        cli.build_parser(["nothing"])
    cli.build_parser(["serve"])  # not chosen: listed only, so nothing to import


@pytest.mark.parametrize("columns", ["", "60", "200", "0", "wide"])
def test_help_is_as_wide_as_shutil_would_make_it(
    columns: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from rosetta import usage

    monkeypatch.setenv("COLUMNS", columns)
    usage.help_width.cache_clear()
    try:
        assert usage.help_width() == shutil.get_terminal_size().columns - 2
    finally:
        usage.help_width.cache_clear()
