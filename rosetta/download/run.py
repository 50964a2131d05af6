"""A download run: in this process (`download`), or as the model's own program (`run_apart`).

`download` plans the URLs (names from the whole list, then `--shard`'s share), looks at the
output directory for `--continue` and attaches `--checksums`, records the files the
protocol skips, hands the other jobs to the model with the settings and a `Reporter`, then
prints the summary (or the `--json` document) and returns the exit code. A model that
needs gevent monkey-patches its whole process, so it never runs in the caller's: `run_apart`
starts `python -m <model>` with the same settings (`Settings.argv`), the checked URLs on its
standard input, and passes its exit code on.
"""

from __future__ import annotations

import gc
import signal
import sys
import time
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from rosetta.download.console import Reporter
from rosetta.download.files import LocalError, discard_all, on_disk, read_checksums, write_checksums
from rosetta.download.report import Summary, report_json
from rosetta.download.settings import Settings
from rosetta.protocol.download import Job, plan, shard, skipped


def download(model_name: str, module: ModuleType, urls: Sequence[str], settings: Settings) -> int:
    """Run `module.download` here; the summary on stdout; the exit code."""
    started = time.monotonic()
    # What start-up made (modules, classes, the parser) lives as long as the run: moved out
    # of the collector's reach, so that its full collections no longer walk all of it.
    gc.freeze()
    jobs = prepared_jobs(urls, settings)
    done = {job.index: result for job in jobs if (result := skipped(job)) is not None}
    reporter = Reporter(
        len(jobs), verbose=settings.verbose, as_json=settings.as_json, stream=sys.stdout
    )
    previous_term = signal.signal(signal.SIGTERM, _interrupt)
    try:
        with reporter:
            for result in done.values():
                reporter.finished(result)
            to_fetch = [job for job in jobs if job.index not in done]
            fetched = module.download(to_fetch, settings, reporter) if to_fetch else []
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        if not settings.resume:
            # Behind any thread still blocked after Ctrl-C: no .part may outlive the run.
            discard_all()
    done.update((job.index, result) for job, result in zip(to_fetch, fetched, strict=True))
    results = [done[job.index] for job in jobs]
    summary = Summary.of(results, time.monotonic() - started)
    if settings.write_checksums is not None:
        try:
            write_checksums(settings.write_checksums, [(r.sha256, r.name) for r in results if r.ok])
        except LocalError as error:
            print(error, file=sys.stderr, flush=True)
            summary = summary._replace(unwritten=str(error))
    if settings.as_json:
        import json

        print(json.dumps(report_json(results, summary, model_name), indent=2), flush=True)
    else:
        for line in summary.lines():
            print(line, flush=True)
    return summary.exit_code


def prepared_jobs(urls: Sequence[str], settings: Settings) -> list[Job]:
    """The run's jobs: named from the whole list, then this shard's share, each with its
    checksum and (with --continue) what its names hold on disk."""
    jobs = plan(urls)
    if settings.shard_numbers is not None:
        jobs = shard(jobs, *settings.shard_numbers)
    expected = read_checksums(settings.checksums) if settings.checksums else {}
    if not expected and not settings.resume:
        return jobs  # nothing to add to what the plan says (the usual run)
    hash_complete = bool(expected) or settings.write_checksums is not None
    return [
        job._replace(
            sha256=expected.get(job.name, ""),
            on_disk=on_disk(settings.output, job, hash_complete=hash_complete)
            if settings.resume
            else None,
            check_remote=settings.check_remote,
        )
        for job in jobs
    ]


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
