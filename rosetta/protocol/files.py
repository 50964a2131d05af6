"""Files as a response body: a slice to send, its media type, and what identifies its version.

Small files are answered with their bytes; larger ones as a `FileSlice` that each driver sends
its own way (`socket.sendfile`, `loop.sendfile`, or chunks from `iter_file_slice`).
"""

from __future__ import annotations

import mimetypes
import operator
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

_TEXT_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")
# Our own table, not the system's /etc/mime.types, so every machine answers alike.
_MIME = mimetypes.MimeTypes()
_MIME.add_type("text/javascript", ".js")  # RFC 9239; older Pythons still say application/

FileIdentity = tuple[int, int, int, int, int, int]


@dataclass(frozen=True, slots=True)
class FileSlice:
    """`length` bytes of the file at `path` from `offset`: the body of a larger response."""

    path: str
    offset: int
    length: int


class FileChanged(OSError):
    """The file got shorter between planning and sending; the connection must be closed."""


def content_type(path: str) -> bytes:
    guessed, _ = _MIME.guess_type(path, strict=False)
    kind = guessed or "application/octet-stream"
    if kind.startswith(_TEXT_TYPES):
        kind += "; charset=utf-8"
    return kind.encode("ascii")


# What must not change for something learnt about a file to stay true: the same inode,
# unchanged (mtime, ctime, size), on the same device, with the same mode. An attrgetter, not a
# function: it runs on every reuse of a remembered answer, and costs no Python frame there.
file_identity: Callable[[os.stat_result], FileIdentity] = operator.attrgetter(
    "st_ino", "st_mtime_ns", "st_ctime_ns", "st_size", "st_dev", "st_mode"
)


def iter_file_slice(body: FileSlice, chunk_size: int = 256 * 1024) -> Iterator[bytes]:
    """The bytes of a FileSlice in chunks, for drivers that cannot use sendfile."""
    with open(body.path, "rb") as file:
        file.seek(body.offset)
        remaining = body.length
        while remaining:
            chunk = file.read(min(chunk_size, remaining))
            if not chunk:
                raise FileChanged(f"{body.path} shrank while being sent")
            remaining -= len(chunk)
            yield chunk


@dataclass(frozen=True, slots=True)
class ChosenFile:
    """The file a request is answered with: `path` (the file asked for, or its precompressed
    sibling), its stat, the media type of the file asked for, and the coding if a sibling."""

    path: str
    info: os.stat_result
    media_type: bytes
    encoding: str | None = None
