"""What a download run tells its user: the drivers' `Report`, the summary, the exit codes.

`Report` is the one interface every model reports through (`rosetta.download.console` is the
one the command line passes). `Summary` turns the results into the closing lines, the
`--json` document and the exit code; the wording is the same whichever model ran.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple, Protocol

from rosetta.protocol.download import Job, Kind, Outcome, Result

EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 130  # bad arguments: rosetta.usage.EXIT_USAGE


class Report(Protocol):
    """What a model tells its user as it goes; called from any thread, task or greenlet."""

    def started(self, job: Job) -> None: ...

    def received(self, job: Job, count: int) -> None: ...

    def finished(self, result: Result) -> None: ...


def course_get_line(url: str) -> str:
    """The course's line when a download starts (§9c, with --verbose)."""
    return f"GET: {url}"


def course_received_line(count: int, url: str) -> str:
    """The course's line when a body has arrived (§9c, with --verbose)."""
    return f"{count} bytes received from {url}."


def human_bytes(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


class Summary(NamedTuple):
    """What the run did: files in place (of which resumed and skipped by --continue),
    failures with their reasons (input order), bytes received by this run, time. URLs that
    Ctrl-C stopped are counted as cancelled, not listed one by one."""

    files: int
    failed: int
    cancelled: int
    bytes: int
    seconds: float
    failures: tuple[Result, ...]
    resumed: int = 0
    skipped: int = 0
    unwritten: str = ""  # why --write-checksums failed: a failure of the run

    @classmethod
    def of(cls, results: Iterable[Result], seconds: float) -> Summary:
        files = cancelled = received = resumed = skipped = 0
        failures = []
        for result in results:  # one pass: a run may have millions
            if result.ok:
                files += 1
                received += result.bytes - result.resumed_from
                resumed += result.outcome == Outcome.RESUMED
                skipped += result.outcome == Outcome.SKIPPED
            elif result.kind == Kind.CANCELLED:
                cancelled += 1
            else:
                failures.append(result)
        return cls(
            files=files,
            failed=len(failures),
            cancelled=cancelled,
            bytes=received,
            seconds=seconds,
            failures=tuple(failures),
            resumed=resumed,
            skipped=skipped,
        )

    @property
    def total(self) -> int:
        return self.files + self.failed + self.cancelled

    @property
    def interrupted(self) -> bool:
        return self.cancelled > 0

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return EXIT_INTERRUPTED
        return EXIT_OK if self.failed == 0 and not self.unwritten else EXIT_FAILED

    def lines(self) -> list[str]:
        rate = self.bytes / self.seconds if self.seconds > 0 else 0.0
        head = (
            f"{self.files} of {self.total} files downloaded, {human_bytes(self.bytes)} "
            f"in {self.seconds:.2f} s ({human_bytes(rate)}/s)"
        )
        continued = [
            f"{n} {what}" for n, what in ((self.resumed, "resumed"), (self.skipped, "skipped")) if n
        ]
        if continued:
            head += f" ({', '.join(continued)})"
        if self.interrupted:
            head += f"; interrupted, {self.cancelled} cancelled"
        if not self.failures:
            return [head]
        lines = [f"{head}; {self.failed} failed:"]
        lines += [f"  {result.url}: {result.reason}" for result in self.failures]
        return lines

    def as_json(self) -> dict[str, object]:
        failures = [
            {"url": result.url, "kind": str(result.kind), "reason": result.reason}
            for result in self.failures
        ]
        return {
            "files": self.files,
            "resumed": self.resumed,
            "skipped": self.skipped,
            "failed": self.failed,
            "cancelled": self.cancelled,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 6),
            "failures": failures,
            "exit_code": self.exit_code,
        }


def report_json(results: Sequence[Result], summary: Summary, model: str) -> dict[str, object]:
    """The `--json` document: every URL's record in input order, then the summary."""
    return {
        "model": model,
        "results": [result.as_json() for result in results],
        "summary": summary.as_json(),
    }
