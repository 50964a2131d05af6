"""A helper of the modern download models, not a model: the run around a model's
`download_all`, the same for `modern.aiohttp_download` and `modern.protocol_download`.

`run` drives `download_all` on the chosen event loop with `asyncio.Runner`, which turns
Ctrl-C into the cancellation of the main task (each `with PartFile` block then removes or
keeps its part), and gives every URL its record: the finished ones as they were recorded,
the others `not started`. The loop is made without `modern._runtime`, whose servers'
imports a download never needs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from rosetta.download.report import Report
from rosetta.download.settings import Settings
from rosetta.protocol.download import Job, Result, not_started

DownloadAll = Callable[
    [Sequence[Job], Settings, Report, dict[int, Result]], Coroutine[Any, Any, None]
]


def run(
    download_all: DownloadAll,
    jobs: Sequence[Job],
    settings: Settings,
    report: Report,
    loop: str = "uvloop",
) -> list[Result]:
    results: dict[int, Result] = {}
    try:
        with asyncio.Runner(loop_factory=loop_factory(loop)) as runner:
            runner.run(download_all(jobs, settings, report, results))
    except KeyboardInterrupt:
        pass  # Runner cancelled the tasks; finished URLs are in `results`.
    return [results.get(job.index) or not_started(job) for job in jobs]


def loop_factory(loop: str) -> Callable[[], asyncio.AbstractEventLoop]:
    if loop == "uvloop":
        import uvloop

        return uvloop.new_event_loop
    from modern._runtime import loop_factory as named_loop

    return named_loop(loop)
