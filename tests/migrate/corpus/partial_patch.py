"""Only sockets are patched: time.sleep and threads were never cooperative here."""

import socket
import threading
import time
import urllib.request
from collections.abc import Callable

import gevent.monkey
import requests

gevent.monkey.patch_socket()  # expect: monkey-patch-partial


def fetch(url: str) -> bytes:
    time.sleep(0.1)
    with urllib.request.urlopen(url) as response:  # expect: patched-urllib
        return response.read()


def lookup(host: str) -> list:
    return socket.getaddrinfo(host, 80)  # expect: patched-socket


def main() -> None:
    worker = threading.Thread(target=fetch, args=("http://127.0.0.1/",))
    worker.start()
    worker.join()
    print(requests.get("http://127.0.0.1/").status_code)  # expect: patched-requests


# Naming the type of a patched class runs nothing: not a finding.
SocketHandler = Callable[[socket.socket], None]
