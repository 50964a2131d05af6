"""The static planner on its own: mapping targets to files, never outside the root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rosetta.protocol.files import FileSlice, content_type, iter_file_slice
from rosetta.protocol.http import HTTPConnection, ProtocolError, Request
from rosetta.protocol.static import StaticSite
from tests.protocol.conftest import make_tree

SECRET = b"SECRET-OUTSIDE"


@pytest.fixture
def site(tmp_path: Path) -> StaticSite:
    root, outside = make_tree(
        tmp_path,
        {"secret.txt": SECRET},
        {
            "index.html": b"<h1>index</h1>",
            "a.txt": b"0123456789",
            "big.bin": os.urandom(200_000),
            "dir/index.html": b"dir index",
            "x y.txt": b"space",
        },
    )
    (root / "link-out").symlink_to(outside / "secret.txt")
    (root / "dir-out").symlink_to(outside, target_is_directory=True)
    (root / "link-in").symlink_to(root / "a.txt")
    (root / "fifo").parent.mkdir(exist_ok=True)
    os.mkfifo(root / "fifo")
    return StaticSite(root)


def ask(site: StaticSite, raw: bytes):
    conn = HTTPConnection()
    conn.receive_data(raw)
    (event,) = list(conn.events())
    return site.respond(event)


def get(site: StaticSite, target: str, *headers: str, method: str = "GET"):
    lines = [f"{method} {target} HTTP/1.1", "Host: t", *headers]
    return ask(site, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))


def header(plan, name: bytes) -> bytes | None:
    for line in plan.head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b": ")
        if key.lower() == name.lower():
            return value
    return None


@pytest.mark.parametrize(
    ("target", "body"),
    [
        ("/", b"<h1>index</h1>"),
        ("/a.txt", b"0123456789"),
        ("/dir/", b"dir index"),
        ("/a.txt?x=1", b"0123456789"),
        ("/x%20y.txt", b"space"),
        ("/link-in", b"0123456789"),
        ("/./a.txt", b"0123456789"),
        ("/dir/../a.txt", None),
    ],
)
def test_targets_inside_the_root(site: StaticSite, target: str, body: bytes | None) -> None:
    plan = get(site, target)
    if body is None:
        assert plan.status == 404  # `..` is refused even when it would stay inside
    else:
        assert plan.status == 200
        assert plan.body == body


TRAVERSALS = [
    "/../outside/secret.txt",
    "/%2e%2e/outside/secret.txt",
    "/%2E%2e%2foutside%2fsecret.txt",
    "/..%2Foutside/secret.txt",
    "/%252e%252e/outside/secret.txt",
    "/..%5coutside%5csecret.txt",
    "/..\\outside\\secret.txt",
    "/a.txt%00",
    "/%00/../outside/secret.txt",
    "/link-out",
    "/dir-out/secret.txt",
    "/dir/../../outside/secret.txt",
    "http://h/../outside/secret.txt",
    "http://h/link-out",
    "/%c0%ae%c0%ae/outside/secret.txt",
    "/fifo",
    "/%ff",
    "//../outside/secret.txt",
]


# The same check as parity_tests/test_http_traversal.py makes on the wire, on purpose: here on
# the planner alone, with targets (symlinks, a FIFO) the parity site does not have.
@pytest.mark.parametrize("target", TRAVERSALS)
def test_nothing_outside_the_root(site: StaticSite, target: str) -> None:
    plan = get(site, target)
    assert plan.status in (400, 404)
    assert SECRET not in (plan.body if isinstance(plan.body, bytes) else b"")
    assert not isinstance(plan.body, FileSlice)


def test_absolute_form_target_inside_the_root(site: StaticSite) -> None:
    plan = get(site, "http://example.test/a.txt?q")
    assert plan.status == 200 and plan.body == b"0123456789"


def test_asterisk_target_is_400(site: StaticSite) -> None:
    assert get(site, "*").status == 400


def test_404_has_body_and_length(site: StaticSite) -> None:
    plan = get(site, "/missing")
    assert plan.status == 404 and plan.keep_alive
    assert header(plan, b"content-length") == str(len(plan.body)).encode()
    assert plan.body


def test_head_has_headers_without_body(site: StaticSite) -> None:
    plan = get(site, "/a.txt", method="HEAD")
    assert plan.status == 200 and plan.body == b""
    assert header(plan, b"content-length") == b"10"
    missing = get(site, "/nope", method="HEAD")
    assert missing.status == 404 and missing.body == b""
    assert int(header(missing, b"content-length") or 0) > 0


def test_large_file_is_a_slice(site: StaticSite) -> None:
    plan = get(site, "/big.bin")
    assert isinstance(plan.body, FileSlice)
    assert plan.body.offset == 0 and plan.body.length == 200_000
    data = b"".join(iter_file_slice(plan.body, chunk_size=7000))
    assert data == Path(plan.body.path).read_bytes()


@pytest.mark.parametrize(
    ("spec", "status", "body"),
    [
        ("bytes=0-3", 206, b"0123"),
        ("bytes=7-", 206, b"789"),
        ("bytes=-2", 206, b"89"),
        ("bytes=5-100", 206, b"56789"),
        ("bytes=10-", 416, None),
        ("bytes=-0", 416, None),
        ("bytes=0-1,4-5", 200, b"0123456789"),
        ("items=0-1", 200, b"0123456789"),
        ("bytes=x-1", 200, b"0123456789"),
        ("bytes=5-2", 200, b"0123456789"),
    ],
)
def test_ranges(site: StaticSite, spec: str, status: int, body: bytes | None) -> None:
    plan = get(site, "/a.txt", f"Range: {spec}")
    assert plan.status == status
    if status == 416:
        assert header(plan, b"content-range") == b"bytes */10"
    else:
        assert plan.body == body


def test_range_of_a_large_file_is_a_slice(site: StaticSite) -> None:
    plan = get(site, "/big.bin", "Range: bytes=100000-100009")
    assert plan.status == 206
    assert isinstance(plan.body, FileSlice)
    assert (plan.body.offset, plan.body.length) == (100000, 10)


def test_if_range_mismatch_sends_everything(site: StaticSite) -> None:
    plan = get(site, "/a.txt", "Range: bytes=0-1", 'If-Range: "stale"')
    assert plan.status == 200 and plan.body == b"0123456789"
    etag = header(get(site, "/a.txt"), b"etag").decode()
    assert get(site, "/a.txt", "Range: bytes=0-1", f"If-Range: {etag}").status == 206


def test_conditional_requests(site: StaticSite) -> None:
    full = get(site, "/a.txt")
    etag = header(full, b"etag").decode()
    modified = header(full, b"last-modified").decode()
    assert get(site, "/a.txt", f"If-None-Match: {etag}").status == 304
    assert get(site, "/a.txt", f'If-None-Match: "x", W/{etag}').status == 304
    assert get(site, "/a.txt", "If-None-Match: *").status == 304
    assert get(site, "/a.txt", 'If-None-Match: "x"').status == 200
    assert get(site, "/a.txt", f"If-Modified-Since: {modified}").status == 304
    assert get(site, "/a.txt", "If-Modified-Since: Thu, 01 Jan 1970 00:00:01 GMT").status == 200
    assert get(site, "/a.txt", "If-Modified-Since: garbage").status == 200
    # If-None-Match wins over If-Modified-Since.
    assert get(site, "/a.txt", 'If-None-Match: "x"', f"If-Modified-Since: {modified}").status == 200
    not_modified = get(site, "/a.txt", f"If-None-Match: {etag}")
    assert not_modified.body == b"" and header(not_modified, b"etag") == etag.encode()


def test_a_changed_file_is_served_anew(site: StaticSite) -> None:
    first = get(site, "/a.txt")
    path = Path(site.root) / "a.txt"
    path.write_bytes(b"changed!")
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    second = get(site, "/a.txt")
    assert first.body == b"0123456789" and second.body == b"changed!"
    assert header(first, b"etag") != header(second, b"etag")


def test_symlink_swapped_to_outside_after_a_request_is_refused(site: StaticSite) -> None:
    root = Path(site.root)
    (root / "swap").mkdir()
    (root / "swap" / "secret.txt").write_bytes(b"inside")
    assert get(site, "/swap/secret.txt").body == b"inside"
    (root / "swap" / "secret.txt").unlink()
    (root / "swap").rmdir()
    (root / "swap").symlink_to(root.parent / "outside", target_is_directory=True)
    assert get(site, "/swap/secret.txt").status == 404


def test_protocol_errors_become_responses(site: StaticSite) -> None:
    plan = site.respond(ProtocolError(405, "no", keep_alive=True, allow=("GET", "HEAD")))
    assert plan.status == 405 and plan.keep_alive
    assert header(plan, b"allow") == b"GET, HEAD"
    closing = site.respond(ProtocolError(400, "bad"))
    assert closing.status == 400 and not closing.keep_alive
    assert header(closing, b"connection") == b"close"


def test_keep_alive_follows_the_request(site: StaticSite) -> None:
    request = Request("GET", b"/a.txt", "1.0", (), keep_alive=False)
    plan = site.respond(request)
    assert not plan.keep_alive and header(plan, b"connection") == b"close"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.html", b"text/html; charset=utf-8"),
        ("a.css", b"text/css; charset=utf-8"),
        ("a.png", b"image/png"),
        ("a.js", b"text/javascript; charset=utf-8"),
        ("noext", b"application/octet-stream"),
        ("a.json", b"application/json; charset=utf-8"),
    ],
)
def test_content_type(name: str, expected: bytes) -> None:
    assert content_type(name) == expected
