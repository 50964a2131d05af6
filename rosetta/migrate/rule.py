"""One entry of the catalogue: a gevent idiom, what replaces it, and what differs in meaning."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    id: str
    gevent: str
    asyncio: str
    caveat: str
    rewrite: bool = False
    awaits: bool = False  # the asyncio form is awaited: the function must become async


CANCEL_NOT_KILL = (
    "cancel() only asks: CancelledError is raised at the task's next await, the task may "
    "catch it, and you must await the task to know it has finished"
)
