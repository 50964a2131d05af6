"""`rosetta serve`'s static-site options: grouped in --help, refused for echo, checked early."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def _rosetta(*words: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rosetta", *words], capture_output=True, text=True, timeout=60
    )


def test_help_groups_the_static_site_options() -> None:
    result = _rosetta("serve", "--help")
    assert result.returncode == 0
    group = result.stdout.split("static site (http only):", 1)[1]
    options = ("--listing", "--listing-hidden", "--access-log", "--log-format", "--certfile")
    for option in (*options, "--keyfile"):
        assert option in group


@pytest.mark.parametrize(
    "option",
    [
        ("--listing",),
        ("--listing-hidden",),
        ("--access-log", "-"),
        ("--log-format", "common"),
        ("--certfile", "cert.pem"),
        ("--keyfile", "key.pem"),
    ],
)
def test_static_site_options_are_a_usage_error_for_echo(option: tuple[str, ...]) -> None:
    result = _rosetta("serve", "echo", "--port", "0", *option)
    assert result.returncode == 2
    assert result.stderr.startswith("rosetta: error: " + option[0])
    assert result.stderr.count("\n") == 1


def test_log_format_needs_an_access_log() -> None:
    result = _rosetta("serve", "http", "--port", "0", "--log-format", "common")
    assert result.returncode == 2
    assert "--log-format needs --access-log" in result.stderr


def test_an_unwritable_access_log_is_a_usage_error(tmp_path: Path) -> None:
    result = _rosetta("serve", "http", "--port", "0", "--access-log", str(tmp_path / "no/x.log"))
    assert result.returncode == 2
    assert "cannot write the access log" in result.stderr
    assert "Traceback" not in result.stderr
