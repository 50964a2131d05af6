"""No gevent here: these calls cooperate only because the package __init__ patched."""

import socket
import time

import requests


def fetch(url: str) -> bytes:
    time.sleep(0.1)  # expect: patched-time-sleep
    return requests.get(url).content  # expect: patched-requests


def probe(host: str) -> None:
    socket.create_connection((host, 80)).close()  # expect: patched-socket
