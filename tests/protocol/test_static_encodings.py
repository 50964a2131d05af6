"""Precompressed siblings: chosen by Accept-Encoding, served with their own validators."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from rosetta.protocol.encodings import acceptable_encodings
from rosetta.protocol.static import StaticSite
from tests.protocol.conftest import make_tree
from tests.protocol.test_static import get, header

CSS = b"body { color: black; }\n" * 50


@pytest.mark.parametrize(
    ("accept", "codings"),
    [
        (None, ()),
        (b"", ()),
        (b"gzip", ("gzip",)),
        (b"gzip, br", ("br", "gzip")),
        (b"gzip, deflate, br, zstd", ("br", "zstd", "gzip")),
        (b"br;q=0.5, gzip", ("gzip", "br")),
        (b"br;q=0, gzip", ("gzip",)),
        (b"*", ("br", "zstd", "gzip")),
        (b"*;q=0.1, gzip;q=0.9", ("gzip", "br", "zstd")),
        (b"GZIP;Q=1", ("gzip",)),
        (b"x-gzip", ("gzip",)),
        (b"br;q=abc, gzip;q=2", ()),
        (b"identity, deflate", ()),
    ],
)
def test_acceptable_encodings(accept: bytes | None, codings: tuple[str, ...]) -> None:
    assert acceptable_encodings(accept) == codings


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root, outside = make_tree(
        tmp_path,
        {"style.css.br": b"OUTSIDE"},
        {
            "style.css": CSS,
            "style.css.gz": gzip.compress(CSS, mtime=0),
            "style.css.br": b"pretend-brotli",
            "plain.txt": b"plain",
        },
    )
    (root / "linked.css").write_bytes(CSS)
    (root / "linked.css.br").symlink_to(outside / "style.css.br")
    return root


def test_the_best_accepted_sibling_is_sent(root: Path) -> None:
    site = StaticSite(root)
    identity = get(site, "/style.css")
    plan = get(site, "/style.css", "Accept-Encoding: gzip, br")
    assert plan.body == b"pretend-brotli"
    assert header(plan, b"Content-Encoding") == b"br"
    assert header(plan, b"Vary") == b"Accept-Encoding"
    assert plan.head.count(b"Vary") == 1
    assert header(plan, b"Content-Type") == b"text/css; charset=utf-8"
    assert header(plan, b"ETag") != header(identity, b"ETag")
    gz = get(site, "/style.css", "Accept-Encoding: gzip")
    assert gzip.decompress(gz.body) == CSS
    assert header(gz, b"Content-Length") == b"%d" % len(gz.body)
    assert header(identity, b"Content-Encoding") is None and identity.body == CSS


def test_remembered_answers_are_kept_per_coding(root: Path) -> None:
    site = StaticSite(root)
    for _ in range(3):
        assert get(site, "/style.css", "Accept-Encoding: br").body == b"pretend-brotli"
        assert gzip.decompress(get(site, "/style.css", "Accept-Encoding: gzip").body) == CSS
        assert get(site, "/style.css").body == CSS


def test_a_sibling_added_later_is_noticed(root: Path) -> None:
    site = StaticSite(root)
    assert get(site, "/plain.txt", "Accept-Encoding: gzip").body == b"plain"
    (root / "plain.txt.gz").write_bytes(gzip.compress(b"plain"))
    assert header(get(site, "/plain.txt", "Accept-Encoding: gzip"), b"Content-Encoding") == b"gzip"
    os.unlink(root / "plain.txt.gz")
    assert get(site, "/plain.txt", "Accept-Encoding: gzip").body == b"plain"


def test_a_sibling_leading_outside_is_never_sent(root: Path) -> None:
    plan = get(StaticSite(root), "/linked.css", "Accept-Encoding: br")
    assert plan.body == CSS
    assert header(plan, b"Content-Encoding") is None


def test_range_and_304_apply_to_the_encoded_bytes(root: Path) -> None:
    site = StaticSite(root)
    full = get(site, "/style.css", "Accept-Encoding: br")
    part = get(site, "/style.css", "Accept-Encoding: br", "Range: bytes=0-6")
    assert part.status == 206
    assert part.body == b"pretend"
    assert header(part, b"Content-Range") == b"bytes 0-6/14"
    etag = header(full, b"ETag").decode()
    cached = get(site, "/style.css", "Accept-Encoding: br", f"If-None-Match: {etag}")
    assert cached.status == 304
    assert header(cached, b"Vary") == b"Accept-Encoding"
    assert get(site, "/style.css", f"If-None-Match: {etag}").status == 200
