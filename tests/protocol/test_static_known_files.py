"""StaticSite remembers whole-file answers: the remembered answer must be byte-identical to a
fresh one, and no change on disk (a swapped symlink, a replaced file, a new hard link) may make
it serve anything the full resolution would refuse."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from rosetta.file_changes import watcher_for
from rosetta.protocol import FileSlice, ResponsePlan, StaticSite
from rosetta.protocol.http import HTTPConnection
from tests.protocol.conftest import make_tree

SECRET = b"SECRET-OUTSIDE-THE-ROOT"
DATE = re.compile(rb"\r\nDate: [^\r]*\r\n")


@pytest.fixture(autouse=True, params=["notified", "proved"])
def revalidation(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test twice: with the kernel's change notification, as the servers make their
    sites, and without it (every hit proved again with an lstat per component), as where
    inotify is missing or refused."""
    _WATCHER_FOR[0] = watcher_for if request.param == "notified" else None
    return str(request.param)


_WATCHER_FOR: list = [None]


def site_of(root: Path) -> StaticSite:
    """The site of `root`, made in the way the running test's revalidation asks."""
    return StaticSite(root, watcher_for=_WATCHER_FOR[0])


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path]:
    root, outside = make_tree(
        tmp_path,
        {"page.txt": SECRET},
        {
            "index.html": b"<h1>index</h1>",
            "sub/page.txt": b"inside page",
            "sub/index.html": b"sub index",
            "big.bin": os.urandom(100_000),
        },
    )
    (root / "alias.txt").symlink_to(root / "sub" / "page.txt")
    return root, outside


def ask(
    site: StaticSite, target: str, *headers: str, method: str = "GET", version: str = "1.1"
) -> ResponsePlan:
    lines = [f"{method} {target} HTTP/{version}", "Host: t", *headers]
    conn = HTTPConnection()
    conn.receive_data(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    (event,) = list(conn.events())
    return site.respond(event)


def wire(plan: ResponsePlan) -> bytes:
    body = plan.body
    if isinstance(body, FileSlice):
        with open(body.path, "rb") as file:
            file.seek(body.offset)
            body = file.read(body.length)
    return DATE.sub(b"\r\nDate: X\r\n", plan.head) + body


@pytest.mark.parametrize(
    "target",
    [
        "/",
        "/sub/",
        "/sub",
        "/sub/page.txt",
        "/big.bin",
        "/alias.txt",
        "/sub/page.txt?q=1",
        "/%73ub/page.txt",
    ],
)
@pytest.mark.parametrize(
    ("method", "version", "headers"),
    [
        ("GET", "1.1", ()),
        ("HEAD", "1.1", ()),
        ("GET", "1.1", ("Connection: close",)),
        ("GET", "1.0", ()),
        ("GET", "1.0", ("Connection: keep-alive",)),
        ("GET", "1.1", ("Range: bytes=2-5",)),
        ("GET", "1.1", ("If-None-Match: *",)),
    ],
)
def test_remembered_answers_are_byte_identical(
    tree: tuple[Path, Path], target: str, method: str, version: str, headers: tuple[str, ...]
) -> None:
    root, _ = tree
    warm = site_of(root)
    ask(warm, target)  # a plain GET first, so the answer is remembered if it can be
    again = ask(warm, target, *headers, method=method, version=version)
    fresh = ask(site_of(root), target, *headers, method=method, version=version)
    assert again.status == fresh.status
    assert again.keep_alive == fresh.keep_alive
    assert wire(again) == wire(fresh)


def test_a_directory_swapped_for_a_symlink_out_is_refused(tree: tuple[Path, Path]) -> None:
    root, outside = tree
    site = site_of(root)
    assert ask(site, "/sub/page.txt").body == b"inside page"
    os.rename(root / "sub", root / "old-sub")
    (root / "sub").symlink_to(outside, target_is_directory=True)
    plan = ask(site, "/sub/page.txt")
    assert plan.status == 404
    assert SECRET not in wire(plan)


def test_a_hard_link_outside_does_not_keep_a_swapped_path_served(
    tree: tuple[Path, Path],
) -> None:
    root, outside = tree
    # Each test starts from a remembered answer, spelled out so that the test reads alone.
    site = site_of(root)
    assert ask(site, "/sub/page.txt").status == 200
    (outside / "moved").mkdir()
    os.link(root / "sub" / "page.txt", outside / "moved" / "page.txt")
    os.rename(root / "sub", root / "old-sub")
    (root / "sub").symlink_to(outside / "moved", target_is_directory=True)
    assert ask(site, "/sub/page.txt").status == 404


def test_a_file_replaced_by_a_symlink_out_is_refused(tree: tuple[Path, Path]) -> None:
    root, outside = tree
    site = site_of(root)
    assert ask(site, "/sub/page.txt").status == 200
    (root / "sub" / "page.txt").unlink()
    (root / "sub" / "page.txt").symlink_to(outside / "page.txt")
    plan = ask(site, "/sub/page.txt")
    assert plan.status == 404
    assert SECRET not in wire(plan)


def test_a_retargeted_symlink_inside_is_followed_anew(tree: tuple[Path, Path]) -> None:
    root, outside = tree
    site = site_of(root)
    assert ask(site, "/alias.txt").body == b"inside page"
    (root / "alias.txt").unlink()
    (root / "alias.txt").symlink_to(outside / "page.txt")
    assert ask(site, "/alias.txt").status == 404
    (root / "alias.txt").unlink()
    (root / "alias.txt").symlink_to(root / "index.html")
    assert ask(site, "/alias.txt").body == b"<h1>index</h1>"


def test_a_rewritten_file_is_served_new(tree: tuple[Path, Path]) -> None:
    root, _ = tree
    site = site_of(root)
    assert ask(site, "/sub/page.txt").body == b"inside page"
    replacement = root / "sub" / "page.new"
    replacement.write_bytes(b"a new and longer page")
    os.replace(replacement, root / "sub" / "page.txt")
    plan = ask(site, "/sub/page.txt")
    assert plan.body == b"a new and longer page"
    assert b"Content-Length: 21\r\n" in plan.head


def test_a_removed_file_is_404(tree: tuple[Path, Path]) -> None:
    root, _ = tree
    site = site_of(root)
    assert ask(site, "/big.bin").status == 200
    (root / "big.bin").unlink()
    assert ask(site, "/big.bin").status == 404


def test_a_root_that_appears_later_is_served_without_remembering(tmp_path: Path) -> None:
    root = tmp_path / "later"
    site = site_of(root)
    assert ask(site, "/a.txt").status == 404
    root.mkdir()
    (root / "a.txt").write_bytes(b"now here")
    assert ask(site, "/a.txt").body == b"now here"
    (root / "a.txt").write_bytes(b"changed!")
    assert ask(site, "/a.txt").body == b"changed!"
