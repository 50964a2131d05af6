"""Thread counterpart of course §9c (the gevent downloader): a `ThreadPoolExecutor` of `-j`
threads, each running blocking `urllib` for one URL at a time.

Schedules: the OS, preemptively; at most `-j` worker threads take URLs from the executor's
queue in input order, and the GIL is released while a thread waits in `recv`.
Blocks: each thread blocks in connect and recv, which is the point: the other threads go on.
The main thread blocks in `as_completed`.
Costs: a thread (its stack, 8 MiB reserved, a little used) per slot, and a new TCP connection
per URL, because urllib sends `Connection: close`.
Counterparts: `classic.gevent_download` (the same code in greenlets), `modern.aiohttp_download`.

Ctrl-C: a blocked thread cannot be interrupted, so the main thread shuts down the sockets of
every open connection (`classic._urllib_fetch.Sockets`): blocked reads fail at once, each
thread removes its `.part` file, and queued URLs are never started.

Course bug: §9c had no limit on concurrency and no error handling; one failing URL raised in
its greenlet and the body was only held in memory. Fixed (in `classic._urllib_fetch`, shared
with the gevent model): a pool of `-j`, failures recorded per URL, bodies written to disk.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed

from classic._urllib_fetch import Sockets, fetch_url
from rosetta.download.report import Report
from rosetta.download.settings import Settings
from rosetta.protocol.download import Job, Result, not_started

MODEL = "classic.threads_download"


# --8<-- [start:download]
def download(jobs: Sequence[Job], settings: Settings, report: Report) -> list[Result]:
    sockets = Sockets(settings)
    results: dict[int, Result] = {}
    with ThreadPoolExecutor(settings.limit, thread_name_prefix="download") as pool:
        futures: dict[Future[Result], Job] = {
            pool.submit(fetch_url, job, settings, report, sockets): job for job in jobs
        }
        try:
            for future in as_completed(futures):
                results[futures[future].index] = future.result()
        except KeyboardInterrupt:
            sockets.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
            for future, job in futures.items():
                if future.done() and not future.cancelled() and future.exception() is None:
                    results[job.index] = future.result()
    return [results.get(job.index) or not_started(job) for job in jobs]


# --8<-- [end:download]


if __name__ == "__main__":
    from rosetta.download.cli import module_main

    sys.exit(module_main(MODEL, sys.modules[__name__], sys.argv[1:]))
