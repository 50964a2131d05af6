"""HTTPS (`--certfile`/`--keyfile`) over every model that serves TLS: the same bytes as plain
HTTP (Date normalised), ranges and large files intact through the TLS layer, ALPN http/1.1,
a plain-HTTP request on the TLS port closed without a traceback, a client that never
handshakes cut at the head deadline while others are served, and `curl --cacert` working.
The models that do not serve TLS refuse the options with one line and exit code 2."""

from __future__ import annotations

import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from parity_tests.accepted_differences import normalise_date
from parity_tests.clients import HTTPReader, Response, connect, is_closed_by_peer, raw_get
from parity_tests.conftest import Certificates, Impl, Site, implementations
from parity_tests.harness import STOP_TIMEOUT, ServerProcess, assert_clean_stop, start_server
from rosetta import registry
from rosetta.tls import server_context

TLS_IMPLS = [pytest.param(impl, id=impl.label) for impl in implementations("http")]
TLS_IMPLS = [param for param in TLS_IMPLS if param.values[0].model.tls]  # type: ignore[union-attr]
REFUSING = [model.name for model in registry.serving("http") if not model.tls]
HEADER_TIMEOUT = 2.0
LARGE_RANGE = "bytes=1000000-2100000"  # 1.05 MiB from the middle of a 3 MiB file

CASES = [
    raw_get("/hello.txt"),
    raw_get("/", "Connection: close"),
    raw_get("/sub"),
    raw_get("/missing.html"),
    raw_get("/large.bin"),
    raw_get("/large.bin", f"Range: {LARGE_RANGE}"),
    raw_get("/hello.txt", method="HEAD"),
]


class Servers:
    """The same model twice: plain HTTP, and HTTPS with the test certificate."""

    def __init__(self, impl: Impl, site: Site, certificates: Certificates) -> None:
        self.impl, self.certificates = impl, certificates
        extra = (*certificates.options, "--header-timeout", str(HEADER_TIMEOUT))
        self.tls = impl.start("http", root=site.root, extra=extra)
        self.plain = impl.start("http", root=site.root)

    def tls_connect(self) -> ssl.SSLSocket:
        return tls_connect(self.tls.address, self.certificates)


def tls_connect(address: tuple[str, int], certificates: Certificates) -> ssl.SSLSocket:
    """A TLS client that trusts the test CA and offers ALPN http/1.1."""
    context = ssl.create_default_context(cafile=str(certificates.ca))
    context.set_alpn_protocols(["http/1.1"])
    return context.wrap_socket(connect(address), server_hostname="localhost")


@pytest.fixture(scope="module", params=TLS_IMPLS)
def servers(
    request: pytest.FixtureRequest, site: Site, certificates: Certificates
) -> Iterator[Servers]:
    pair = Servers(request.param, site, certificates)
    try:
        yield pair
    finally:
        assert_clean_stop(pair.plain)
        assert_clean_stop(pair.tls)


def _exchange(sock: socket.socket, raw: bytes) -> Response:
    with sock:
        sock.sendall(raw)
        return HTTPReader(sock).read(head_only=raw.startswith(b"HEAD "))


def _case_id(raw: bytes) -> str:
    return raw.split(b"\r\n")[0].decode() + (" range" if b"Range:" in raw else "")


@pytest.mark.parametrize("raw", CASES, ids=_case_id)
def test_https_answers_the_bytes_plain_http_does(servers: Servers, raw: bytes) -> None:
    over_tls = _exchange(servers.tls_connect(), raw)
    plain = _exchange(connect(servers.plain.address), raw)
    assert over_tls.status == plain.status
    assert normalise_date(over_tls.raw) == normalise_date(plain.raw)


def test_a_large_file_and_a_range_arrive_intact(servers: Servers, site: Site) -> None:
    content = (site.root / "large.bin").read_bytes()
    assert len(content) > 1 << 20
    whole = _exchange(servers.tls_connect(), raw_get("/large.bin"))
    assert whole.status == 200 and whole.body == content
    part = _exchange(servers.tls_connect(), raw_get("/large.bin", f"Range: {LARGE_RANGE}"))
    assert part.status == 206 and part.body == content[1000000:2100001]


def test_keep_alive_carries_several_answers_over_one_tls_connection(servers: Servers) -> None:
    with servers.tls_connect() as sock:
        reader = HTTPReader(sock)
        for target in ("/hello.txt", "/large.bin", "/style.css"):
            sock.sendall(raw_get(target))
            assert reader.read().status == 200


def test_alpn_selects_http_1_1(servers: Servers) -> None:
    with servers.tls_connect() as sock:
        assert sock.selected_alpn_protocol() == "http/1.1"
        assert sock.version() in ("TLSv1.2", "TLSv1.3")


def test_plain_http_on_the_tls_port_is_closed_without_a_traceback(servers: Servers) -> None:
    before = servers.tls.stderr().count("\n")
    with connect(servers.tls.address) as sock:
        sock.sendall(raw_get("/hello.txt"))
        assert is_closed_by_peer(sock, wait=5.0)
    # The server goes on serving, and said at most one line about it.
    assert _exchange(servers.tls_connect(), raw_get("/hello.txt")).status == 200
    stderr = servers.tls.stderr()
    assert "Traceback" not in stderr
    assert stderr.count("\n") - before <= 1, stderr


def test_a_client_that_never_handshakes_is_cut_at_the_head_deadline(servers: Servers) -> None:
    one_at_a_time = servers.impl.model.one_client_at_a_time
    with connect(servers.tls.address) as silent:
        started = time.monotonic()
        if not one_at_a_time:  # §1 serves the next client only once this one is gone
            assert _exchange(servers.tls_connect(), raw_get("/hello.txt")).status == 200
            # ... served at once, not after the silent one was cut: nothing waits on it.
            assert time.monotonic() - started < HEADER_TIMEOUT
        assert is_closed_by_peer(silent, wait=HEADER_TIMEOUT + 2.0)
        waited = time.monotonic() - started
    assert HEADER_TIMEOUT - 0.5 <= waited <= HEADER_TIMEOUT + 2.0
    assert _exchange(servers.tls_connect(), raw_get("/hello.txt")).status == 200
    assert "Traceback" not in servers.tls.stderr()


def test_curl_with_the_ca_certificate(servers: Servers, site: Site) -> None:
    url = f"https://127.0.0.1:{servers.tls.port}/hello.txt"
    result = subprocess.run(
        [
            "curl",
            "--silent",
            "--show-error",
            "--http1.1",
            "--max-time",
            "20",
            "--cacert",
            str(servers.certificates.ca),
            url,
        ],
        capture_output=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == (site.root / "hello.txt").read_bytes()
    assert servers.tls.ready_line.startswith("rosetta: listening on https://127.0.0.1:")


# -- the models that refuse, and mistakes ------------------------------------------------------


def _serve(*words: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "rosetta", "serve", *words, "--port", "0"]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def test_every_worker_serves_tls(site: Site, certificates: Certificates) -> None:
    extra = ("--workers", "2", *certificates.options)
    server = start_server("http", "modern.protocol", root=site.root, extra=extra)
    try:
        for _ in range(10):  # new connections, spread by the kernel over both workers
            answer = _exchange(tls_connect(server.address, certificates), raw_get("/hello.txt"))
            assert answer.body == (site.root / "hello.txt").read_bytes()
    finally:
        assert_clean_stop(server)


def test_the_context_is_tls_1_2_and_later_with_alpn_http_1_1(certificates: Certificates) -> None:
    context = server_context(str(certificates.cert), str(certificates.key))
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert context.options & ssl.OP_IGNORE_UNEXPECTED_EOF
    with pytest.raises(ssl.SSLError):  # the CA's certificate with the server's key
        server_context(str(certificates.ca), str(certificates.key))


@pytest.mark.parametrize("model", REFUSING)
def test_a_model_that_does_not_serve_tls_refuses_in_one_line(
    model: str, certificates: Certificates
) -> None:
    result = _serve("http", "--model", model, *certificates.options)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert f"model {model} does not serve TLS" in result.stderr


@pytest.mark.parametrize(
    "options",
    [
        pytest.param(("--certfile", "/nonexistent/cert.pem"), id="missing-cert"),
        pytest.param("key-as-cert", id="key-does-not-match"),
        pytest.param(("--keyfile", "k.pem"), id="key-without-cert"),
    ],
)
def test_a_bad_certificate_is_one_line_and_exit_2(
    options: tuple[str, ...] | str, certificates: Certificates
) -> None:
    if options == "key-as-cert":
        options = ("--certfile", str(certificates.ca), "--keyfile", str(certificates.key))
    result = _serve("http", "--model", "classic.threads", *options)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_tls_options_are_a_usage_error_for_echo(certificates: Certificates) -> None:
    result = _serve("echo", *certificates.options)
    assert result.returncode == 2
    assert result.stderr.startswith("rosetta: error: --certfile")


@pytest.mark.parametrize("impl", TLS_IMPLS)
def test_a_stop_closes_open_tls_connections_cleanly(
    impl: Impl, site: Site, certificates: Certificates
) -> None:
    """SIGTERM with a kept-alive TLS client and one that never handshakes: exit 0 without a
    traceback, and the kept-alive client sees the end of the stream, not a TLS error."""
    server: ServerProcess = impl.start("http", root=site.root, extra=certificates.options)
    try:
        with tls_connect(server.address, certificates) as kept, connect(server.address):
            kept.sendall(raw_get("/hello.txt"))
            assert HTTPReader(kept).read().status == 200
            server.proc.send_signal(signal.SIGTERM)
            kept.settimeout(10.0)
            assert kept.recv(100) == b""
            server.proc.wait(timeout=STOP_TIMEOUT)  # one signal: a second may be fatal
    finally:
        assert_clean_stop(server)
