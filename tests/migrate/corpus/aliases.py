"""Every way of importing gevent under another name."""

import gevent as gv
import gevent.pool as gp
import greenlet as gl
from gevent import queue as q
from gevent import spawn as go
from gevent.monkey import patch_all, patch_socket
from greenlet import greenlet as Coroutine

patch_socket()  # expect: monkey-patch-partial


def job() -> None:
    gv.sleep(1)  # expect: sleep


def main() -> None:
    patch_all(thread=False)  # expect: monkey-patch-all
    task = go(job)  # expect: spawn
    task.join()  # expect: greenlet-join
    workers = gp.Pool(3)  # expect: pool
    workers.map(print, [1, 2])  # expect: pool-map
    inbox = q.Queue()  # expect: queue
    other = Coroutine(job)  # expect: greenlet-greenlet
    other.switch()  # expect: greenlet-switch
    me = gl.getcurrent()  # expect: getcurrent
    print(inbox, me)
