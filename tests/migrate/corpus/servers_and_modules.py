"""gevent's servers, thread pools, and its cooperative versions of standard modules."""

import signal

import gevent
import gevent.select
import gevent.socket
import gevent.ssl
import gevent.subprocess
from gevent.pywsgi import WSGIServer
from gevent.server import DatagramServer, StreamServer
from gevent.threadpool import ThreadPool


def echo(sock: object, address: object) -> None:
    print(sock, address)


def app(environ: dict, start_response: object) -> list[bytes]:
    return [b"hello"]


def main() -> None:
    StreamServer(("127.0.0.1", 7788), echo).serve_forever()  # expect: stream-server
    DatagramServer(("127.0.0.1", 7789), echo).start()  # expect: datagram-server
    WSGIServer(("127.0.0.1", 7890), app).serve_forever()  # expect: wsgi-server
    workers = ThreadPool(4)  # expect: threadpool
    workers.spawn(print, 1)  # expect: threadpool
    gevent.get_hub().threadpool.apply(print, (2,))  # expect: hub-threadpool
    conn = gevent.socket.create_connection(("127.0.0.1", 7788))  # expect: gevent-socket
    context = gevent.ssl.create_default_context()  # expect: gevent-ssl
    gevent.select.select([conn], [], [], 1.0)  # expect: gevent-select
    gevent.subprocess.run(["true"])  # expect: gevent-subprocess
    print(context, gevent.config)  # expect: other
    on_sigint = gevent.signal_handler(signal.SIGINT, print, "stopping")  # expect: signal-handler
    on_sigint.cancel()
