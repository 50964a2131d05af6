"""What a downloader decides, once, for every download model: sans-I/O.

URLs in, a plan out (which URL goes to which file name); responses and failures in, the next
step out (read the body, follow a redirect, wait and retry, give up) and, at the end, the
URL's `Result`. No socket, file or clock is touched here: the models in `classic/` and
`modern/` only perform the requests and the waits this module asks for, so every model names
files, retries, follows redirects and reports failures the same way. How a run is shown to
its user (lines, the progress bar, the summary, exit codes) is `rosetta.download`'s.

A failure is reported as a `Kind` (what went wrong, the same in every model, compared by the
parity suite) and a *detail* (the model's own words: errno text, byte counts); the details
that are not the model's own are worded here, so that every model says them the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from http import HTTPStatus
from urllib.parse import urljoin

from rosetta.protocol.names import BadURL, check_url, name_from_url

MAX_REDIRECTS = 10
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Both HTTP stacks send the same request: no compression, so Content-Length is the size on disk.
REQUEST_HEADERS: Mapping[str, str] = {
    "User-Agent": "rosetta-download/0.1",
    "Accept-Encoding": "identity",
}
CHUNK_SIZE = 64 * 1024
PART_SUFFIX = ".part"

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
    CANCELLED = "cancelled"  # Ctrl-C before this URL finished


# About the network or the server, so they may pass: the kinds a retry is worth.
RETRIED_KINDS = frozenset({Kind.CONNECTION, Kind.TIMEOUT, Kind.INCOMPLETE, Kind.SERVER_ERROR})


@dataclass(frozen=True)
class Failure:
    """What went wrong (`kind`) and, in a model's or this module's words, how (`detail`)."""

    kind: Kind
    detail: str


# The details every model words the same way, whichever HTTP stack saw the failure.
def certificate_detail(verify_message: str) -> str:
    return f"certificate refused: {verify_message or 'verification failed'}"


def timeout_detail(seconds: float) -> str:
    return f"server silent for {seconds:g} s"


def status_detail(status: int) -> str:
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def short_body_detail(received: int, expected: int | None, how: str) -> str:
    total = "?" if expected is None else str(expected)
    return f"{received} of {total} bytes ({how})"


INTERRUPTED = "interrupted"
NOT_STARTED = "not started"


def _numbered(name: str, number: int) -> str:
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:
        return f"{name}-{number}"
    return f"{stem}-{number}.{extension}"


@dataclass(frozen=True)
class Job:
    """One URL and the file name it is saved under (unique within the run)."""

    index: int
    url: str
    name: str

    @property
    def part_name(self) -> str:
        return self.name + PART_SUFFIX


def plan(urls: Sequence[str]) -> list[Job]:
    """A job per URL, in order. Names are de-duplicated within the run (`a.txt`, `a-1.txt`)
    and no name is another's `.part` file. A file already in the output directory is
    replaced only by a complete download (the rename happens after the length check)."""
    taken: set[str] = set()
    jobs = []
    for index, url in enumerate(urls):
        base = name_from_url(url)
        name, number = base, 0
        while name in taken or name + PART_SUFFIX in taken or _is_part_of_taken(name, taken):
            number += 1
            name = _numbered(base, number)
        taken.update((name, name + PART_SUFFIX))
        jobs.append(Job(index, url, name))
    return jobs


def _is_part_of_taken(name: str, taken: set[str]) -> bool:
    return name.endswith(PART_SUFFIX) and name[: -len(PART_SUFFIX)] in taken


@dataclass(frozen=True)
class RetryPolicy:
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
# tells them apart by their type), each with the one or two values that step needs.
@dataclass(frozen=True)
class ReadBody:
    """Save the body; `expected` is the Content-Length (None: read to the end)."""

    expected: int | None


@dataclass(frozen=True)
class FollowRedirect:
    """Request `url` next, in the same attempt (the redirect is counted)."""

    url: str


@dataclass(frozen=True)
class RetryAfter:
    """Wait `seconds`, then a new attempt from the given URL; `failure` is why."""

    seconds: float
    failure: Failure


@dataclass(frozen=True)
class GiveUp:
    """Final: the URL's result is recorded as failed."""

    failure: Failure


Step = ReadBody | FollowRedirect | RetryAfter | GiveUp


@dataclass(frozen=True)
class Result:
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

    @property
    def reason(self) -> str:
        kind = self.kind or ""
        return f"{kind}: {self.detail}" if self.detail else kind

    def as_json(self) -> dict[str, object]:
        return {**asdict(self), "kind": str(self.kind or "")}


class Fetch:
    """The decisions for one URL, driven by a model's request loop (and only by it):

    fetch = Fetch(job, policy)
    while fetch.result is None:
        request fetch.url -> step = fetch.on_response(status, location, content_length)
                 (no response: step = fetch.on_error(kind, detail))
        ReadBody: write the body to NAME.part; at its clean end
                  step = fetch.on_body_end(received), and when that is None (complete)
                  rename NAME.part to NAME and fetch.on_saved(received, sha256);
                  a body cut short: step = fetch.body_failure(received, kind, detail)
        RetryAfter: wait its seconds; FollowRedirect: go round again with fetch.url
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

    def on_response(self, status: int, location: str | None, content_length: str | None) -> Step:
        self.status = status
        if status in REDIRECT_STATUSES:
            return self._redirect(location)
        if 200 <= status < 300:
            expected = _content_length(content_length)
            self.expected = expected
            return ReadBody(expected)
        kind = Kind.SERVER_ERROR if status >= 500 else Kind.CLIENT_ERROR
        return self._failed(Failure(kind, status_detail(status)))

    def on_error(self, kind: Kind, detail: str) -> Step:
        return self._failed(Failure(kind, detail))

    def on_body_end(self, received: int) -> Step | None:
        """The body ended cleanly after `received` bytes. None: complete, save it now;
        otherwise it was short of Content-Length (retried like a cut connection)."""
        if self.expected is not None and received != self.expected:
            detail = short_body_detail(received, self.expected, "connection closed")
            return self._failed(Failure(Kind.INCOMPLETE, detail))
        return None

    def on_saved(self, received: int, sha256: str = "") -> None:
        """The complete body is in place under its name."""
        self.result = self._record(ok=True, received=received, sha256=sha256)

    def body_failure(self, received: int, kind: Kind, detail: str) -> Step:
        """The body could not be read to its end. A timeout stays a timeout; any other error
        after the response head is an incomplete body, however the connection ended."""
        if kind in (Kind.TIMEOUT, Kind.LOCAL, Kind.CANCELLED):
            return self._failed(Failure(kind, detail))
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
            return RetryAfter(wait, failure)
        return self._give_up(failure)

    def _give_up(self, failure: Failure) -> GiveUp:
        self.result = self._record(ok=False, failure=failure)
        return GiveUp(failure)

    def _record(
        self, *, ok: bool, received: int = 0, sha256: str = "", failure: Failure | None = None
    ) -> Result:
        return Result(
            self.job.url,
            self.job.name,
            ok,
            self.status,
            received,
            self.attempts,
            self.url,
            failure and failure.kind,
            failure.detail if failure else "",
            sha256,
        )


def not_started(job: Job) -> Result:
    """The record of a URL that Ctrl-C stopped before it was tried."""
    return Result(
        job.url, job.name, ok=False, final_url=job.url, kind=Kind.CANCELLED, detail=NOT_STARTED
    )


def _content_length(value: str | None) -> int | None:
    if value is None:
        return None
    text = value.strip()
    if not text.isdigit():
        return None
    return int(text)
