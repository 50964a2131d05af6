"""Directories: the trailing-slash redirect, and listings (HTML and JSON) when the site lists."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from rosetta.protocol.static import StaticSite
from tests.protocol.conftest import make_tree
from tests.protocol.test_static import get, header

HOSTILE = ["<script>alert(1).txt", "quo\"te's.txt", "new\nline.txt", "%00.txt"]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root, outside = make_tree(
        tmp_path,
        {"secret.txt": b"SECRET"},
        {
            "dir/index.html": b"dir index",
            "files/b.txt": b"bee",
            "files/a.txt": b"a",
            "files/.hidden": b"shh",
            "files/sub/c.txt": b"c",
            **{f"files/{name}": b"x" for name in HOSTILE},
        },
    )
    (root / "files" / "out").symlink_to(outside / "secret.txt")
    (root / "files" / "out-dir").symlink_to(outside, target_is_directory=True)
    (root / "files" / "in").symlink_to(root / "files" / "a.txt")
    os.utime(root / "files" / "a.txt", (0, 86400))
    return root


@pytest.mark.parametrize(
    ("target", "location"),
    [
        ("/dir", b"/dir/"),
        ("/dir?q=1&r=2", b"/dir/?q=1&r=2"),
        ("//dir", b"/dir/"),
        ("/files/sub", b"/files/sub/"),
        ("/fil%65s", b"/fil%65s/"),
        ("http://h/dir?x", b"/dir/"),
    ],
)
def test_a_directory_without_its_slash_is_redirected(
    root: Path, target: str, location: bytes
) -> None:
    for site in (StaticSite(root), StaticSite(root, listing=True)):
        plan = get(site, target)
        assert plan.status == 301
        assert header(plan, b"Location") == location
        assert plan.keep_alive


def test_a_symlink_to_a_directory_outside_is_not_redirected(root: Path) -> None:
    assert get(StaticSite(root), "/files/out-dir").status == 404


def test_no_listing_unless_asked(root: Path) -> None:
    assert get(StaticSite(root), "/files/").status == 404
    assert get(StaticSite(root, listing=True), "/dir/").body == b"dir index"


def test_json_listing(root: Path) -> None:
    plan = get(StaticSite(root, listing=True), "/files/", "Accept: application/json")
    assert plan.status == 200
    assert header(plan, b"Content-Type") == b"application/json"
    assert header(plan, b"Vary") == b"Accept"
    rows = json.loads(plan.body)
    names = [row["name"] for row in rows]
    assert names == sorted(["a.txt", "b.txt", "in", "sub", *HOSTILE])
    by_name = {row["name"]: row for row in rows}
    assert by_name["a.txt"] == {
        "name": "a.txt",
        "type": "file",
        "size": 1,
        "mtime": "1970-01-02T00:00:00Z",
    }
    assert by_name["sub"]["type"] == "directory"


def test_hidden_files_are_listed_only_when_asked(root: Path) -> None:
    site = StaticSite(root, listing=True, listing_hidden=True)
    plan = get(site, "/files/", "Accept: application/json")
    names = [row["name"] for row in json.loads(plan.body)]
    assert ".hidden" in names
    assert "out" not in names and "out-dir" not in names


def test_html_listing_escapes_every_name(root: Path) -> None:
    plan = get(StaticSite(root, listing=True), "/files/")
    assert plan.status == 200
    assert header(plan, b"Content-Type") == b"text/html; charset=utf-8"
    page = plan.body.decode("utf-8")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1).txt" in page
    assert 'href="%3Cscript%3Ealert%281%29.txt"' in page
    assert "quo&quot;te&#x27;s.txt" in page
    assert "new\nline" not in page and "new&#xa;line.txt" in page
    assert 'href="%2500.txt"' in page
    assert '<a href="../">../</a>' in page
    assert '<a href="sub/">sub/</a>' in page
    assert "SECRET" not in page and "out-dir" not in page
    assert page.index("a.txt") < page.index("b.txt") < page.index("sub/")


def test_the_root_listing_has_no_parent_link(root: Path) -> None:
    (root / "dir" / "index.html").unlink()
    page = get(StaticSite(root, listing=True), "/").body
    assert b'href="../"' not in page
    assert b"<title>Index of /</title>" in page


def test_head_of_a_listing_has_no_body(root: Path) -> None:
    site = StaticSite(root, listing=True)
    full, head = get(site, "/files/"), get(site, "/files/", method="HEAD")
    assert head.body == b""
    assert header(head, b"Content-Length") == header(full, b"Content-Length")
