"""`rosetta download` as a user meets it: argument errors, output, exit codes, a terminal."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from rosetta import cli
from rosetta.download import report
from rosetta.usage import EXIT_USAGE
from tests.download.server_process import FixtureServer, content

RUN_TIMEOUT = 60


def rosetta(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rosetta", "download", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )


def run_in_process(argv: list[str]) -> int:
    try:
        return cli.main(argv)
    except SystemExit as stop:
        return int(stop.code or 0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ftp://127.0.0.1/a"], "unsupported URL scheme (ftp:)"),
        (["127.0.0.1/a"], "unsupported URL scheme (no scheme)"),
        ([], "no URLs given"),
        (["-j", "0", "{url}"], "must be 1 to 1024"),
        (["-j", "many", "{url}"], "not a whole number"),
        (["--timeout", "soon", "{url}"], "not a number of seconds"),
        (["--timeout", "nan", "{url}"], "must be"),
        (["--retries", "-1", "{url}"], "must be 0 to 20"),
        (["--input-file", "{missing}"], "input file not found"),
        (["--input-file", "{bad_list}"], "bad_list.txt:2: unsupported URL scheme"),
        (["-o", "{a_file}", "{url}"], "not a directory"),
        (["--model", "classic.nope", "{url}"], "unknown model"),
        (["--model", "classic.blocking", "{url}"], "does not serve download"),
        (["--check-remote", "{url}"], "--check-remote needs -c/--continue"),
        (["--checksums", "{missing}", "{url}"], "cannot read checksums"),
        (["--checksums", "{bad_list}", "{url}"], "bad_list.txt:1: not a sha256sum line"),
        (["--shard", "3/2", "{url}"], "K must be 1 to N"),
        (["--limit-rate", "fast", "{url}"], "not a rate like 500K"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    args: list[str],
    message: str,
    server: FixtureServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "bad_list.txt").write_text(f"{server.url('/files/a')}\nfile:///etc/passwd\n")
    (tmp_path / "a_file").write_text("")
    values = {
        "url": server.url("/files/a.bin"),
        "missing": str(tmp_path / "missing.txt"),
        "bad_list": str(tmp_path / "bad_list.txt"),
        "a_file": str(tmp_path / "a_file"),
    }
    argv = ["download", "-o", str(tmp_path / "out"), *(arg.format(**values) for arg in args)]
    assert run_in_process(argv) == EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.err.startswith("rosetta: error: ")
    assert captured.err.count("\n") == 1, captured.err
    assert message in captured.err
    assert server.stats()["count"] == 0  # nothing fetched before the arguments are right


def test_all_saved_plain_lines_and_summary(server: FixtureServer, tmp_path: Path) -> None:
    urls = [server.url(f"/files/p{n}.bin?size={1000 * n}") for n in range(1, 4)]
    result = rosetta("-o", str(tmp_path), *urls)
    assert result.returncode == report.EXIT_OK, result.stderr
    lines = result.stdout.splitlines()
    assert sorted(lines[:3]) == sorted(
        f"saved p{n}.bin ({report.human_bytes(1000 * n)}) from {url}"
        for n, url in enumerate(urls, start=1)
    )
    assert lines[3].startswith("3 of 3 files downloaded, 5.9 KiB in ")
    assert len(lines) == 4
    assert result.stderr == ""
    for n in range(1, 4):
        assert (tmp_path / f"p{n}.bin").read_bytes() == content(f"p{n}.bin", 1000 * n)


def test_some_failed_exit_1_with_reasons(server: FixtureServer, tmp_path: Path) -> None:
    good, missing = server.url("/files/ok.bin?size=10"), server.url("/status/404/no.bin")
    result = rosetta("-o", str(tmp_path), "--retries", "3", good, missing)
    assert result.returncode == report.EXIT_FAILED
    assert f"failed {missing}: http-error: HTTP 404 Not Found" in result.stdout.splitlines()
    assert result.stdout.splitlines()[-2:] == [
        result.stdout.splitlines()[-2],
        f"  {missing}: http-error: HTTP 404 Not Found",
    ]
    assert "1 of 2 files downloaded" in result.stdout
    assert "; 1 failed:" in result.stdout
    assert server.stats()["requests"]["/status/404/no.bin"] == 1
    assert sorted(path.name for path in tmp_path.iterdir()) == ["ok.bin"]


def test_verbose_prints_the_course_lines(server: FixtureServer, tmp_path: Path) -> None:
    urls = [server.url(f"/files/v{n}.bin?size={n + 1}") for n in range(3)]
    result = rosetta("-o", str(tmp_path), "--verbose", *urls)
    assert result.returncode == report.EXIT_OK
    lines = result.stdout.splitlines()
    for n, url in enumerate(urls):
        get, received = f"GET: {url}", f"{n + 1} bytes received from {url}."
        assert lines.count(get) == 1 and lines.count(received) == 1
        assert lines.index(get) < lines.index(received)


def test_input_file_and_stdin(server: FixtureServer, tmp_path: Path) -> None:
    listing = tmp_path / "urls.txt"
    listing.write_text(
        f"# two files\n{server.url('/files/i1.bin')}\n\n{server.url('/files/i2.bin')}\n"
    )
    result = rosetta(
        "-o", str(tmp_path / "a"), "--input-file", str(listing), server.url("/files/i0.bin")
    )
    assert result.returncode == report.EXIT_OK
    assert sorted(path.name for path in (tmp_path / "a").iterdir()) == [
        "i0.bin",
        "i1.bin",
        "i2.bin",
    ]
    result = rosetta("-o", str(tmp_path / "b"), "-i", "-", stdin=listing.read_text())
    assert result.returncode == report.EXIT_OK
    assert sorted(path.name for path in (tmp_path / "b").iterdir()) == ["i1.bin", "i2.bin"]


def test_json_document(server: FixtureServer, tmp_path: Path) -> None:
    urls = [server.url("/redirect/2/j.bin?size=123"), server.url("/status/500/e.bin")]
    result = rosetta("-o", str(tmp_path), "--json", "--retries", "1", "--backoff", "0", *urls)
    assert result.returncode == report.EXIT_FAILED
    document = json.loads(result.stdout)  # nothing but the document on stdout
    assert document["model"] == "modern.protocol_download"  # the default
    saved, failed = document["results"]
    assert saved["ok"] and saved["name"] == "j.bin" and saved["bytes"] == 123
    assert saved["final_url"] == server.url("/files/j.bin?size=123")
    assert saved["status"] == 200 and saved["attempts"] == 1
    assert (failed["ok"], failed["kind"], failed["status"], failed["attempts"]) == (
        False,
        "server-error",
        500,
        2,
    )
    assert document["summary"]["exit_code"] == report.EXIT_FAILED
    assert document["summary"]["files"] == 1 and document["summary"]["bytes"] == 123


def test_failures_keep_the_existing_file_and_successes_replace_it(
    server: FixtureServer, tmp_path: Path
) -> None:
    (tmp_path / "r.bin").write_bytes(b"old r")
    (tmp_path / "f.bin").write_bytes(b"old f")
    result = rosetta(
        "-o",
        str(tmp_path),
        "--retries",
        "0",
        server.url("/reset/r.bin?size=9000"),
        server.url("/files/f.bin?size=7"),
    )
    assert result.returncode == report.EXIT_FAILED
    assert (tmp_path / "r.bin").read_bytes() == b"old r"
    assert (tmp_path / "f.bin").read_bytes() == content("f.bin", 7)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["f.bin", "r.bin"]


def test_progress_bar_on_a_terminal(server: FixtureServer, tmp_path: Path) -> None:
    urls = [server.url(f"/slow/t{n}.bin?size=5000&pieces=3&delay=0.1") for n in range(4)]
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rosetta",
            "download",
            "-o",
            str(tmp_path),
            server.url("/status/404/gone.bin"),
            *urls,
        ],
        stdout=secondary,
        stderr=secondary,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "COLUMNS": "100", "TERM": "xterm"},
    )
    os.close(secondary)
    screen = b""
    deadline = time.monotonic() + RUN_TIMEOUT
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([primary], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(primary, 65536)
                except OSError:  # the terminal closed: the program is done
                    break
                if not chunk:
                    break
                screen += chunk
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=RUN_TIMEOUT)
    finally:
        os.close(primary)
        if proc.poll() is None:
            proc.kill()
    text = screen.decode(errors="replace")
    assert code == report.EXIT_FAILED
    assert "downloading" in text and "5/5" in text  # the bar, and how far it got
    assert "1 failed" in text
    assert f"failed {server.url('/status/404/gone.bin')}" in text  # printed above the bar
    assert "saved t0.bin" not in text  # per-file lines are for pipes, not terminals
    assert "4 of 5 files downloaded" in text


def test_gevent_model_never_patches_the_calling_process(
    server: FixtureServer, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    from gevent import monkey

    code = cli.main(
        [
            "download",
            "--model",
            "classic.gevent_download",
            "-o",
            str(tmp_path),
            server.url("/files/g.bin?size=99"),
        ]
    )
    assert code == report.EXIT_OK
    assert (tmp_path / "g.bin").read_bytes() == content("g.bin", 99)
    assert not monkey.is_module_patched("socket")
    assert not monkey.saved  # nothing was ever patched here
    assert "1 of 1 files downloaded" in capfd.readouterr().out


def test_gevent_model_prints_the_course_lines_in_the_course_order(
    server: FixtureServer, tmp_path: Path
) -> None:
    """§9c: every greenlet is spawned before any runs, so all GET lines come first; the
    'received' lines follow in completion order."""
    urls = [
        server.url(f"/slow/c{n}.bin?size={1000 * (n + 1)}&pieces=2&delay=0.1") for n in range(3)
    ]
    result = rosetta("--model", "classic.gevent_download", "--verbose", "-o", str(tmp_path), *urls)
    assert result.returncode == report.EXIT_OK, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:3] == [f"GET: {url}" for url in urls]
    assert sorted(lines[3:6]) == sorted(
        f"{1000 * (n + 1)} bytes received from {url}." for n, url in enumerate(urls)
    )
    assert lines[6].startswith("3 of 3 files downloaded")


HEAVY = ("aiohttp", "gevent", "rich", "libcst", "uvloop")
LOADED_AFTER = """
import sys
from rosetta import cli
code = cli.main(sys.argv[1:]) if len(sys.argv) > 1 else cli.build_parser()
print("loaded:", " ".join(name for name in {heavy!r} if name in sys.modules), file=sys.stderr)
"""


def heavy_modules_loaded(*argv: str, names: Sequence[str] = HEAVY) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", LOADED_AFTER.format(heavy=tuple(names)), *argv],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    return set(result.stderr.rsplit("loaded:", 1)[1].split())


@pytest.mark.parametrize(
    ("model", "stack"),
    [
        ("classic.threads_download", set()),
        ("modern.aiohttp_download", {"aiohttp", "uvloop"}),
        ("modern.protocol_download", {"uvloop"}),  # the default: no aiohttp
        ("classic.gevent_download", set()),  # gevent is imported by its own process only
    ],
)
def test_a_run_imports_only_its_models_stack(
    model: str, stack: set[str], server: FixtureServer, tmp_path: Path
) -> None:
    assert heavy_modules_loaded() == set()  # the command line alone, every command registered
    url = server.url("/files/light.bin?size=10")
    argv = ["download", "--model", model, "-o", str(tmp_path), url]
    assert heavy_modules_loaded(*argv) == stack  # no rich either: output is a pipe
    assert (tmp_path / "light.bin").read_bytes() == content("light.bin", 10)


def test_a_run_starts_without_what_only_a_refusal_or_help_would_use(
    server: FixtureServer, tmp_path: Path
) -> None:
    # `http` (its status table describes a refused answer) and `shutil` (argparse's way to
    # the terminal's width; it loads the archive modules) cost a start-up they do not serve.
    url = server.url("/files/light.bin?size=10")
    argv = ["download", "--model", "modern.protocol_download", "-o", str(tmp_path), url]
    assert heavy_modules_loaded(*argv, names=("http", "shutil", "bz2", "lzma")) == set()
    assert (tmp_path / "light.bin").read_bytes() == content("light.bin", 10)
