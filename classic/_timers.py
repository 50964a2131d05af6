"""Deadlines of many connections in one heap, for the readiness-family models (§4, §5, §6):
the nearest one is the timeout of the next `select` / `epoll.poll`, and what has passed is
handled when the wait returns.

    timers.set(key, when)       # a connection's deadline (monotonic seconds), None for none
    timers.timeout(now)         # seconds to wait at most, None for "until something happens"
    timers.expired(now)         # the keys whose deadline has passed, each reported once

A moved deadline pushes a new entry and leaves the old one to be skipped when it surfaces;
the heap is rebuilt when stale entries outnumber live ones, so it stays O(connections).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Hashable
from typing import Generic, TypeVar

Key = TypeVar("Key", bound=Hashable)


class Timers(Generic[Key]):
    """Monotonic deadlines by key, nearest first."""

    __slots__ = ("_due", "_heap", "_order")

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Key]] = []
        self._due: dict[Key, float] = {}
        self._order = itertools.count()

    def set(self, key: Key, when: float | None) -> None:
        if when is None:
            self._due.pop(key, None)
            return
        if self._due.get(key) == when:
            return
        self._due[key] = when
        heapq.heappush(self._heap, (when, next(self._order), key))
        if len(self._heap) > 2 * len(self._due) + 64:
            self._heap = [(due, next(self._order), key) for key, due in self._due.items()]
            heapq.heapify(self._heap)

    def discard(self, key: Key) -> None:
        self._due.pop(key, None)

    def timeout(self, now: float) -> float | None:
        heap, due = self._heap, self._due
        while heap and due.get(heap[0][2]) != heap[0][0]:
            heapq.heappop(heap)
        if not heap:
            return None
        return max(0.0, heap[0][0] - now)

    def expired(self, now: float) -> list[Key]:
        heap, due = self._heap, self._due
        passed = []
        while heap and heap[0][0] <= now:
            when, _, key = heapq.heappop(heap)
            if due.get(key) == when:
                del due[key]
                passed.append(key)
        return passed
