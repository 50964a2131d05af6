"""A supervised worker pool, in the style of job-queue daemons: objects followed through
attributes, containers, parameters, subclasses and bound methods."""

from __future__ import annotations

import atexit

import gevent
from gevent import Greenlet, Timeout
from gevent.pool import Group, Pool
from gevent.threadpool import ThreadPool


class WorkerRestart(Exception):
    """Raised inside a worker to make it start over."""


class Worker(Greenlet):  # expect: greenlet-class
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def _run(self) -> None:  # expect: greenlet-run
        while True:
            gevent.sleep(1)  # expect: sleep

    def stop(self) -> None:
        self.kill(block=False)  # expect: greenlet-kill


class Supervisor:
    monitor: gevent.Greenlet | None = None  # expect: greenlet-class

    def __init__(self, size: int, backoff: tuple[float, ...] = (0.5,)) -> None:
        self.pool = Pool(size)  # expect: pool
        self.threads = ThreadPool(2)  # expect: threadpool
        self.workers: dict[str, Greenlet] = {}  # expect: greenlet-class
        self.deadline = Timeout(30)  # expect: timeout
        self.backoff = backoff
        self._quick_put = self.pool.spawn  # expect: pool-spawn
        atexit.register(self.pool.kill)  # expect: killall

    def start(self, names: list[str]) -> None:
        self.deadline.start()  # expect: timeout-start
        for name in names:
            self.workers[name] = self.pool.spawn(self.work, name)  # expect: pool-spawn
        self.monitor = gevent.spawn(self.supervise)  # expect: spawn
        self.threads.spawn(self.checksum, names)  # expect: threadpool
        print(self.threads.apply(len, (names,)))  # expect: threadpool

    def work(self, name: str) -> None:
        gevent.sleep(*self.backoff)  # expect: sleep

    def checksum(self, names: list[str]) -> int:
        return sum(map(len, names))

    def supervise(self) -> None:
        for job in self.workers.values():
            if job.dead:
                job.kill(WorkerRestart)  # expect: kill-exception
        first = self.workers.get("first")
        if first is not None:
            self.pool.killone(first)  # expect: greenlet-kill

    def stop(self) -> None:
        self.deadline.cancel()  # expect: timeout-start
        if self.monitor is not None:
            self.monitor.kill()  # expect: greenlet-kill
        self.pool.kill()  # expect: killall


def run_batch(pool: Pool, timeout=Timeout) -> None:  # expect: pool, timeout
    with timeout(5):  # expect: timeout
        pool.spawn(print, "batch")  # expect: pool-spawn
    pool.join(timeout=5)  # expect: pool-join


def fan_out() -> bool:
    grp = Group()  # expect: group
    grp.add(gevent.spawn(print, "one"))  # expect: group-add, spawn
    workers = [Worker.spawn("w") for _ in range(2)]  # expect: spawn
    late = Worker("late")
    late.start()  # expect: greenlet-start
    cancel = Greenlet.kill  # expect: greenlet-kill
    cancel(late)
    for worker in workers:
        worker.join()  # expect: greenlet-join
    grp.join(raise_error=True)  # expect: pool-join-raise-error
    return grp.join(timeout=1)  # expect: pool-join
