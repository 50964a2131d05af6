"""The course's greenlet demo (§8) and gevent demos (§9a, §9b)."""

import gevent
from greenlet import greenlet


def test1() -> None:
    print("---A--")
    gr2.switch()  # expect: greenlet-switch


def test2() -> None:
    print("---B--")
    gr1.switch()  # expect: greenlet-switch


gr1 = greenlet(test1)  # expect: greenlet-greenlet
gr2 = greenlet(test2)  # expect: greenlet-greenlet


def f(n: int) -> None:
    for i in range(n):
        print(gevent.getcurrent(), i)  # expect: getcurrent
        gevent.sleep(1)  # expect: sleep


def main() -> None:
    gr1.switch()  # expect: greenlet-switch
    g1 = gevent.spawn(f, 5)  # expect: spawn
    g2 = gevent.spawn(f, 5)  # expect: spawn
    g1.join()  # expect: greenlet-join
    g2.join()  # expect: greenlet-join
