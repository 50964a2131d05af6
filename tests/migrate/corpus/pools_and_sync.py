"""Pools, groups, queues, events, locks and greenlet-local storage."""

import gevent.event
import gevent.local
import gevent.lock
import gevent.pool
import gevent.queue


def square(n: int) -> int:
    return n * n


def main() -> None:
    pool = gevent.pool.Pool(10)  # expect: pool
    group = gevent.pool.Group()  # expect: group
    pool.spawn(square, 2)  # expect: pool-spawn
    print(pool.map(square, range(5)))  # expect: pool-map
    print(list(pool.imap(square, range(5))))  # expect: pool-map
    for result in pool.imap_unordered(square, range(5)):  # expect: pool-imap-unordered
        print(result)
    task = group.spawn(square, 3)  # expect: pool-spawn
    task.join()  # expect: greenlet-join
    pool.join()  # expect: pool-join
    pool.kill()  # expect: killall

    jobs = gevent.queue.Queue(maxsize=5)  # expect: queue
    pending = gevent.queue.JoinableQueue()  # expect: joinable-queue
    handoff = gevent.queue.Channel()  # expect: channel
    ready = gevent.event.Event()  # expect: event
    answer = gevent.event.AsyncResult()  # expect: async-result
    gate = gevent.lock.Semaphore(2)  # expect: semaphore
    bounded = gevent.lock.BoundedSemaphore(2)  # expect: bounded-semaphore
    request_state = gevent.local.local()  # expect: local
    print(jobs, pending, handoff, ready, answer, gate, bounded, request_state)
