"""A download run: in this process (`download`), or as the model's own program (`run_apart`).

`download` plans the URLs, hands the jobs to the model with the settings and a `Reporter`,
then prints the summary (or the `--json` document) and returns the exit code. A model that
needs gevent monkey-patches its whole process, so it never runs in the caller's: `run_apart`
starts `python -m <model>` with the same settings (`Settings.argv`), the checked URLs on its
standard input, and passes its exit code on.
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from rosetta.download.console import Reporter
from rosetta.download.files import discard_all
from rosetta.download.report import Summary, report_json
from rosetta.download.settings import Settings
from rosetta.protocol.download import plan


def download(model_name: str, module: ModuleType, urls: Sequence[str], settings: Settings) -> int:
    """Run `module.download` here; the summary on stdout; the exit code."""
    jobs = plan(urls)
    started = time.monotonic()
    reporter = Reporter(
        len(jobs), verbose=settings.verbose, as_json=settings.as_json, stream=sys.stdout
    )
    previous_term = signal.signal(signal.SIGTERM, _interrupt)
    try:
        with reporter:
            results = module.download(jobs, settings, reporter)
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        # Behind any thread still blocked after Ctrl-C: no .part may outlive the run.
        discard_all()
    summary = Summary.of(results, time.monotonic() - started)
    if settings.as_json:
        import json

        print(json.dumps(report_json(results, summary, model_name), indent=2), flush=True)
    else:
        for line in summary.lines():
            print(line, flush=True)
    return summary.exit_code


def _interrupt(signum: int, frame: Any) -> None:
    # SIGTERM stops a run like Ctrl-C, through whatever answers SIGINT right now: under
    # asyncio.Runner its handler cancels the main task (a KeyboardInterrupt raised here could
    # land inside an event-loop callback, which would swallow it); otherwise Python's default
    # raises KeyboardInterrupt. The gevent model catches both signals in its hub instead.
    on_sigint = signal.getsignal(signal.SIGINT)
    if callable(on_sigint):
        on_sigint(signal.SIGINT, frame)
    else:
        raise KeyboardInterrupt


def run_apart(model_name: str, urls: Sequence[str], settings: Settings) -> int:
    """`python -m model_name --input-file - SETTINGS`, fed the URLs; its exit code."""
    import contextlib
    import subprocess

    argv = [sys.executable, "-m", model_name, "--input-file", "-", *settings.argv()]
    # Its own process group: Ctrl-C on a terminal reaches only this process, which passes
    # it on exactly once (a second SIGINT would cut the child's clean-up short).
    child = subprocess.Popen(argv, stdin=subprocess.PIPE, process_group=0)
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
