"""gevent.Timeout in its forms, and with_timeout."""

import gevent
from gevent import Timeout


def fetch() -> str:
    return "data"


def main() -> None:
    with Timeout(5):  # expect: timeout
        fetch()
    with gevent.Timeout(1, False):  # expect: timeout-silent
        fetch()
    with Timeout(2, exception=False):  # expect: timeout-silent
        fetch()
    timer = Timeout.start_new(3)  # expect: timeout-start
    try:
        fetch()
    except gevent.Timeout:  # expect: timeout
        pass
    finally:
        timer.cancel()  # expect: timeout-start
    value = gevent.with_timeout(1, fetch, timeout_value="late")  # expect: with-timeout
    print(value)
