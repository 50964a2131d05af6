"""The `Report` of the command line: a progress bar on a terminal, plain lines otherwise.

rich is imported only when the bar is shown (a terminal, no `--json`), so a run whose output
goes to a pipe or a file never pays for it. There, the plain lines are written in batches by
one flusher thread, started with the first line and woken every FLUSH_SECONDS: a line is out
within FLUSH_SECONDS of its URL's end, and every line is out before the summary. A write a
line would cost a system call and a wake-up of the reader for each file; a timer a batch, a
thread started (and waited for) several times a second.
"""

from __future__ import annotations

import threading
from typing import Any, TextIO

from rosetta.download.report import course_get_line, course_received_line, human_bytes
from rosetta.protocol.download import Job, Kind, Outcome, Result

FLUSH_SECONDS = 0.1


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
        self._pending: list[str] = []  # plain lines not yet written
        self._flusher: threading.Thread | None = None
        self._stop = threading.Event()
        self._late_error: OSError | None = None  # the flusher's write failed: raised here
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
            self._task = self._progress.add_task("download", total=total, size="0 B", failed="")

    def __enter__(self) -> Reporter:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._progress is not None:
            self._progress.stop()
        self._stop.set()
        if self._flusher is not None:
            self._flusher.join()
        with self._lock:
            self._write_pending()

    def started(self, job: Job) -> None:
        if self.verbose and not self.as_json:
            self._line(course_get_line(job.url))

    def received(self, job: Job, count: int) -> None:
        if self._progress is None:
            return
        with self._lock:
            self._bytes += count
            size = human_bytes(self._bytes)
        self._progress.update(self._task, size=size)

    def finished(self, result: Result) -> None:
        if self.as_json:
            return
        if self._progress is not None:
            with self._lock:
                self._failed += not result.ok and result.kind != Kind.CANCELLED
                failed = f"[red]{self._failed} failed" if self._failed else ""
            self._progress.update(self._task, advance=1, failed=failed)
        line = self._finished_line(result)
        if line is not None:
            self._line(line)

    def _finished_line(self, result: Result) -> str | None:
        if result.kind == Kind.CANCELLED:
            return None  # the summary counts them; a line each would bury the rest
        if not result.ok:
            return f"failed {result.url}: {result.reason}"
        if self.verbose:
            return course_received_line(result.bytes - result.resumed_from, result.url)
        if result.outcome == Outcome.SKIPPED:
            return f"skipped {result.name}: complete already" if self._progress is None else None
        if result.outcome == Outcome.RESUMED and self._progress is None:
            size, done = human_bytes(result.bytes), human_bytes(result.resumed_from)
            return f"resumed {result.name} after {done} ({size}) from {result.url}"
        if self._progress is None:
            return f"saved {result.name} ({human_bytes(result.bytes)}) from {result.url}"
        return None  # on a terminal the bar shows it

    def _line(self, text: str) -> None:
        if self._progress is not None:
            self._progress.console.print(text, markup=False, highlight=False)
            return
        with self._lock:
            self._pending.append(text)
            if self._flusher is None and not self._stop.is_set():
                self._flusher = threading.Thread(target=self._flush_often, daemon=True)
                self._flusher.start()

    def _write_pending(self) -> None:
        """(Under the lock.) Every pending line, in one write."""
        error, self._late_error = self._late_error, None
        if error is not None:
            raise error
        if self._pending:
            text, self._pending = "\n".join(self._pending) + "\n", []
            self.stream.write(text)
            self.stream.flush()

    def _flush_often(self) -> None:
        while not self._stop.wait(FLUSH_SECONDS):
            with self._lock:
                try:
                    self._write_pending()
                except OSError as error:  # a reader gone: the run's own thread says so
                    self._late_error = error
