"""Names that look like gevent's and are not: nothing here may be reported."""

import asyncio
import threading
import time
from dataclasses import dataclass


def spawn(target: object) -> object:
    return target


def sleep(seconds: float) -> None:
    print("not gevent", seconds)


@dataclass
class Clock:
    now: float = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class Job:
    def kill(self) -> None:
        print("kill")

    def join(self) -> None:
        print("join")

    def switch(self) -> None:
        print("switch")


async def main(clock: Clock) -> None:
    await asyncio.sleep(0)
    task = asyncio.create_task(asyncio.sleep(1))
    await asyncio.gather(task)
    clock.sleep(5)
    sleep(1)
    spawn(print)
    time.sleep(0)  # this module never patches, so time.sleep is just time.sleep
    job = Job()
    job.kill()
    job.join()
    job.switch()
    thread = threading.Thread(target=print)
    thread.start()
    thread.join()
    print("gevent.spawn(f) in a string is not code")
    queue: asyncio.Queue[int] = asyncio.Queue()
    print(queue)
