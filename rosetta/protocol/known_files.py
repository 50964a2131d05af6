"""Remembered answers: a 200 for a target, worked out once and reused while the file is the same.

Resolving a target costs `os.path.realpath` and a few `stat` calls; a busy static server
asks for the same few files again and again. So `StaticSite` remembers each plain GET's
answer (its header fields rendered, its body) and, next time, only proves it still holds.

Only targets that reach their file without any symlink are remembered, so checking, from the
root directory itself (a descriptor opened once), that every directory on the way is still a
real directory (lstat) and the file still the same inode, unchanged (`file_identity`), proves
what `os.path.realpath` proved the first time: the file is inside the root. A swapped symlink
or a replaced file fails the check, and the answer is worked out again.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING

from rosetta.protocol.encodings import SUFFIXES
from rosetta.protocol.files import FileIdentity, FileSlice, file_identity
from rosetta.protocol.http import Request
from rosetta.protocol.response import (
    SERVER_LINE,
    Headers,
    ResponsePlan,
    connection_header,
    http_date,
    render_fields,
    status_line,
)

if TYPE_CHECKING:
    from rosetta.protocol.static import ChosenFile

ENTRIES = 1024
_OK = HTTPStatus.OK
_OK_DATE = status_line(_OK) + b"Date: "


@dataclass(frozen=True, slots=True)
class KnownFile:
    """A 200 answer already worked out for one target, valid while `still_true` holds."""

    directories: tuple[str, ...]  # relative to the root, outermost first
    name: str  # the file sent, relative to the root
    identity: FileIdentity
    # With codings accepted: the mtime of the folder holding the file, so that a sibling
    # compressed file added or removed since (which changes the folder) is noticed.
    folder_mtime: int | None
    headers: Headers
    fields: bytes  # the Server line and `headers`, rendered
    body: bytes | FileSlice

    def still_true(self, root_fd: int) -> bool:
        try:
            for directory in self.directories:
                if not stat.S_ISDIR(os.lstat(directory, dir_fd=root_fd).st_mode):
                    return False
            info = os.lstat(self.name, dir_fd=root_fd)
            if self.folder_mtime is not None:
                folder = self.directories[-1] if self.directories else "."
                if os.lstat(folder, dir_fd=root_fd).st_mtime_ns != self.folder_mtime:
                    return False
        except (OSError, ValueError):
            return False
        return file_identity(info) == self.identity


class KnownFiles:
    """The remembered answers of one document root, by request target."""

    __slots__ = ("_by_target", "_root_fd", "_root_prefix")

    def __init__(self, root_prefix: str, root_fd: int) -> None:
        self._root_prefix = root_prefix
        self._root_fd = root_fd
        self._by_target: dict[tuple[bytes, tuple[str, ...]], KnownFile] = {}

    def answer(self, request: Request, codings: tuple[str, ...]) -> ResponsePlan | None:
        """The remembered answer to a plain GET or HEAD accepting `codings` (best first), if
        there is one and it still holds."""
        known = self._by_target.get((request.target, codings))
        if known is None or not known.still_true(self._root_fd):
            return None
        keep_alive = request.keep_alive
        # render_head's layout, written out: this runs for every remembered answer.
        head = b"".join(
            (
                _OK_DATE,
                http_date(),
                known.fields,
                connection_header(keep_alive, request.http_version),
                b"\r\n",
            )
        )
        body = known.body if request.method == "GET" else b""
        return ResponsePlan(_OK, known.headers, body, keep_alive, head)

    def remember(
        self,
        request: Request,
        codings: tuple[str, ...],
        candidate: str,
        file: ChosenFile,
        plan: ResponsePlan,
    ) -> None:
        """Keep `plan` (a 200 to a plain GET accepting `codings`) for next time, if the path of
        the file it sends has no symlink."""
        path, info = file.path, file.info
        suffix = SUFFIXES[file.encoding] if file.encoding is not None else ""
        if path not in (candidate + suffix, os.path.join(candidate, "index.html") + suffix):
            return  # a symlink on the way: its target may change, so resolve it every time
        if not path.startswith(self._root_prefix):
            return
        name = path[len(self._root_prefix) :]
        parts = name.split(os.sep)
        directories = tuple(os.path.join(*parts[: depth + 1]) for depth in range(len(parts) - 1))
        if len(self._by_target) >= ENTRIES:
            self._by_target.clear()
        folder_mtime = None
        if codings:
            folder = os.path.dirname(path)
            folder_mtime = os.lstat(folder).st_mtime_ns
        self._by_target[(request.target, codings)] = KnownFile(
            directories,
            name,
            file_identity(info),
            folder_mtime,
            plan.headers,
            SERVER_LINE + render_fields(plan.headers),
            plan.body,
        )
