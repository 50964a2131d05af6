"""`rosetta download URL... [-i FILE] [-o DIR] [-j 16] [--model M] [--json] [--verbose]`.

Every URL is checked before anything is fetched; a mistake in the arguments (a bad URL
scheme, a missing input file, `-j 0`) ends with one line on stderr and exit code 2. Then the
chosen model downloads, a progress bar shows on a terminal (plain lines otherwise), and a
summary closes the run. Exit codes: 0 every URL saved, 1 some failed, 2 bad arguments,
130 interrupted by Ctrl-C (only complete files are left).

A model that needs gevent monkey-patches its whole process, so it never runs in this one:
this command starts `python -m <model>` with the same options (URLs on its standard input)
and passes its exit code on. Only light modules are imported at the top of this file.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn, TextIO

from rosetta import registry
from rosetta.protocol import download as protocol
from rosetta.protocol.download import Job, Result

DEFAULT_MODEL = "modern.aiohttp_download"
MAX_JOBS = 1024
MAX_RETRIES = 20


def _one_line_error(message: str) -> NoReturn:
    print(f"rosetta: error: {message}", file=sys.stderr, flush=True)
    raise SystemExit(protocol.EXIT_USAGE)


def _fail(message: str) -> int:
    print(f"rosetta: error: {message}", file=sys.stderr, flush=True)
    return protocol.EXIT_USAGE


def _number(kind: type, low: float, high: float, what: str) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None
        if not low <= value <= high:  # NaN fails this too
            raise argparse.ArgumentTypeError(f"must be {low:g} to {high:g}: {text}")
        return value

    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.error = _one_line_error  # type: ignore[method-assign]
    parser.add_argument("urls", nargs="*", metavar="URL", help="http:// or https:// URLs")
    parser.add_argument(
        "-i", "--input-file", type=Path, metavar="FILE",
        help="read URLs from FILE, one a line (# comments, blank lines skipped; - for stdin)",
    )
    parser.add_argument(
        "-o", "--output", type=Path, default=Path("."), metavar="DIR",
        help="save files here (created if missing; default: the current directory)",
    )
    parser.add_argument(
        "-j", "--jobs", type=_number(int, 1, MAX_JOBS, "a whole number"),
        default=protocol.DEFAULT_JOBS, metavar="N",
        help=f"downloads at once, 1 to {MAX_JOBS} (default {protocol.DEFAULT_JOBS})",
    )
    parser.add_argument(
        "--timeout", type=_number(float, 0.001, 3600, "a number of seconds"),
        default=protocol.DEFAULT_TIMEOUT, metavar="S",
        help="give up on a request when the server is silent this long, connecting or "
        f"reading (default {protocol.DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--retries", type=_number(int, 0, MAX_RETRIES, "a whole number"),
        default=protocol.DEFAULT_RETRIES, metavar="N",
        help="more attempts after a connection error, timeout, cut body or 5xx; never "
        f"after 4xx (default {protocol.DEFAULT_RETRIES})",
    )
    parser.add_argument(
        "--backoff", type=_number(float, 0, 60, "a number of seconds"),
        default=protocol.DEFAULT_BACKOFF, metavar="S",
        help=f"wait before the first retry, doubled for each next one up to "
        f"{protocol.MAX_BACKOFF:g} s (default {protocol.DEFAULT_BACKOFF:g})",
    )
    download_models = [model.name for model in registry.serving("download")]
    parser.add_argument(
        "--model", default=DEFAULT_MODEL,
        help=f"{' | '.join(download_models) or 'a model serving download'} "
        f"(default {DEFAULT_MODEL})",
    )
    parser.add_argument(
        "--json", action="store_true",
        help="print one JSON document at the end (every URL's record and the summary)",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true",
        help="print the course's lines too: 'GET: url', 'N bytes received from url.'",
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "download",
        help="download URLs concurrently with a classic or modern model",
        description="Download URLs concurrently into a directory; files appear only when "
        "complete. Exit codes: 0 all saved, 1 some failed, 2 bad arguments, 130 Ctrl-C.",
    )
    add_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """The `download` command in the CLI's process."""
    try:
        model = registry.get(args.model)
    except registry.UnknownModel as error:
        return _fail(str(error))
    if "download" not in model.jobs:
        return _fail(
            f"model {model.name} does not serve download "
            f"(it serves: {', '.join(sorted(model.jobs))})"
        )
    if model.missing:
        return _fail(f"model {model.name} needs {', '.join(model.missing)}, which is not installed")
    try:
        urls = _gather_urls(args)
        directory = _output_directory(args.output)
    except ValueError as error:
        return _fail(str(error))
    if "gevent" in model.needs:
        return _run_in_own_process(model.name, args, urls, directory)
    try:
        module = model.load()
    except (registry.ModelUnavailable, ImportError) as error:
        return _fail(str(error))
    return _download(model.name, module, args, urls, directory)


def run_in_this_process(model_name: str, module: ModuleType, argv: list[str]) -> int:
    """`python -m classic.gevent_download [download options]`: the command, in the model's own
    (monkey-patched) process, with the same options and output as `rosetta download`."""
    parser = argparse.ArgumentParser(
        prog=f"python -m {model_name}", description=f"rosetta download with {model_name}"
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        urls = _gather_urls(args)
        directory = _output_directory(args.output)
    except ValueError as error:
        return _fail(str(error))
    try:
        return _download(model_name, module, args, urls, directory)
    except KeyboardInterrupt:
        return protocol.EXIT_INTERRUPTED


def _gather_urls(args: argparse.Namespace) -> list[str]:
    urls = [protocol.check_url(url) for url in args.urls]
    if args.input_file is not None:
        urls += protocol.read_url_list(_read_input(args.input_file), str(args.input_file))
    if not urls:
        raise ValueError("no URLs given (as arguments or with --input-file)")
    return urls


def _read_input(path: Path) -> str:
    if str(path) == "-":
        return sys.stdin.read()
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise ValueError(f"input file not found: {str(path)!r}") from None
    except OSError as error:
        raise ValueError(f"cannot read input file {str(path)!r}: {error.strerror}") from None


def _output_directory(path: Path) -> Path:
    from rosetta.download_files import LocalError, prepare_directory

    try:
        return prepare_directory(path.expanduser())
    except LocalError as error:
        raise ValueError(str(error)) from None


def _child_argv(model_name: str, args: argparse.Namespace, directory: Path) -> list[str]:
    argv = [
        sys.executable, "-m", model_name, "--input-file", "-", "--output", str(directory),
        "--jobs", str(args.jobs), "--timeout", repr(args.timeout),
        "--retries", str(args.retries), "--backoff", repr(args.backoff),
    ]
    if args.json:
        argv.append("--json")
    if args.verbose:
        argv.append("--verbose")
    return argv


def _run_in_own_process(
    model_name: str, args: argparse.Namespace, urls: list[str], directory: Path
) -> int:
    # Its own process group: Ctrl-C on a terminal reaches only this process, which passes
    # it on exactly once (a second SIGINT would cut the child's clean-up short).
    child = subprocess.Popen(
        _child_argv(model_name, args, directory), stdin=subprocess.PIPE, process_group=0
    )
    assert child.stdin is not None

    def forward(signum: int, frame: object) -> None:
        # SIGTERM too goes on as SIGINT: the one signal every model turns into a clean stop.
        if child.poll() is None:
            child.send_signal(signal.SIGINT)

    previous = {
        signum: signal.signal(signum, forward) for signum in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        with contextlib.suppress(BrokenPipeError):  # it may have stopped already
            child.stdin.write("".join(url + "\n" for url in urls).encode())
        with contextlib.suppress(BrokenPipeError):
            child.stdin.close()
        code = child.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    # Killed by a signal it did not handle: the shell's convention, 128 + the signal number.
    return 128 - code if code < 0 else code


class Reporter:
    """Progress, per-URL lines and the course's messages; safe to call from any thread.

    On a terminal: a rich progress bar, with failures and (with --verbose) the course's
    lines printed above it. Otherwise: one plain line per finished URL. With --json: nothing
    until the JSON document at the end.
    """

    def __init__(self, total: int, *, verbose: bool, as_json: bool, stream: TextIO) -> None:
        self.verbose = verbose
        self.as_json = as_json
        self.stream = stream
        self._lock = threading.Lock()
        self._progress: Any = None
        self._task: Any = None
        self._bytes = 0
        self._failed = 0
        if not as_json and stream.isatty():
            from rich.console import Console as RichConsole
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(
                TextColumn("[bold]downloading"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("files  {task.fields[size]}  {task.fields[failed]}"),
                TimeElapsedColumn(),
                console=RichConsole(file=stream),
                transient=False,
            )
            self._task = self._progress.add_task(
                "download", total=total, size="0 B", failed=""
            )

    def __enter__(self) -> Reporter:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def started(self, job: Job) -> None:
        if self.verbose and not self.as_json:
            self._line(protocol.course_get_line(job.url))

    def received(self, job: Job, count: int) -> None:
        if self._progress is None:
            return
        with self._lock:
            self._bytes += count
            size = protocol.human_bytes(self._bytes)
        self._progress.update(self._task, size=size)

    def finished(self, result: Result) -> None:
        if self.as_json:
            return
        if self._progress is not None:
            with self._lock:
                self._failed += not result.ok and result.kind != protocol.CANCELLED
                failed = f"[red]{self._failed} failed" if self._failed else ""
            self._progress.update(self._task, advance=1, failed=failed)
        line = self._finished_line(result)
        if line is not None:
            self._line(line)

    def _finished_line(self, result: Result) -> str | None:
        if result.kind == protocol.CANCELLED:
            return None  # the summary counts them; a line each would bury the rest
        if not result.ok:
            return f"failed {result.url}: {result.reason}"
        if self.verbose:
            return protocol.course_received_line(result.bytes, result.url)
        if self._progress is None:
            return f"saved {result.name} ({protocol.human_bytes(result.bytes)}) from {result.url}"
        return None  # on a terminal the bar shows it

    def _line(self, text: str) -> None:
        if self._progress is not None:
            self._progress.console.print(text, markup=False, highlight=False)
            return
        with self._lock:
            print(text, file=self.stream, flush=True)


def _download(
    model_name: str, module: ModuleType, args: argparse.Namespace, urls: list[str],
    directory: Path,
) -> int:
    from rosetta import download_files

    jobs = protocol.plan(urls)
    settings = protocol.Settings(
        limit=args.jobs, timeout=args.timeout,
        policy=protocol.RetryPolicy(retries=args.retries, backoff=args.backoff),
    )
    started = time.monotonic()
    reporter = Reporter(len(jobs), verbose=args.verbose, as_json=args.json, stream=sys.stdout)
    previous_term = signal.signal(signal.SIGTERM, _interrupt)
    try:
        with reporter:
            results = module.download(jobs, directory, settings, reporter)
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        # Behind any thread still blocked after Ctrl-C: no .part may outlive the run.
        download_files.discard_all()
    summary = protocol.Summary.of(results, time.monotonic() - started)
    if args.json:
        document = protocol.report_json(results, summary, model_name)
        print(json.dumps(document, indent=2), flush=True)
    else:
        for line in summary.lines():
            print(line, flush=True)
    return summary.exit_code


def _interrupt(signum: int, frame: object) -> None:
    # SIGTERM stops a run like Ctrl-C (the gevent model catches both in its hub instead).
    raise KeyboardInterrupt

