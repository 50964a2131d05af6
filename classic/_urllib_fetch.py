"""A helper of the classic downloaders, not a model: one URL with `urllib`, blocking, which is
what each thread (`classic.threads_download`) or greenlet (`classic.gevent_download`) runs.

The course read a body with `urllib.request.urlopen(url).read()`. Here the same call is made
with the decisions left to `rosetta.protocol.download`: redirects are not followed by urllib
but handed to the protocol (so every model counts and checks them the same way), proxies from
the environment are not used (nor are they by aiohttp), and the body is streamed with `read1`
into a `.part` file instead of being held in memory.

A blocking read cannot be cancelled from another thread. `Sockets` keeps every open
connection's socket so that Ctrl-C can shut them down, which wakes the blocked reads at once.
Under gevent the same code is cooperative: the monkey-patched socket yields to the hub.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from rosetta.download.files import LocalError, PartFile
from rosetta.download.limits import RateLimit, host_of
from rosetta.download.report import Report
from rosetta.download.settings import Settings
from rosetta.protocol import download as protocol
from rosetta.protocol.download import Fetch, Job, Kind, ReadBody, Result, RetryAfter, Step


class Cancelled(Exception):
    """Ctrl-C was pressed: stop this transfer and leave no .part behind."""


class Sockets:
    """The sockets of the connections open right now, so that they can be shut down, and the
    urllib opener whose connections they are (no proxies, redirects left to the protocol)."""

    def __init__(self, settings: Settings) -> None:
        self._open: set[Any] = set()
        self._lock = threading.Lock()
        self.cancelled = threading.Event()
        self._per_host = settings.host_limit
        self._hosts: dict[str, threading.BoundedSemaphore] = {}
        self._rate = (
            RateLimit(settings.limit_rate, time.monotonic()) if settings.limit_rate else None
        )
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), _NoRedirects, _HTTPHandler(self), _HTTPSHandler(self)
        )

    def connection_class(self, base: type[http.client.HTTPConnection]) -> Callable[..., Any]:
        sockets = self

        class TrackedConnection(base):  # type: ignore[valid-type,misc]
            def connect(self) -> None:
                super().connect()
                sockets._add(self.sock)

            def close(self) -> None:
                if self.sock is not None:
                    sockets._discard(self.sock)
                super().close()

        return TrackedConnection

    def host_slot(self, url: str) -> threading.BoundedSemaphore:
        """The semaphore of `--per-host` for the URL's host (made on first use)."""
        with self._lock:
            return self._hosts.setdefault(host_of(url), threading.BoundedSemaphore(self._per_host))

    def pace(self, count: int) -> None:
        """Wait as long as `--limit-rate` asks after `count` more bytes (on the cancel event,
        so that Ctrl-C ends the wait)."""
        if self._rate is None:
            return
        with self._lock:
            pause = self._rate.take(count, time.monotonic())
        if pause:
            self.cancelled.wait(pause)

    def cancel(self) -> None:
        """Stop every transfer: new ones do not start, blocked reads fail at once."""
        self.cancelled.set()
        with self._lock:
            sockets = list(self._open)
        for sock in sockets:
            # SHUT_RDWR: our own blocked recv returns at once, and the server sees the end.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _add(self, sock: Any) -> None:
        with self._lock:
            self._open.add(sock)
        if self.cancelled.is_set():
            self.cancel()

    def _discard(self, sock: Any) -> None:
        with self._lock:
            self._open.discard(sock)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Redirects come back as HTTPError with their Location; the protocol decides."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, sockets: Sockets) -> None:
        super().__init__()
        self._connection = sockets.connection_class(http.client.HTTPConnection)

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(self._connection, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, sockets: Sockets) -> None:
        super().__init__()
        self._connection = sockets.connection_class(http.client.HTTPSConnection)

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(self._connection, req, context=self._context)


def fetch_url(job: Job, settings: Settings, report: Report, sockets: Sockets) -> Result:
    """Download one URL into `settings.output`, with the protocol's retries and redirects."""
    fetch = Fetch(job, settings.policy)
    report.started(job)
    while fetch.result is None:
        if sockets.cancelled.is_set():
            fetch.cancel()
            break
        with sockets.host_slot(fetch.url):
            step = _attempt(fetch, settings, report, sockets)
        if isinstance(step, RetryAfter):
            # The backoff waits on the cancel event rather than in sleep(), so Ctrl-C ends it.
            sockets.cancelled.wait(step.seconds)
    assert fetch.result is not None
    report.finished(fetch.result)
    return fetch.result


def _attempt(fetch: Fetch, settings: Settings, report: Report, sockets: Sockets) -> Step | None:
    headers = {**protocol.REQUEST_HEADERS, **fetch.request_headers()}
    request = urllib.request.Request(fetch.url, headers=headers)
    try:
        response = sockets.opener.open(request, timeout=settings.timeout)
    except urllib.error.HTTPError as error:
        # 3xx, 4xx and 5xx arrive as exceptions; each is still a response.
        response = error
    except (OSError, http.client.HTTPException, ValueError) as error:
        return fetch.on_error(*_classify(error, settings, sockets))
    with response:
        step = fetch.on_response(
            response.status,
            response.headers.get("Location"),
            response.headers.get("Content-Length"),
            content_range=response.headers.get("Content-Range"),
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
        )
        if not isinstance(step, ReadBody):
            return step
        return _save_body(fetch, step, response, settings, report, sockets)


def _save_body(
    fetch: Fetch,
    reading: ReadBody,
    response: Any,
    settings: Settings,
    report: Report,
    sockets: Sockets,
) -> Step | None:
    try:
        with PartFile(settings.output, fetch.job, reading, sha256=settings.digests) as part:
            try:
                while chunk := response.read1(protocol.CHUNK_SIZE):
                    if sockets.cancelled.is_set():
                        raise Cancelled
                    part.write(chunk)
                    report.received(fetch.job, len(chunk))
                    sockets.pace(len(chunk))
            except (OSError, http.client.HTTPException, Cancelled) as error:
                return fetch.body_failure(part.received, *_classify(error, settings, sockets))
            return part.finish(fetch)
    except LocalError as error:
        return fetch.on_error(Kind.LOCAL, str(error))


def _classify(error: BaseException, settings: Settings, sockets: Sockets) -> tuple[Kind, str]:
    if sockets.cancelled.is_set() or isinstance(error, Cancelled):
        return Kind.CANCELLED, protocol.INTERRUPTED
    if isinstance(error, urllib.error.URLError) and isinstance(error.reason, BaseException):
        error = error.reason
    if isinstance(error, ssl.SSLCertVerificationError):
        return Kind.TLS, protocol.certificate_detail(error.verify_message)
    if isinstance(error, TimeoutError):
        return Kind.TIMEOUT, protocol.timeout_detail(settings.timeout)
    return Kind.CONNECTION, _describe(error)


def _describe(error: BaseException) -> str:
    if isinstance(error, urllib.error.URLError):
        return str(error.reason)
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
