"""The course's gevent downloader (§9c): urllib made cooperative by patching."""

from gevent import monkey

monkey.patch_all()  # expect: monkey-patch-all

import urllib.request  # noqa: E402

import gevent  # noqa: E402


def my_download(url: str) -> None:
    print(f"GET: {url}")
    with urllib.request.urlopen(url) as response:  # expect: patched-urllib
        data = response.read()
    print(f"{len(data)} bytes received from {url}.")


def main() -> None:
    gevent.joinall([  # expect: joinall
        gevent.spawn(my_download, "http://127.0.0.1:7890/"),  # expect: spawn
        gevent.spawn(my_download, "http://127.0.0.1:7890/a"),  # expect: spawn
    ])
