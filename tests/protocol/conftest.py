"""What the protocol tests share: a document root beside a folder that must never be served,
and an HTTP connection fed piece by piece."""

from __future__ import annotations

from pathlib import Path

from rosetta.protocol.http import HTTPConnection, ProtocolError, Request


def feed(pieces: list[bytes]) -> list[Request | ProtocolError]:
    """Every event of one new connection given `pieces`, one `receive_data` each."""
    conn = HTTPConnection()
    events: list[Request | ProtocolError] = []
    for piece in pieces:
        conn.receive_data(piece)
        events.extend(conn.events())
    return events


def make_tree(
    tmp_path: Path, outside_files: dict[str, bytes], files: dict[str, bytes]
) -> tuple[Path, Path]:
    """`root` (with `files`, by relative path) and `outside` (with `outside_files`)."""
    outside, root = tmp_path / "outside", tmp_path / "root"
    for base, contents in ((outside, outside_files), (root, files)):
        base.mkdir()
        for name, content in contents.items():
            (base / name).parent.mkdir(parents=True, exist_ok=True)
            (base / name).write_bytes(content)
    return root, outside
