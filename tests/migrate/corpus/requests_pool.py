"""Requests sent from a gevent Pool under patch_all, in the style of published helpers."""

import gevent
import requests
from gevent import monkey
from gevent.pool import Pool

monkey.patch_all(thread=False, select=False)  # expect: monkey-patch-all


class Fetch:
    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()  # expect: patched-requests
        self.body = b""

    def run(self) -> None:
        self.body = self.session.get(self.url).content  # expect: patched-requests
        self.session.close()  # nothing to await


def send(fetch: Fetch, pool=None):
    if pool is not None:
        return pool.spawn(fetch.run)  # expect: pool-spawn
    return gevent.spawn(fetch.run)  # expect: spawn


def fetch_all(urls: list[str], size: int = 0) -> list[bytes]:
    pool = Pool(size) if size else None  # expect: pool
    jobs = [send(Fetch(url), pool) for url in urls]
    gevent.joinall(jobs)  # expect: joinall
    return [b"" for _ in jobs]


def helper(count: int) -> int:
    return count + 1


print(helper(3), send)
