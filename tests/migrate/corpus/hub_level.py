"""A library that works at the level of gevent's hub: its loop, watchers and gevent.os."""

import os
import sys

import gevent
import gevent.os

_read = os.read
if hasattr(gevent.os, "nb_read"):  # expect: other
    _read = gevent.os.nb_read  # expect: other


class Child:
    if sys.platform != "win32":

        def start(self, pid: int) -> None:
            self._watcher = gevent.get_hub().loop.child(pid)  # expect: other
            self._watcher.start(self._on_exit, self._watcher)  # expect: other

        def _on_exit(self, watcher: object) -> None:
            watcher.stop()  # expect: other
            print(os.WEXITSTATUS(watcher.rstatus))  # expect: other

    def read(self, fd: int) -> bytes:
        hub = gevent.get_hub()  # expect: other
        hub.wait(hub.loop.io(fd, 1))  # expect: other, other
        return _read(fd, 4096)  # expect: other


def forget_threads() -> None:
    hub = gevent.get_hub()  # expect: other
    del hub.threadpool  # expect: other
    hub.threadpool.spawn(print)  # expect: threadpool
    size = len("not the hub")
    print(size)
