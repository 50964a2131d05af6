"""Modern counterpart of course §9c (the gevent downloader): one `aiohttp.ClientSession`,
a task per URL in an `asyncio.TaskGroup`, an `asyncio.Semaphore` of `-j`, on uvloop.

Schedules: the event loop runs one task per URL, created once the semaphore has a free slot
(so at most `-j` tasks exist at a time); a task gives the loop back at every `await`
(connect, response head, each body chunk, the backoff sleep).
Blocks: nothing but the loop's wait for readiness; the file writes are small and local
(64 KiB chunks), so they stay on the loop rather than in a thread.
Costs: a task per URL (about 1 KiB each); the session's connector keeps at most `-j`
connections and reuses them (keep-alive), so 1000 small files take `-j` TCP handshakes, not
1000 as with urllib.

Migrating from `classic.gevent_download`: `monkey.patch_all()` goes away (nothing is
patched; the code says `await` where it may wait); `gevent.spawn` + `joinall` become
`TaskGroup.create_task` and the end of the `async with` block; the `Pool` becomes a
`Semaphore` (and the connector's `limit`); `urlopen(url).read()` becomes
`session.get(url)` and `response.content.iter_any()`; killing greenlets on Ctrl-C becomes
task cancellation, which `asyncio.Runner` does by itself: `CancelledError` is raised where
each task waits and its `with PartFile` block removes the `.part` file.
"""

from __future__ import annotations

import asyncio
import ssl
import sys
from collections.abc import Sequence

import aiohttp
from yarl import URL

from modern._download import run
from rosetta.download.files import LocalError, PartFile
from rosetta.download.limits import RateLimit
from rosetta.download.report import Report
from rosetta.download.settings import Settings
from rosetta.protocol.download import (
    REQUEST_HEADERS,
    Fetch,
    Job,
    Kind,
    ReadBody,
    Result,
    RetryAfter,
    Step,
    certificate_detail,
    timeout_detail,
)

MODEL = "modern.aiohttp_download"
NETWORK_ERRORS = (aiohttp.ClientError, OSError, asyncio.TimeoutError)


# Every download model's entry point, the registry's one signature: alike on purpose.
def download(
    jobs: Sequence[Job], settings: Settings, report: Report, loop: str = "uvloop"
) -> list[Result]:
    return run(download_all, jobs, settings, report, loop)


# --8<-- [start:download]
# --8<-- [start:tasks]
async def download_all(
    jobs: Sequence[Job], settings: Settings, report: Report, results: dict[int, Result]
) -> None:
    limit = asyncio.Semaphore(settings.limit)
    timeout = aiohttp.ClientTimeout(
        total=None, sock_connect=settings.timeout, sock_read=settings.timeout
    )
    connector = aiohttp.TCPConnector(limit=settings.limit, limit_per_host=settings.host_limit)
    loop = asyncio.get_running_loop()
    rate = RateLimit(settings.limit_rate, loop.time()) if settings.limit_rate else None
    async with (
        aiohttp.ClientSession(
            connector=connector,
            timeout=timeout,
            headers=REQUEST_HEADERS,
            auto_decompress=False,
            cookie_jar=aiohttp.DummyCookieJar(),
        ) as session,
        asyncio.TaskGroup() as tasks,
    ):
        for job in jobs:
            # A slot first, then the task: at most -j tasks exist at once, so a list of a
            # million URLs costs a million tasks over time, never a million at a time.
            await limit.acquire()
            tasks.create_task(download_one(session, limit, job, settings, report, results, rate))
            # --8<-- [end:tasks]


async def download_one(
    session: aiohttp.ClientSession,
    limit: asyncio.Semaphore,
    job: Job,
    settings: Settings,
    report: Report,
    results: dict[int, Result],
    rate: RateLimit | None,
) -> None:
    try:
        fetch = Fetch(job, settings.policy)
        report.started(job)
        while fetch.result is None:
            step = await attempt(session, fetch, settings, report, rate)
            if isinstance(step, RetryAfter):
                await asyncio.sleep(step.seconds)
        results[job.index] = fetch.result
        report.finished(fetch.result)
    finally:
        limit.release()


async def attempt(
    session: aiohttp.ClientSession,
    fetch: Fetch,
    settings: Settings,
    report: Report,
    rate: RateLimit | None,
) -> Step | None:
    url = URL(fetch.url, encoded=True)
    extra = fetch.request_headers() or None  # usually none: the session's own suffice
    try:
        response = await session.get(url, allow_redirects=False, headers=extra)
    except NETWORK_ERRORS as error:
        return fetch.on_error(*classify(error, settings))
    async with response:
        head = response.headers
        step = fetch.on_response(
            response.status,
            head.get("Location"),
            head.get("Content-Length"),
            content_range=head.get("Content-Range"),
            etag=head.get("ETag"),
            last_modified=head.get("Last-Modified"),
        )
        if not isinstance(step, ReadBody):
            return step
        try:
            with PartFile(settings.output, fetch.job, step, sha256=settings.digests) as part:
                try:
                    async for chunk in response.content.iter_any():
                        part.write(chunk)
                        report.received(fetch.job, len(chunk))
                        if rate and (
                            pause := rate.take(len(chunk), asyncio.get_running_loop().time())
                        ):
                            await asyncio.sleep(pause)
                except NETWORK_ERRORS as error:
                    return fetch.body_failure(part.received, *classify(error, settings))
                return part.finish(fetch)
        except LocalError as error:
            return fetch.on_error(Kind.LOCAL, str(error))


# --8<-- [end:download]


def classify(error: BaseException, settings: Settings) -> tuple[Kind, str]:
    cause: BaseException | None = error
    for _ in range(5):  # aiohttp wraps the socket's error in its own (a bounded walk)
        if cause is None:
            break
        if isinstance(cause, aiohttp.ClientConnectorCertificateError):
            cause = cause.certificate_error
        if isinstance(cause, ssl.SSLCertVerificationError):
            return Kind.TLS, certificate_detail(cause.verify_message)
        if isinstance(cause, asyncio.TimeoutError):
            return Kind.TIMEOUT, timeout_detail(settings.timeout)
        cause = cause.__cause__ or cause.__context__
    cause = error
    for _ in range(5):  # the socket's own words, if aiohttp kept them
        if cause is None:
            break
        if isinstance(cause, OSError) and cause.strerror:
            return Kind.CONNECTION, cause.strerror
        if isinstance(cause, aiohttp.ClientConnectorError) and cause.os_error.strerror:
            return Kind.CONNECTION, cause.os_error.strerror
        cause = cause.__cause__ or cause.__context__
    if isinstance(error, aiohttp.ClientPayloadError):
        return Kind.CONNECTION, "connection closed"
    text = str(error)
    return Kind.CONNECTION, f"{type(error).__name__}: {text}" if text else type(error).__name__


if __name__ == "__main__":
    from rosetta.download.cli import module_main

    sys.exit(module_main(MODEL, sys.modules[__name__], sys.argv[1:]))
