"""What a downloader decides, once, for every download model: sans-I/O.

URLs in, a plan out (which URL goes to which file name); responses and failures in, the next
step out (read the body, follow a redirect, wait and retry, give up) and, at the end, the
URL's `Result`. No socket, file or clock is touched here: the models in `classic/` and
`modern/` only perform the requests and the waits this module asks for, so every model names
files, retries, follows redirects and reports failures the same way. How a run is shown to
its user (lines, the progress bar, the summary, exit codes) is `rosetta.download`'s.

With `--continue` a job carries what the run found on disk (`OnDisk`): a complete file is
`skipped` without a request (or asked about with `If-Modified-Since` under `--check-remote`),
and a part with a recorded validator is resumed with `Range` and `If-Range`; a server that
answers 200 instead (no ranges, or the file changed) starts it again. A checksum given for a
file is checked before the file is put in place.

A failure is reported as a `Kind` (what went wrong, the same in every model, compared by the
parity suite) and a *detail* (the model's own words: errno text, byte counts); the details
that are not the model's own are worded here, so that every model says them the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import NamedTuple
from urllib.parse import urljoin

from rosetta.protocol import download_headers as header
from rosetta.protocol.names import PART_SUFFIX, BadURL, Job, OnDisk, check_url, plan, shard

__all__ = ["PART_SUFFIX", "Job", "OnDisk", "plan", "shard"]  # (names decided in names.py)

MAX_REDIRECTS = 10
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Both HTTP stacks send the same request: no compression, so Content-Length is the size on disk.
REQUEST_HEADERS: Mapping[str, str] = {
    "User-Agent": "rosetta-download/0.1",
    "Accept-Encoding": "identity",
}
CHUNK_SIZE = 64 * 1024

DEFAULT_RETRIES = 3
DEFAULT_BACKOFF = 0.5
MAX_BACKOFF = 8.0


class Kind(StrEnum):
    """What went wrong with a URL: the same word in every model, in `--json` and the summary."""

    CONNECTION = "connection"  # refused, reset, name not found: before a response arrived
    TIMEOUT = "timeout"  # the server was silent for --timeout seconds
    INCOMPLETE = "incomplete"  # the body ended before Content-Length bytes (or was cut)
    SERVER_ERROR = "server-error"  # HTTP 5xx
    CLIENT_ERROR = "http-error"  # any other status neither 2xx nor a followed redirect
    TLS = "tls"  # the server's certificate was refused: trying again would not change that
    TOO_MANY_REDIRECTS = "too-many-redirects"
    BAD_REDIRECT = "bad-redirect"  # Location missing, or not an http(s) URL
    LOCAL = "local"  # the file could not be written
    CHECKSUM = "checksum"  # complete, but not the bytes --checksums lists: never kept
    CANCELLED = "cancelled"  # Ctrl-C before this URL finished


class Outcome(StrEnum):
    """How a URL that succeeded did: every one of them counts as a success."""

    SAVED = "saved"  # downloaded whole
    RESUMED = "resumed"  # the part of an earlier run, completed with a Range request
    SKIPPED = "skipped"  # already complete in the output directory (or unchanged: 304)


# About the network or the server, so they may pass: the kinds a retry is worth.
RETRIED_KINDS = frozenset({Kind.CONNECTION, Kind.TIMEOUT, Kind.INCOMPLETE, Kind.SERVER_ERROR})


class Failure(NamedTuple):
    """What went wrong (`kind`) and, in a model's or this module's words, how (`detail`)."""

    kind: Kind
    detail: str


# The details every model words the same way, whichever HTTP stack saw the failure.
def certificate_detail(verify_message: str) -> str:
    return f"certificate refused: {verify_message or 'verification failed'}"


def timeout_detail(seconds: float) -> str:
    return f"server silent for {seconds:g} s"


def status_detail(status: int) -> str:
    from http import HTTPStatus  # a table of 60 members, built only for a refused answer

    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def short_body_detail(received: int, expected: int | None, how: str) -> str:
    total = "?" if expected is None else str(expected)
    return f"{received} of {total} bytes ({how})"


INTERRUPTED = "interrupted"
NOT_STARTED = "not started"


class RetryPolicy(NamedTuple):
    """Which failures are tried again, and how long to wait before each new attempt.

    Connection errors, timeouts, cut bodies and 5xx are retried, up to `retries` more
    attempts; 4xx and every other failure are final at once. The waits double from
    `backoff` seconds (0.5, 1, 2, 4, ...) and stop growing at `max_backoff`.
    """

    retries: int = DEFAULT_RETRIES
    backoff: float = DEFAULT_BACKOFF
    max_backoff: float = MAX_BACKOFF

    def retryable(self, kind: Kind) -> bool:
        return kind in RETRIED_KINDS

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1 for the first)."""
        return min(self.max_backoff, self.backoff * 2 ** (attempt - 1))

    def schedule(self) -> list[float]:
        return [self.delay(attempt) for attempt in range(1, self.retries + 1)]


# What a model does next, as `Fetch` decides it: small records alike on purpose (a driver
# tells them apart by their type), each with the one or two values that step needs. Named
# tuples, made for every URL and cheap to define and build; the two without values are
# markers, as an empty tuple would be false and equal to the other.
class ReadBody(NamedTuple):
    """Save the body; `expected` is its Content-Length (None: read to the end). `offset`: the
    bytes of NAME.part kept before it (a resume; 0: a new part). `validator`: to record
    beside the part, and `keep_part`: leave it for the next run if this one stops (both with
    --continue); `modified`: the server's Last-Modified (epoch seconds), for the saved file."""

    expected: int | None
    offset: int = 0
    validator: str = ""
    keep_part: bool = False
    modified: float | None = None


class _Marker:
    """A step without values: every instance of one kind equals every other."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))


class StartAgain(_Marker):
    """Request the URL again at once, without a Range: the part cannot be resumed."""


class NotModified(_Marker):
    """Final: the server says the complete file is unchanged (recorded as skipped)."""


class FollowRedirect(NamedTuple):
    """Request `url` next, in the same attempt (the redirect is counted)."""

    url: str


class RetryAfter(NamedTuple):
    """Wait `seconds`, then a new attempt from the given URL; `failure` is why."""

    seconds: float
    failure: Failure


class GiveUp(NamedTuple):
    """Final: the URL's result is recorded as failed."""

    failure: Failure


Step = ReadBody | FollowRedirect | RetryAfter | GiveUp | StartAgain | NotModified


class Result(NamedTuple):
    """One URL's outcome, the same record in every model and in `--json`."""

    url: str
    name: str
    ok: bool
    status: int | None = None
    bytes: int = 0
    attempts: int = 0
    final_url: str = ""
    kind: Kind | None = None
    detail: str = ""
    sha256: str = ""
    outcome: str = ""  # an Outcome when ok
    resumed_from: int = 0  # bytes already on disk before this run: not received now

    @property
    def reason(self) -> str:
        kind = self.kind or ""
        return f"{kind}: {self.detail}" if self.detail else kind

    def as_json(self) -> dict[str, object]:
        return {**self._asdict(), "kind": str(self.kind or "")}


class Fetch:
    """The decisions for one URL, driven by a model's request loop (and only by it):

    fetch = Fetch(job, policy)
    while fetch.result is None:
        request fetch.url with fetch.request_headers() -> step = fetch.on_response(status,
                 location, content_length, content_range=, etag=, last_modified=)
                 (no response: step = fetch.on_error(kind, detail))
        ReadBody: write the body to NAME.part from step.offset (`PartFile(dir, job, step)`);
                  at its clean end `part.finish(fetch)` asks fetch.on_body_end(received,
                  sha256) and, when complete, renames it and calls fetch.on_saved(...);
                  a body cut short: step = fetch.body_failure(received, kind, detail)
        RetryAfter: wait its seconds; FollowRedirect, StartAgain: go round again
    """

    def __init__(self, job: Job, policy: RetryPolicy) -> None:
        self.job = job
        self.policy = policy
        self.url = job.url
        self.attempts = 1
        self.redirects = 0
        self.status: int | None = None
        self.expected: int | None = None
        self.result: Result | None = None
        disk = job.on_disk
        self.keeps_part = disk is not None  # --continue: a part outlives a stopped run
        self.part_size = disk.part_size if disk and disk.validator else 0
        self.validator = disk.validator if disk else ""
        self.offset = 0

    def request_headers(self) -> dict[str, str]:
        """What this request adds to REQUEST_HEADERS: a resume's Range and If-Range, or
        --check-remote's If-Modified-Since."""
        disk = self.job.on_disk
        if self.part_size > 0 and self.validator:
            return {"Range": f"bytes={self.part_size}-", "If-Range": self.validator}
        if disk is not None and disk.complete and self.job.check_remote and disk.modified:
            return {"If-Modified-Since": disk.modified}
        return {}

    def on_response(
        self,
        status: int,
        location: str | None,
        content_length: str | None,
        *,
        content_range: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Step:
        self.status = status
        if status in REDIRECT_STATUSES:
            return self._redirect(location)
        if status == 304 and "If-Modified-Since" in self.request_headers():
            self.result = skipped_result(self.job)._replace(attempts=self.attempts)
            return NotModified()
        asked_range = self.part_size > 0
        if asked_range and status in (206, 416):
            start = header.range_start(content_range) if status == 206 else None
            if start != self.part_size:  # not the rest of our part: all of it, afresh
                self.part_size = 0
                return StartAgain()
        elif not 200 <= status < 300 or status == 206:
            kind = Kind.SERVER_ERROR if status >= 500 else Kind.CLIENT_ERROR
            return self._failed(Failure(kind, status_detail(status)))
        length = header.content_length(content_length)
        self.offset = self.part_size if status == 206 else 0
        self.expected = None if length is None else self.offset + length
        if status == 200 and self.keeps_part:
            self.validator = header.strong_etag(etag) or (last_modified or "").strip()
        # The server's time goes on the saved file only under --continue: --check-remote asks
        # with it (parsing a date for every file of every run would cost for nothing).
        modified = header.http_time(last_modified) if self.keeps_part else None
        return ReadBody(length, self.offset, self.validator, self.keeps_part, modified)

    def on_error(self, kind: Kind, detail: str) -> Step:
        return self._failed(Failure(kind, detail))

    def on_body_end(self, received: int, sha256: str = "") -> Step | None:
        """The body ended cleanly; NAME.part holds `received` bytes. None: complete, save it
        now; otherwise it was short of Content-Length (retried like a cut connection) or not
        the checksum the job was given (final, and the part is not kept)."""
        if self.expected is not None and received != self.expected:
            detail = short_body_detail(received, self.expected, "connection closed")
            return self.body_failure(received, Kind.INCOMPLETE, detail, worded=True)
        if self.job.sha256 and sha256 != self.job.sha256:
            self.keeps_part, self.part_size = False, 0
            return self._failed(
                Failure(Kind.CHECKSUM, f"sha256 {sha256}, expected {self.job.sha256}")
            )
        return None

    def on_saved(self, received: int, sha256: str = "") -> None:
        """The complete body is in place under its name."""
        outcome = Outcome.RESUMED if self.offset else Outcome.SAVED
        self.result = self._record(ok=True, received=received, sha256=sha256, outcome=outcome)

    def body_failure(self, received: int, kind: Kind, detail: str, *, worded: bool = False) -> Step:
        """The body could not be read to its end. A timeout stays a timeout; any other error
        after the response head is an incomplete body, however the connection ended. Under
        --continue the bytes received stay in the part, and the next attempt resumes."""
        self.part_size = received if self.keeps_part and self.validator else 0
        if kind in (Kind.TIMEOUT, Kind.LOCAL, Kind.CANCELLED):
            return self._failed(Failure(kind, detail))
        if not worded:
            detail = short_body_detail(received, self.expected, detail)
        return self._failed(Failure(Kind.INCOMPLETE, detail))

    def cancel(self) -> None:
        if self.result is None:
            self._give_up(Failure(Kind.CANCELLED, INTERRUPTED))

    def _redirect(self, location: str | None) -> Step:
        if not location:
            detail = f"HTTP {self.status} without Location"
            return self._failed(Failure(Kind.BAD_REDIRECT, detail))
        target = urljoin(self.url, location.strip())
        try:
            check_url(target)
        except BadURL:
            return self._failed(Failure(Kind.BAD_REDIRECT, f"to {target!r}"))
        if self.redirects >= MAX_REDIRECTS:
            detail = f"more than {MAX_REDIRECTS} redirects"
            return self._failed(Failure(Kind.TOO_MANY_REDIRECTS, detail))
        self.redirects += 1
        self.url = target
        return FollowRedirect(target)

    def _failed(self, failure: Failure) -> Step:
        if self.policy.retryable(failure.kind) and self.attempts <= self.policy.retries:
            wait = self.policy.delay(self.attempts)
            self.attempts += 1
            # A retry starts again from the URL the user gave, as a fresh request would.
            self.url = self.job.url
            self.redirects = 0
            self.status = None
            self.expected = None
            self.offset = 0
            return RetryAfter(wait, failure)
        return self._give_up(failure)

    def _give_up(self, failure: Failure) -> GiveUp:
        self.result = self._record(ok=False, failure=failure)
        return GiveUp(failure)

    def _record(
        self,
        *,
        ok: bool,
        received: int = 0,
        sha256: str = "",
        failure: Failure | None = None,
        outcome: str = "",
    ) -> Result:
        kind, detail = (failure.kind, failure.detail) if failure else (None, "")
        return Result(
            self.job.url, self.job.name, ok, self.status, received, self.attempts, self.url,
            kind, detail, sha256, outcome, self.offset if ok else 0,
        )  # fmt: skip


def not_started(job: Job) -> Result:
    """The record of a URL that Ctrl-C stopped before it was tried."""
    return Result(
        job.url, job.name, ok=False, final_url=job.url, kind=Kind.CANCELLED, detail=NOT_STARTED
    )


def skipped(job: Job) -> Result | None:
    """The record of a job --continue skips without a request: its complete file is there
    (and has the checksum it must have), and --check-remote was not asked for."""
    disk = job.on_disk
    if disk is None or not disk.complete or job.check_remote:
        return None
    if job.sha256 and disk.sha256 != job.sha256:
        return None  # fetched again, and replaced only if the new bytes match
    return skipped_result(job)


def skipped_result(job: Job) -> Result:
    disk = job.on_disk or OnDisk()
    return Result(
        job.url, job.name, True, None, disk.size, 0, job.url, None, "", disk.sha256,
        Outcome.SKIPPED, disk.size,
    )  # fmt: skip
