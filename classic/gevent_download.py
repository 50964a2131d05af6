"""Course §9c: the gevent downloader. `monkey.patch_all()` first, then `urllib` in one
greenlet per URL (`gevent.spawn`), all awaited with `gevent.joinall`.

Schedules: gevent's hub (libev) runs the greenlets; a greenlet gives way whenever the patched
socket would block, so the downloads overlap in one thread. A `gevent.pool.Pool` of `-j`
bounds how many run at once (`pool.spawn` waits for a free slot).
Blocks: nothing that goes through the patched socket; anything CPU-bound or not patched
(a C extension doing its own I/O) blocks every greenlet.
Costs: a greenlet (a few KiB) per URL and a new TCP connection per URL (urllib sends
`Connection: close`); no threads.
Counterparts: `modern.aiohttp_download` (tasks on an event loop), `classic.threads_download`.

Monkey patching is process-wide: it replaces `socket`, `ssl`, `time.sleep`, `threading`... for
everything in the process. So it happens only when this file is the program
(`python -m classic.gevent_download URL...`, which `rosetta download --model
classic.gevent_download` runs as a subprocess of its own); a process that merely imports this
module (a test, the docs) is never patched, and then the greenlets would simply run one at a
time.

Course bug: `monkey.patch_all()` came after the other imports, so modules imported before it
kept the unpatched socket. Fixed: it is the first statement.
Course bug: no limit on concurrency, no error handling (one bad URL raised in its greenlet),
the body only read into memory. Fixed: a Pool of `-j`, a record per URL, the body saved
through `.part` and a rename (`classic._urllib_fetch`, shared with the thread model).
"""

from __future__ import annotations

# --8<-- [start:patch]
from gevent import monkey

if __name__ == "__main__":
    monkey.patch_all()
# --8<-- [end:patch]

# Every import below comes after patch_all, on purpose: they all see the patched modules.
import itertools
import signal
import sys
from collections.abc import Sequence

import gevent
from gevent.pool import Pool

from classic._urllib_fetch import Sockets, fetch_url
from rosetta.download.report import Report
from rosetta.download.settings import Settings
from rosetta.protocol.download import Job, Result, not_started

MODEL = "classic.gevent_download"


# --8<-- [start:download]
def myDownLoad(job: Job, settings: Settings, report: Report, sockets: Sockets) -> Result:
    # The course printed "GET: url" here and "N bytes received from url." at the end;
    # `report` prints both with --verbose (see rosetta.download.report.course_*_line).
    return fetch_url(job, settings, report, sockets)


def download(jobs: Sequence[Job], settings: Settings, report: Report) -> list[Result]:
    sockets = Sockets(settings)
    pool = Pool(settings.limit)

    def interrupted() -> None:
        # Runs in the hub on Ctrl-C or SIGTERM, instead of a KeyboardInterrupt landing in
        # whichever greenlet happened to run. GreenletExit is raised where each greenlet waits, and
        # its `with PartFile` block removes the .part file on the way out.
        sockets.cancelled.set()
        pool.kill(block=False)

    handlers = [
        gevent.signal_handler(signum, interrupted) for signum in (signal.SIGINT, signal.SIGTERM)
    ]
    greenlets = []
    try:
        for job in jobs:
            if sockets.cancelled.is_set():
                break
            greenlets.append(pool.spawn(myDownLoad, job, settings, report, sockets))
        gevent.joinall(greenlets)
    finally:
        for handler in handlers:
            handler.cancel()
    # A killed greenlet's value is the GreenletExit that ended it, not a Result.
    results = [greenlet.value for greenlet in greenlets]
    return [
        result if isinstance(result, Result) else not_started(job)
        for job, result in itertools.zip_longest(jobs, results[: len(jobs)])
    ]


# --8<-- [end:download]


if __name__ == "__main__":
    from rosetta.download.cli import module_main

    sys.exit(module_main(MODEL, sys.modules[__name__], sys.argv[1:]))
