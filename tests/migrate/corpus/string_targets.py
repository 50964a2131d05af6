"""Tests and plug-in loaders name gevent by a dotted string: the string is a use too."""

import importlib
from unittest import mock
from unittest.mock import patch


@patch("gevent.socket.socket")  # expect: gevent-socket
def test_connect(fake_socket: object) -> None:
    with mock.patch("gevent.sleep"):  # expect: sleep
        print(fake_socket)


def test_spawn(monkeypatch: object) -> None:
    monkeypatch.setattr("gevent.spawn", print)  # expect: spawn
    monkeypatch.setattr("os.getpid", print)  # not gevent: nothing


def load() -> object:
    hub = importlib.import_module("gevent.hub")  # expect: other
    print(__import__("greenlet"))  # expect: other
    print("gevent.sleep", getattr(hub, "x", None))  # a string that only mentions gevent
    return mock.patch.object(hub, "sleep")  # an object, not a string: the module is not named
