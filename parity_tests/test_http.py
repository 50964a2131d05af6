"""Static HTTP parity: every model answers the same requests with the same bytes.

The raw responses (Date normalised) are compared against a reference model started once per
session; the cases cover what the course's web server got wrong: methods, malformed input,
keep-alive and pipelining, conditional and range requests, and path traversal.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator

import pytest

from parity_tests.accepted_differences import comparable, keeps_alive
from parity_tests.clients import (
    HTTPReader,
    Response,
    connect,
    get,
    is_closed_by_peer,
    raw_get,
    request,
    reset,
)
from parity_tests.conftest import Site
from parity_tests.harness import ServerProcess, start_server, stopped_cleanly

REFERENCE_MODEL = "classic.blocking"


# -- files ------------------------------------------------------------------------------

FILES = [
    "hello.txt",
    "style.css",
    "small.bin",
    "large.bin",
    "empty.txt",
    "sub/page.html",
    "alias.txt",
]


@pytest.mark.parametrize("name", FILES)
def test_get_returns_the_file_bytes(http_server: ServerProcess, site: Site, name: str) -> None:
    response = get(http_server.address, "/" + name)
    content = (site.root / name).read_bytes()
    assert response.status == 200
    assert response.body == content
    assert response.header("Content-Length") == str(len(content))
    assert response.header("Last-Modified")
    assert response.header("ETag")


@pytest.mark.parametrize(
    ("target", "expected_type"),
    [
        ("/hello.txt", "text/plain"),
        ("/style.css", "text/css"),
        ("/index.html", "text/html"),
        ("/small.bin", "application/octet-stream"),
    ],
)
def test_content_type_from_extension(
    http_server: ServerProcess, target: str, expected_type: str
) -> None:
    content_type = get(http_server.address, target).header("Content-Type") or ""
    assert content_type.split(";")[0] == expected_type


@pytest.mark.parametrize(
    "target",
    [
        "/",
        "/sub/",
        "/index.html?x=1&y=2",
        "/space%20name.txt",
        "/caf%C3%A9.txt",
        "/./hello.txt",
        "//hello.txt",
    ],
)
def test_targets_that_name_files(http_server: ServerProcess, site: Site, target: str) -> None:
    expected = {
        "/": "index.html",
        "/sub/": "sub/index.html",
        "/index.html?x=1&y=2": "index.html",
        "/space%20name.txt": "space name.txt",
        "/caf%C3%A9.txt": "caf\u00e9.txt",
        "/./hello.txt": "hello.txt",
        "//hello.txt": "hello.txt",
    }[target]
    response = get(http_server.address, target)
    assert response.status == 200
    assert response.body == (site.root / expected).read_bytes()


def test_head_is_get_without_body(http_server: ServerProcess) -> None:
    with connect(http_server.address) as sock:
        reader = HTTPReader(sock)
        sock.sendall(raw_get("/hello.txt", method="HEAD") + raw_get("/style.css"))
        head = reader.read(head_only=True)
        following = reader.read()
    full = get(http_server.address, "/hello.txt")
    assert head.status == 200
    assert head.header("Content-Length") == full.header("Content-Length")
    assert head.header("ETag") == full.header("ETag")
    # Nothing of a body came after the HEAD response: the next response starts right there.
    assert following.status == 200
    assert following.body == b"body { color: black; }\n"


# -- errors -----------------------------------------------------------------------------


def test_404_has_a_body_and_a_length(http_server: ServerProcess) -> None:
    response = get(http_server.address, "/no/such/file.html")
    assert response.status == 404
    assert response.body
    assert response.header("Content-Length") == str(len(response.body))


def test_directory_without_index_is_404(http_server: ServerProcess) -> None:
    assert get(http_server.address, "/noindex/").status == 404


@pytest.mark.parametrize(
    ("target", "location"),
    [("/sub", "/sub/"), ("/sub?q=1", "/sub/?q=1"), ("//sub", "/sub/"), ("/noindex", "/noindex/")],
)
def test_directory_without_its_slash_is_redirected(
    http_server: ServerProcess, target: str, location: str
) -> None:
    response = get(http_server.address, target)
    assert response.status == 301
    assert response.header("Location") == location


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"])
def test_other_methods_are_405_with_allow(http_server: ServerProcess, method: str) -> None:
    response = get(http_server.address, "/hello.txt", method=method)
    assert response.status == 405
    assert response.header("Allow") == "GET, HEAD"


@pytest.mark.parametrize(
    "garbage",
    [
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
        b"GET\r\n\r\n",
        b"GET / HTTP/9.9.9\r\n\r\n",
        b"GET / HTTP/1.1\r\nBad Header\r\n\r\n",
        b"\r\n\r\nHELLO\r\n\r\n",
    ],
    ids=["tls", "no-target", "bad-version", "bad-header", "nonsense"],
)
def test_garbage_is_400_then_close(http_server: ServerProcess, garbage: bytes) -> None:
    with connect(http_server.address) as sock:
        sock.sendall(garbage)
        response = HTTPReader(sock).read()
        assert response.status == 400
        # "Connection: close" in HTTP/1.1; aiohttp answers a request it cannot parse as
        # HTTP/1.0, where no header means close (parity_tests/accepted_differences.py).
        assert not keeps_alive(response)
        assert is_closed_by_peer(sock)


def test_request_line_over_8k_is_414(http_server: ServerProcess) -> None:
    response = request(http_server.address, raw_get("/" + "a" * 9000))
    assert response.status == 414


def test_too_many_headers_is_431(http_server: ServerProcess) -> None:
    headers = [f"X-Filler-{index}: {index}" for index in range(120)]
    assert request(http_server.address, raw_get("/", *headers)).status == 431


def test_headers_over_64k_are_431(http_server: ServerProcess) -> None:
    assert request(http_server.address, raw_get("/", "X-Big: " + "b" * 70_000)).status == 431


# -- connections ------------------------------------------------------------------------


def test_keep_alive_three_requests_one_connection(http_server: ServerProcess) -> None:
    with connect(http_server.address) as sock:
        reader = HTTPReader(sock)
        for target in ("/hello.txt", "/style.css", "/no-such-file"):
            sock.sendall(raw_get(target))
            response = reader.read()
            assert response.status == (404 if target == "/no-such-file" else 200)
            assert response.header("Connection") is None


def test_pipelined_requests_are_answered_in_order(http_server: ServerProcess, site: Site) -> None:
    targets = ["/hello.txt", "/small.bin", "/style.css", "/missing", "/sub/page.html"]
    with connect(http_server.address) as sock:
        sock.sendall(b"".join(raw_get(target) for target in targets))
        reader = HTTPReader(sock)
        responses = [reader.read() for _ in targets]
    assert [r.status for r in responses] == [200, 200, 200, 404, 200]
    assert responses[1].body == (site.root / "small.bin").read_bytes()
    assert responses[4].body == (site.root / "sub/page.html").read_bytes()


def test_request_sent_byte_by_byte(http_server: ServerProcess, site: Site) -> None:
    with connect(http_server.address) as sock:
        for byte in raw_get("/hello.txt", "User-Agent: slow"):
            sock.send(bytes([byte]))
            time.sleep(0.001)
        response = HTTPReader(sock).read()
    assert response.status == 200
    assert response.body == (site.root / "hello.txt").read_bytes()


def test_connection_close_is_honoured(http_server: ServerProcess) -> None:
    with connect(http_server.address) as sock:
        sock.sendall(raw_get("/hello.txt", "Connection: close"))
        response = HTTPReader(sock).read()
        assert response.header("Connection") == "close"
        assert is_closed_by_peer(sock)


def test_http_10_closes_unless_keep_alive(http_server: ServerProcess) -> None:
    with connect(http_server.address) as sock:
        sock.sendall(raw_get("/hello.txt", version="1.0"))
        assert HTTPReader(sock).read().status == 200
        assert is_closed_by_peer(sock)
    with connect(http_server.address) as sock:
        reader = HTTPReader(sock)
        for _ in range(2):
            sock.sendall(raw_get("/hello.txt", "Connection: keep-alive", version="1.0"))
            response = reader.read()
            assert response.status == 200
            assert response.header("Connection") == "keep-alive"


def test_client_reset_mid_request_leaves_server_serving(http_server: ServerProcess) -> None:
    rude = connect(http_server.address)
    rude.sendall(b"GET /large.bin HTTP/1.1\r\nHost: te")
    reset(rude)
    greedy = connect(http_server.address)
    greedy.sendall(raw_get("/large.bin"))
    greedy.recv(1000)
    reset(greedy)  # gone in the middle of a 3 MiB body
    assert get(http_server.address, "/hello.txt").status == 200
    assert "Traceback" not in http_server.stderr()


# -- conditional and range requests -----------------------------------------------------


def test_if_none_match_gives_304(http_server: ServerProcess) -> None:
    etag = get(http_server.address, "/hello.txt").header("ETag")
    response = get(http_server.address, "/hello.txt", f"If-None-Match: {etag}")
    assert response.status == 304
    assert response.body == b""
    assert response.header("ETag") == etag
    assert get(http_server.address, "/hello.txt", 'If-None-Match: "other"').status == 200


def test_if_modified_since_gives_304(http_server: ServerProcess) -> None:
    last_modified = get(http_server.address, "/hello.txt").header("Last-Modified")
    response = get(http_server.address, "/hello.txt", f"If-Modified-Since: {last_modified}")
    assert response.status == 304
    old = get(http_server.address, "/hello.txt", "If-Modified-Since: Mon, 01 Jan 1990 00:00:00 GMT")
    assert old.status == 200


@pytest.mark.parametrize(
    ("spec", "first", "last"),
    [("bytes=0-9", 0, 9), ("bytes=100-", 100, 139), ("bytes=-5", 135, 139)],
)
def test_single_range_is_206(
    http_server: ServerProcess, site: Site, spec: str, first: int, last: int
) -> None:
    content = (site.root / "hello.txt").read_bytes()
    response = get(http_server.address, "/hello.txt", f"Range: {spec}")
    assert response.status == 206
    assert response.body == content[first : last + 1]
    assert response.header("Content-Range") == f"bytes {first}-{last}/{len(content)}"


def test_range_in_a_large_file(http_server: ServerProcess, site: Site) -> None:
    content = (site.root / "large.bin").read_bytes()
    response = get(http_server.address, "/large.bin", "Range: bytes=1000000-2000000")
    assert response.status == 206
    assert response.body == content[1_000_000:2_000_001]


def test_unsatisfiable_range_is_416(http_server: ServerProcess) -> None:
    response = get(http_server.address, "/hello.txt", "Range: bytes=5000-6000")
    assert response.status == 416
    assert response.header("Content-Range") == "bytes */140"


# -- byte-identical across models --------------------------------------------------------

IDENTICAL_CASES = {
    "index": raw_get("/"),
    "text": raw_get("/hello.txt"),
    "binary": raw_get("/small.bin"),
    "large-head": raw_get("/large.bin", method="HEAD"),
    "head": raw_get("/style.css", method="HEAD"),
    "404": raw_get("/missing.html"),
    "head-404": raw_get("/missing.html", method="HEAD"),
    "405": raw_get("/hello.txt", method="POST"),
    "400": b"NOT HTTP AT ALL\r\n\r\n",
    "414": raw_get("/" + "x" * 9000),
    "431": raw_get("/", *(f"X-H{index}: v" for index in range(120))),
    "http10": raw_get("/hello.txt", version="1.0"),
    "http10-keep-alive": raw_get("/hello.txt", "Connection: keep-alive", version="1.0"),
    "close": raw_get("/hello.txt", "Connection: close"),
    "range": raw_get("/hello.txt", "Range: bytes=3-12"),
    "416": raw_get("/hello.txt", "Range: bytes=999-"),
    "traversal": raw_get("/../secret.txt"),
    "query": raw_get("/sub/?q=1"),
    "redirect": raw_get("/sub?q=1"),
    "head-redirect": raw_get("/sub", method="HEAD"),
}


def _is_head(case: str) -> bool:
    return IDENTICAL_CASES[case].startswith(b"HEAD ")


@pytest.fixture(scope="session")
def reference_responses(site: Site) -> Iterator[dict[str, Response]]:
    server = start_server("http", REFERENCE_MODEL, root=site.root)
    with stopped_cleanly(server):
        yield {
            case: request(server.address, raw, head_only=_is_head(case))
            for case, raw in IDENTICAL_CASES.items()
        }


@pytest.mark.parametrize("case", list(IDENTICAL_CASES))
def test_raw_response_identical_to_reference(
    http_server: ServerProcess, reference_responses: dict[str, Response], case: str
) -> None:
    ours = request(http_server.address, IDENTICAL_CASES[case], head_only=_is_head(case))
    # Raw bytes with Date normalised; a model listed in accepted_differences is compared
    # through its listed lens, applied to both sides.
    assert comparable(http_server.model, ours) == comparable(
        http_server.model, reference_responses[case]
    )


def test_ready_line_names_the_model(http_server: ServerProcess) -> None:
    assert re.search(r"\(model=[\w.]+, pid=\d+\)$", http_server.ready_line)
    assert http_server.ready_line.startswith("rosetta: listening on http://127.0.0.1:")


def test_server_survives_a_flood_of_short_connections(http_server: ServerProcess) -> None:
    for _ in range(50):
        with socket.create_connection(http_server.address, timeout=5) as sock:
            sock.close()
    assert get(http_server.address, "/hello.txt").status == 200
