"""Code already made async: the mechanical rewrites apply inside async def only."""

import time

import gevent
from gevent import monkey
from gevent import sleep as nap

monkey.patch_time()  # expect: monkey-patch-partial


async def poll(jobs: list) -> None:
    # give the others a turn first
    gevent.sleep(0)  # expect: sleep-zero
    nap(0.5)  # a short pause  # expect: sleep
    time.sleep(1)  # expect: patched-time-sleep
    gevent.joinall(jobs)  # expect: joinall
    gevent.joinall(jobs, raise_error=True)  # expect: joinall-raise-error
    gevent.joinall(jobs, timeout=2)  # expect: joinall


def still_sync() -> None:
    gevent.sleep(1)  # expect: sleep
