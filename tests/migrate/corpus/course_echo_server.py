"""The course's gevent echo server (§10), written as it was: patch first, then plain sockets."""

from gevent import monkey

monkey.patch_all()  # expect: monkey-patch-all

import socket  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402


def handle_request(conn: socket.socket) -> None:
    while True:
        data = conn.recv(1024)
        if not data:
            conn.close()
            break
        print("recv:", data)
        conn.send(data)
        time.sleep(0.01)  # expect: patched-time-sleep


def server(port: int) -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # expect: patched-socket
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("", port))
    s.listen(5)
    while True:
        cli, addr = s.accept()
        print("now serving", addr)
        gevent.spawn(handle_request, cli)  # expect: spawn


if __name__ == "__main__":
    server(7788)
