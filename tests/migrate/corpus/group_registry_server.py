"""A chat-style server keeping its clients in a long-lived Group used as a registry."""

from __future__ import annotations

import gevent
from gevent.pool import Group
from gevent.server import StreamServer


class ChatServer:
    def __init__(self, port: int) -> None:
        self.clients = Group()  # expect: group
        self.server = StreamServer(("127.0.0.1", port), self.handle)  # expect: stream-server

    def handle(self, sock: object, address: tuple[str, int]) -> None:
        self.clients.add(gevent.getcurrent())  # expect: group-add, getcurrent
        try:
            while True:
                gevent.sleep(0.1)  # expect: sleep
        finally:
            self.clients.discard(gevent.getcurrent())  # expect: group-add, getcurrent

    def count(self) -> int:
        return len(self.clients)

    def broadcast_stop(self) -> None:
        for client in self.clients:
            client.kill(block=False)  # expect: greenlet-kill

    def quit(self) -> None:
        self.server.stop()
        self.clients.kill(timeout=2)  # expect: killall
        self.clients.join(2)  # expect: pool-join


def serve(port: int) -> None:
    chat = ChatServer(port)
    chat.server.serve_forever()
