"""What a downloader decides, once, for every download model: sans-I/O.

URLs in, a plan out (which URL goes to which file name); responses and failures in, the next
step out (read the body, follow a redirect, wait and retry, give up); result records in, the
summary and its JSON form out. No socket, file or clock is touched here: the models in
`classic/` and `modern/` only perform the requests and the waits this module asks for, so
every model names files, retries, follows redirects and reports failures the same way.

A failure is reported as a *kind* (what went wrong, the same in every model, compared by the
parity suite) and a *detail* (the model's own words: errno text, byte counts).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from http import HTTPStatus
from urllib.parse import quote, unquote, urljoin, urlsplit

SCHEMES = ("http", "https")
MAX_REDIRECTS = 10
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Both HTTP stacks send the same request: no compression, so Content-Length is the size on disk.
REQUEST_HEADERS: Mapping[str, str] = {
    "User-Agent": "rosetta-download/0.1",
    "Accept-Encoding": "identity",
}
CHUNK_SIZE = 64 * 1024
PART_SUFFIX = ".part"
# Room left under the usual 255-byte name limit for "-NNN" and ".part".
MAX_NAME_BYTES = 200
FALLBACK_NAME = "index.html"

DEFAULT_JOBS = 16
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF = 0.5
MAX_BACKOFF = 8.0

# Failure kinds. The first four are about the network or the server and may be retried.
CONNECTION = "connection"  # refused, reset, name not found: before a response arrived
TIMEOUT = "timeout"  # the server was silent for --timeout seconds
INCOMPLETE = "incomplete"  # the body ended before Content-Length bytes (or was cut by a reset)
SERVER_ERROR = "server-error"  # HTTP 5xx
CLIENT_ERROR = "http-error"  # any other status that is neither 2xx nor a followed redirect
TLS = "tls"  # the server's certificate was refused: trying again would not change that
TOO_MANY_REDIRECTS = "too-many-redirects"
BAD_REDIRECT = "bad-redirect"  # Location missing, or not an http(s) URL
LOCAL = "local"  # the file could not be written
CANCELLED = "cancelled"  # Ctrl-C before this URL finished
RETRIED_KINDS = frozenset({CONNECTION, TIMEOUT, INCOMPLETE, SERVER_ERROR})


class BadURL(ValueError):
    """A URL this downloader will not fetch; the message says why, in one line."""


def check_url(text: str) -> str:
    """The URL itself if it can be fetched: http or https, a host, a valid port, no spaces."""
    url = text.strip()
    if not url:
        raise BadURL("empty URL")
    if any(char.isspace() or unicodedata.category(char) == "Cc" for char in url):
        raise BadURL(f"URL contains spaces or control characters: {url!r}")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise BadURL(f"not a valid URL: {url!r} ({error})") from None
    if parts.scheme.lower() not in SCHEMES:
        shown = f"{parts.scheme}:" if parts.scheme else "no scheme"
        raise BadURL(f"unsupported URL scheme ({shown}), use http:// or https://: {url!r}")
    if not parts.hostname:
        raise BadURL(f"URL has no host: {url!r}")
    if port == 0:
        raise BadURL(f"URL has port 0: {url!r}")
    return _ascii_url(url, parts.hostname)


def _ascii_url(url: str, hostname: str) -> str:
    """Non-ASCII made wire-safe the same way for every HTTP stack: an IDNA host, and
    percent-escapes (UTF-8) for any other non-ASCII character."""
    if url.isascii():
        return url
    if not hostname.isascii():
        try:
            ascii_host = hostname.encode("idna").decode("ascii")
        except UnicodeError:
            raise BadURL(f"URL has an invalid host name: {url!r}") from None
        scheme, rest = url.split("://", 1)
        authority, slash, tail = rest.partition("/")
        authority = authority.replace(hostname, ascii_host)
        url = f"{scheme}://{authority}{slash}{tail}"
    return "".join(char if char.isascii() else quote(char, safe="") for char in url)


def read_url_list(text: str, source: str = "input") -> list[str]:
    """URLs from a file's text: one a line; blank lines and lines starting with # are skipped."""
    urls = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            urls.append(check_url(stripped))
        except BadURL as error:
            raise BadURL(f"{source}:{number}: {error}") from None
    return urls


def name_from_url(url: str) -> str:
    """A safe file name from the URL's last path segment (query and fragment ignored).

    Percent-escapes are decoded; slashes, backslashes, control and format characters
    (including bidirectional overrides) become `_`; leading dots and spaces are dropped, so
    the name is never hidden, `.` or `..`; an empty result falls back to `index.html`.
    """
    path = urlsplit(url).path
    segment = path.rsplit("/", 1)[-1]
    decoded = unquote(segment, errors="replace")
    cleaned = "".join(
        "_" if char in "/\\" or unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") else char
        for char in decoded
    )
    cleaned = cleaned.lstrip(". ").rstrip(" ")
    if not cleaned:
        return FALLBACK_NAME
    return _shorten(cleaned)


def _shorten(name: str) -> str:
    if len(name.encode()) <= MAX_NAME_BYTES:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension.encode()) > 16:
        stem, extension = name, ""
    keep = MAX_NAME_BYTES - len(extension.encode()) - (1 if extension else 0)
    short = stem.encode()[:keep].decode(errors="ignore")
    return f"{short}.{extension}" if extension else short


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

    def retryable(self, kind: str) -> bool:
        return kind in RETRIED_KINDS

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1 for the first)."""
        return min(self.max_backoff, self.backoff * 2 ** (attempt - 1))

    def schedule(self) -> list[float]:
        return [self.delay(attempt) for attempt in range(1, self.retries + 1)]


@dataclass(frozen=True)
class Settings:
    """Everything a model needs besides the jobs: the same for every model."""

    limit: int = DEFAULT_JOBS
    timeout: float = DEFAULT_TIMEOUT
    policy: RetryPolicy = field(default_factory=RetryPolicy)


@dataclass(frozen=True)
class Failure:
    kind: str
    detail: str


# What a model does next, as `Fetch` decides it.
@dataclass(frozen=True)
class ReadBody:
    """Save the body; `expected` is the Content-Length (None: read to the end)."""

    expected: int | None


@dataclass(frozen=True)
class FollowRedirect:
    url: str


@dataclass(frozen=True)
class RetryAfter:
    seconds: float
    failure: Failure


@dataclass(frozen=True)
class GiveUp:
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
    kind: str = ""
    detail: str = ""
    sha256: str = ""

    @property
    def reason(self) -> str:
        return f"{self.kind}: {self.detail}" if self.detail else self.kind

    def as_json(self) -> dict[str, object]:
        return asdict(self)


class Fetch:
    """The decisions for one URL, driven by a model's request loop:

        fetch = Fetch(job, policy)
        while fetch.result is None:
            request fetch.url -> step = fetch.on_response(status, location, content_length)
                     (no response: step = fetch.on_error(kind, detail))
            ReadBody: write the body to NAME.part, then fetch.on_body_end(received) and, when
                      that says complete, rename and fetch.on_saved(...) (a cut body:
                      fetch.body_failure(received, kind, detail))
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

    def on_response(
        self, status: int, location: str | None, content_length: str | None
    ) -> Step:
        self.status = status
        if status in REDIRECT_STATUSES:
            return self._redirect(location)
        if 200 <= status < 300:
            expected = _content_length(content_length)
            self.expected = expected
            return ReadBody(expected)
        kind = SERVER_ERROR if status >= 500 else CLIENT_ERROR
        return self._failed(Failure(kind, _status_text(status)))

    def on_error(self, kind: str, detail: str) -> Step:
        return self._failed(Failure(kind, detail))

    def on_body_end(self, received: int) -> Step | None:
        """The body ended cleanly after `received` bytes. None: complete, save it now;
        otherwise it was short of Content-Length (retried like a cut connection)."""
        if self.expected is not None and received != self.expected:
            detail = f"{received} of {self.expected} bytes (connection closed)"
            return self._failed(Failure(INCOMPLETE, detail))
        return None

    def on_saved(self, received: int, sha256: str = "") -> None:
        """The complete body is in place under its name."""
        self.result = Result(
            url=self.job.url, name=self.job.name, ok=True, status=self.status, bytes=received,
            attempts=self.attempts, final_url=self.url, sha256=sha256,
        )

    def body_failure(self, received: int, kind: str, detail: str) -> Step:
        """The body could not be read to its end. A timeout stays a timeout; any other error
        after the response head is an incomplete body, however the connection ended."""
        if kind in (TIMEOUT, LOCAL, CANCELLED):
            return self._failed(Failure(kind, detail))
        total = "?" if self.expected is None else str(self.expected)
        return self._failed(Failure(INCOMPLETE, f"{received} of {total} bytes ({detail})"))

    def cancel(self) -> None:
        if self.result is None:
            self._give_up(Failure(CANCELLED, "interrupted"))

    def _redirect(self, location: str | None) -> Step:
        if not location:
            return self._failed(Failure(BAD_REDIRECT, f"HTTP {self.status} without Location"))
        target = urljoin(self.url, location.strip())
        try:
            check_url(target)
        except BadURL:
            return self._failed(Failure(BAD_REDIRECT, f"to {target!r}"))
        if self.redirects >= MAX_REDIRECTS:
            return self._failed(
                Failure(TOO_MANY_REDIRECTS, f"more than {MAX_REDIRECTS} redirects")
            )
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
        self.result = Result(
            url=self.job.url, name=self.job.name, ok=False, status=self.status,
            attempts=self.attempts, final_url=self.url, kind=failure.kind, detail=failure.detail,
        )
        return GiveUp(failure)


def not_started(job: Job) -> Result:
    """The record of a URL that Ctrl-C stopped before it was tried."""
    return Result(url=job.url, name=job.name, ok=False, final_url=job.url,
                  kind=CANCELLED, detail="not started")


def course_get_line(url: str) -> str:
    """The course's line when a download starts (§9c, with --verbose)."""
    return f"GET: {url}"


def course_received_line(count: int, url: str) -> str:
    """The course's line when a body has arrived (§9c, with --verbose)."""
    return f"{count} bytes received from {url}."


def certificate_detail(verify_message: str) -> str:
    """The detail of a TLS failure, in the same words whichever HTTP stack saw it."""
    return f"certificate refused: {verify_message or 'verification failed'}"


def _content_length(value: str | None) -> int | None:
    if value is None:
        return None
    text = value.strip()
    if not text.isdigit():
        return None
    return int(text)


def _status_text(status: int) -> str:
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


@dataclass(frozen=True)
class Summary:
    """What the run did: files saved, failures with their reasons (input order), bytes, time.
    URLs that Ctrl-C stopped are counted as cancelled, not listed one by one."""

    files: int
    failed: int
    cancelled: int
    bytes: int
    seconds: float
    failures: tuple[Result, ...]

    @classmethod
    def of(cls, results: Iterable[Result], seconds: float) -> Summary:
        results = list(results)
        failures = tuple(r for r in results if not r.ok and r.kind != CANCELLED)
        return cls(
            files=sum(result.ok for result in results),
            failed=len(failures),
            cancelled=sum(result.kind == CANCELLED for result in results),
            bytes=sum(result.bytes for result in results if result.ok),
            seconds=seconds,
            failures=failures,
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
        return EXIT_OK if self.failed == 0 else EXIT_FAILED

    def lines(self) -> list[str]:
        rate = self.bytes / self.seconds if self.seconds > 0 else 0.0
        head = (
            f"{self.files} of {self.total} files downloaded, {human_bytes(self.bytes)} "
            f"in {self.seconds:.2f} s ({human_bytes(rate)}/s)"
        )
        if self.interrupted:
            head += f"; interrupted, {self.cancelled} cancelled"
        if not self.failures:
            return [head]
        lines = [f"{head}; {self.failed} failed:"]
        lines += [f"  {result.url}: {result.reason}" for result in self.failures]
        return lines

    def as_json(self) -> dict[str, object]:
        return {
            "files": self.files,
            "failed": self.failed,
            "cancelled": self.cancelled,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 6),
            "failures": [
                {"url": result.url, "kind": result.kind, "reason": result.reason}
                for result in self.failures
            ],
            "exit_code": self.exit_code,
        }


EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def report_json(results: Sequence[Result], summary: Summary, model: str) -> dict[str, object]:
    """The `--json` document: every URL's record in input order, then the summary."""
    return {
        "model": model,
        "results": [result.as_json() for result in results],
        "summary": summary.as_json(),
    }


def human_bytes(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")
