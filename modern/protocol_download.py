"""Modern counterpart of course §9c (the gevent downloader) in the idiom of `modern.protocol`:
asyncio Protocols and httptools' response parser instead of an HTTP client library, a
keep-alive pool of connections per host, TLS through the loop's own SSL, on uvloop.

Schedules: `-j` worker tasks on the event loop, each taking the next URL when it is done
with one (so there are never more than `-j` tasks, and no task per URL); a worker gives the
loop back while it waits for a connection, a response head, the end of a body or a backoff.
The body does not pass through the task at all: each read lands in the pool's buffer,
httptools parses the head, and a body of known length goes from that buffer straight to the
`.part` file (a chunked one through httptools' `on_body`).
Blocks: nothing but the loop's wait for readiness; the writes are small and local.
Costs: `-j` tasks and at most `-j` connections for the whole run, kept alive and reused; per
URL, one request head written (with the others of its turn of the loop, in one burst, so an
idle server wakes once for them) and its answer's head parsed; no future, stream buffer or
copy of the body per read.
Counterparts: `modern.aiohttp_download` (the same decisions through aiohttp),
`classic.gevent_download`, `classic.threads_download`.

Course bug: §9c had no limit, no error handling and held each body in memory. Fixed as in
every download model: `-j`, a record per URL, `NAME.part` and a rename, the protocol's decisions.
"""

from __future__ import annotations

import asyncio
import ssl
import sys
from collections.abc import Iterator, Sequence

from modern import _http_client as wire
from modern._download import run
from rosetta.download.files import LocalError, PartFile
from rosetta.download.limits import RateLimit
from rosetta.download.report import Report
from rosetta.download.settings import Settings
from rosetta.protocol.download import (
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

MODEL = "modern.protocol_download"
NETWORK_ERRORS = (OSError, wire.SilentServer, TimeoutError)


# Every download model's entry point, the registry's one signature: alike on purpose.
def download(
    jobs: Sequence[Job], settings: Settings, report: Report, loop: str = "uvloop"
) -> list[Result]:
    return run(download_all, jobs, settings, report, loop)


# --8<-- [start:download]
async def download_all(
    jobs: Sequence[Job], settings: Settings, report: Report, results: dict[int, Result]
) -> None:
    pool = wire.Pool(settings.timeout, settings.host_limit, settings.limit)
    loop = asyncio.get_running_loop()
    rate = RateLimit(settings.limit_rate, loop.time()) if settings.limit_rate else None
    queue = iter(jobs)  # shared: each worker takes the next job when it is free
    try:
        async with asyncio.TaskGroup() as workers:
            for _ in range(min(settings.limit, len(jobs))):
                workers.create_task(worker(queue, pool, settings, report, results, rate))
    finally:
        pool.close()


async def worker(
    queue: Iterator[Job],
    pool: wire.Pool,
    settings: Settings,
    report: Report,
    results: dict[int, Result],
    rate: RateLimit | None,
) -> None:
    for job in queue:
        fetch = Fetch(job, settings.policy)
        report.started(job)
        while fetch.result is None:
            step = await attempt(pool, fetch, settings, report, rate)
            if isinstance(step, RetryAfter):
                await asyncio.sleep(step.seconds)
        results[job.index] = fetch.result
        report.finished(fetch.result)


async def attempt(
    pool: wire.Pool, fetch: Fetch, settings: Settings, report: Report, rate: RateLimit | None
) -> Step | None:
    address, target = pool.address_of(fetch.url)
    head = pool.request_head(address, target, fetch.request_headers())
    async with pool.slot(address):
        connection: wire.Connection | None = None
        try:
            connection = await pool.connection(address)
            try:
                status, headers = await connection.request(head)
            except wire.ClosedEarly:
                if not connection.reused or connection.started:
                    raise
                connection = await pool.connect(address)  # closed while idle: once more
                status, headers = await connection.request(head)
        except NETWORK_ERRORS as error:
            if connection is not None:
                connection.close()
            return fetch.on_error(*classify(error, settings))
        try:
            step = await exchange(connection, status, headers, fetch, settings, report, rate)
        except BaseException:
            connection.close()  # cancelled or failed halfway: never reused
            raise
        pool.release(address, connection)
        return step


async def exchange(
    connection: wire.Connection,
    status: int,
    headers: dict[str, str],
    fetch: Fetch,
    settings: Settings,
    report: Report,
    rate: RateLimit | None,
) -> Step | None:
    step = fetch.on_response(
        status,
        headers.get("location"),
        headers.get("content-length"),
        content_range=headers.get("content-range"),
        etag=headers.get("etag"),
        last_modified=headers.get("last-modified"),
    )
    if not isinstance(step, ReadBody):
        try:  # read to its end, so that the connection can serve the next request
            await connection.read_body(len)
        except NETWORK_ERRORS:
            connection.close()
        return step
    try:
        with PartFile(settings.output, fetch.job, step, sha256=settings.digests) as part:

            def save(chunk: bytes) -> None:
                part.write(chunk)
                report.received(fetch.job, len(chunk))
                if rate is not None and (pause := rate.take(len(chunk), connection.loop.time())):
                    connection.pause(pause)

            try:
                await connection.read_body(save)
            except NETWORK_ERRORS as error:
                connection.close()
                return fetch.body_failure(part.received, *classify(error, settings))
            return part.finish(fetch)
    except LocalError as error:
        connection.close()
        return fetch.on_error(Kind.LOCAL, str(error))


# --8<-- [end:download]


def classify(error: BaseException, settings: Settings) -> tuple[Kind, str]:
    if isinstance(error, ssl.SSLCertVerificationError):
        return Kind.TLS, certificate_detail(error.verify_message)
    if isinstance(error, wire.SilentServer | TimeoutError):
        return Kind.TIMEOUT, timeout_detail(settings.timeout)
    if isinstance(error, OSError) and error.strerror:
        return Kind.CONNECTION, error.strerror
    text = str(error)
    return Kind.CONNECTION, text or type(error).__name__


if __name__ == "__main__":
    from rosetta.download.cli import module_main

    sys.exit(module_main(MODEL, sys.modules[__name__], sys.argv[1:]))
