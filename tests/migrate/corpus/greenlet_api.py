"""Greenlet life cycle: spawning, joining, results, killing, linking."""

import gevent
from gevent import Greenlet, GreenletExit


def work(n: int) -> int:
    try:
        gevent.sleep(0)  # expect: sleep-zero
        gevent.sleep()  # expect: sleep-zero
        gevent.idle()  # expect: sleep-zero
        gevent.sleep(0.5)  # expect: sleep
    except GreenletExit:  # expect: greenlet-exit
        return -1
    return n


class Worker(Greenlet):  # expect: greenlet-class
    def _run(self) -> None:  # expect: greenlet-run
        work(1)


def main() -> None:
    first = gevent.spawn(work, 1)  # expect: spawn
    later = gevent.spawn_later(2, work, 2)  # expect: spawn-later
    gevent.spawn_raw(work, 3)  # expect: spawn-raw
    made = Greenlet(work, 4)  # expect: greenlet-class
    made.start()  # expect: greenlet-start
    jobs = [gevent.spawn(work, n) for n in range(3)]  # expect: spawn
    gevent.joinall(jobs)  # expect: joinall
    gevent.joinall(jobs, raise_error=True)  # expect: joinall-raise-error
    gevent.joinall(jobs, None, False)  # expect: joinall
    for job in jobs:
        print(job.get(timeout=1))  # expect: greenlet-get
    first.link(print)  # expect: greenlet-link
    first.join(timeout=1)  # expect: greenlet-join
    later.kill()  # expect: greenlet-kill
    gevent.kill(made)  # expect: greenlet-kill
    gevent.killall(jobs, block=True)  # expect: killall
    done = gevent.wait([first], timeout=1)  # expect: wait
    for ready in gevent.iwait(jobs):  # expect: wait
        print(ready, done)
    batch: list[Greenlet] = []  # expect: greenlet-class
    batch.append(gevent.spawn(work, 5))  # expect: spawn
    for member in batch:
        member.kill(block=False)  # expect: greenlet-kill


def stop(running: Greenlet) -> None:  # expect: greenlet-class
    running.kill()  # expect: greenlet-kill
