"""An event emitter in the style of published ones: queues, results and greenlets followed."""

from collections import defaultdict

import gevent
from gevent.event import AsyncResult, Event
from gevent.lock import Semaphore
from gevent.pywsgi import WSGIHandler
from gevent.queue import JoinableQueue, Queue


class Emitter:
    _worker = None

    def __init__(self) -> None:
        self._queue = Queue()  # expect: queue
        self._callbacks: dict = defaultdict(list)
        self._stopped = Event()  # expect: event

    def emit(self, event: str, *args: object) -> None:
        self._queue.put((event, args))  # expect: queue
        if self._worker is None or self._worker.ready():  # expect: greenlet-state
            self._worker = gevent.spawn(self._run)  # expect: spawn

    def _run(self) -> None:
        for event, args in self._queue:  # expect: queue
            for callback in self._callbacks[event]:
                callback(*args)
            if self._queue.empty():  # the same in asyncio: nothing to change
                break

    def wait_event(self, event: str, timeout: float | None = None) -> object:
        result = AsyncResult()  # expect: async-result
        self._callbacks[event].append(result.set)  # expect: async-result
        return result.get(True, timeout)  # expect: async-result

    def stop(self) -> None:
        self._stopped.set()  # the same in asyncio: nothing to change
        self._stopped.wait(5)  # expect: event
        worker = self._worker
        if worker is not None and not worker.successful():  # expect: greenlet-state
            print("the worker failed")


def drain(jobs: JoinableQueue) -> None:  # expect: joinable-queue
    jobs.join()  # expect: joinable-queue
    print(jobs.qsize())


class Pipe:
    def __init__(self) -> None:
        self._lock = Semaphore(value=1)  # expect: semaphore

    def send(self, data: bytes) -> None:
        with self._lock:  # expect: semaphore
            print(data)

    def close(self) -> None:
        if not self._lock.acquire(blocking=False):  # expect: semaphore
            raise RuntimeError("busy")
        self._lock.release()  # the same in asyncio: nothing to change


class QuietHandler(WSGIHandler):  # expect: wsgi-server
    def log_request(self) -> None:
        pass
