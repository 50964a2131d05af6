"""Remembered answers: a 200 for a target, worked out once and reused while the file is the same.

Resolving a target costs `os.path.realpath` and a few `stat` calls; a busy static server
asks for the same few files again and again. So `StaticSite` remembers each plain GET's
answer (its header fields rendered, its body, and its heads of the current second) and, next
time, only proves it still holds.

Only targets that reach their file without any symlink are remembered, so proving that every
directory on the way is still a real directory and the file still the same inode, unchanged
(`file_identity`), proves what `os.path.realpath` proved the first time: the file is inside the
root. Where the kernel notifies changes (`rosetta.file_changes`, which the server hands the
site), that proof is made once, after watches are set on the root, every directory on the way
and the file, and a hit only asks the kernel whether anything changed since (one `ioctl`);
elsewhere every hit proves it again with one `lstat` per component, from the root directory
itself (a descriptor opened once). Either way a swapped symlink, a replaced file or a new hard
link fails the proof, and the answer is worked out again.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING

from rosetta.protocol.encodings import SUFFIXES
from rosetta.protocol.files import ChosenFile, FileIdentity, FileSlice, file_identity
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
    from rosetta.file_changes import Change, FileChanges

# What a site is handed to learn of changes under its root: given the root's real path, the
# watches' owner, or None (no notification: every hit is proved with lstat calls).
WatcherFor = Callable[[str], "FileChanges | None"]

ENTRIES = 1024
_OK = HTTPStatus.OK
_OK_DATE = status_line(_OK) + b"Date: "


Key = tuple[bytes, tuple[str, ...]]  # the target and the codings accepted, best first
# The kernel is out of watches or memory for them: stop watching, prove every hit instead.
_OUT_OF_WATCHES = (errno.ENOSPC, errno.ENOMEM, errno.EMFILE)


class KnownFile:
    """A 200 answer already worked out for one target, valid while `still_true` holds."""

    __slots__ = (
        "_date",
        "_plans",
        "body",
        "directories",
        "fields",
        "folder_mtime",
        "headers",
        "identity",
        "name",
        "watched",
    )

    def __init__(
        self,
        directories: tuple[str, ...],
        name: str,
        identity: FileIdentity,
        folder_mtime: int | None,
        headers: Headers,
        body: bytes | FileSlice,
    ) -> None:
        self.directories = directories  # relative to the root, outermost first
        self.name = name  # the file sent, relative to the root
        self.identity = identity
        # With codings accepted: the mtime of the folder holding the file, so that a sibling
        # compressed file added or removed since (which changes the folder) is noticed.
        self.folder_mtime = folder_mtime
        self.headers = headers
        self.fields = SERVER_LINE + render_fields(headers)  # the Server line and `headers`
        self.body = body
        self.watched = False  # True: the kernel notifies its changes (KnownFiles._watch)
        # The plans of the current second, by (keep-alive, version, method): only Date varies.
        self._date = b""
        self._plans: dict[tuple[bool, str, str], ResponsePlan] = {}

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

    def plan(self, request: Request) -> ResponsePlan:
        """The answer to `request` (a GET or HEAD), with this second's Date."""
        date = http_date()  # the same bytes object all through one second
        if date is not self._date:
            self._date, self._plans = date, {}
        variant = (request.keep_alive, request.http_version, request.method)
        plan = self._plans.get(variant)
        if plan is None:
            keep_alive = request.keep_alive
            # render_head's layout, written out, with the fields rendered once.
            head = b"".join(
                (
                    _OK_DATE,
                    date,
                    self.fields,
                    connection_header(keep_alive, request.http_version),
                    b"\r\n",
                )
            )
            body = self.body if request.method == "GET" else b""
            plan = self._plans[variant] = ResponsePlan(_OK, self.headers, body, keep_alive, head)
        return plan


class KnownFiles:
    """The remembered answers of one document root, by request target."""

    __slots__ = (
        "_by_target",
        "_changes",
        "_depends",
        "_root_dev",
        "_root_fd",
        "_root_prefix",
        "_watcher_for",
        "_watching",
    )

    def __init__(
        self, root_prefix: str, root_fd: int, watcher_for: WatcherFor | None = None
    ) -> None:
        self._root_prefix = root_prefix
        self._watcher_for = watcher_for
        self._root_fd = root_fd
        self._by_target: dict[Key, KnownFile] = {}
        # The watches (made at the first answer remembered, so a process forked before has
        # its own), and which remembered answers each change forgets.
        self._changes: FileChanges | None = None
        self._watching = watcher_for is not None
        self._depends: dict[Change, set[Key]] = {}
        self._root_dev = os.fstat(root_fd).st_dev

    def answer(self, request: Request, codings: tuple[str, ...]) -> ResponsePlan | None:
        """The remembered answer to a plain GET or HEAD accepting `codings` (best first), if
        there is one and it still holds."""
        changes = self._changes
        notified = changes is not None and changes.usable
        if notified and changes.changed():  # type: ignore[union-attr]
            changes.take(self._forget)  # type: ignore[union-attr]
        known = self._by_target.get((request.target, codings))
        if known is None:
            return None
        if not (notified and known.watched) and not known.still_true(self._root_fd):
            return None
        return known.plan(request)

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
            self._clear()
        folder_mtime = None
        if codings:
            folder = os.path.dirname(path)
            folder_mtime = os.lstat(folder).st_mtime_ns
        known = KnownFile(
            directories, name, file_identity(info), folder_mtime, plan.headers, plan.body
        )
        key = (request.target, codings)
        changes = self._watcher()
        if changes is None or info.st_dev != self._root_dev:
            self._by_target[key] = known  # proved again on every hit
            return
        with changes.hold():  # no change is taken between the watches and the proof
            try:
                depends = self._watch(changes, parts, codings, suffix)
            except OSError as error:
                if error.errno in _OUT_OF_WATCHES:
                    self._changes, self._watching = None, False
                return  # else the path changed under us: not remembered this time
            if depends is None:
                self._by_target[key] = known  # a mount on the way: proved on every hit
                return
            if known.still_true(self._root_fd):
                known.watched = True
                self._by_target[key] = known
                for change in depends:
                    self._depends.setdefault(change, set()).add(key)

    # -- change notification ----------------------------------------------------------------

    def _watcher(self) -> FileChanges | None:
        changes = self._changes
        if changes is not None and not changes.usable:
            return None  # forked from the process that reads these watches
        if changes is None and self._watching:
            root = self._root_prefix.rstrip(os.sep) or os.sep
            changes = self._changes = self._watcher_for(root)  # type: ignore[misc]
            self._watching = changes is not None
        return changes

    def _watch(
        self, changes: FileChanges, parts: list[str], codings: tuple[str, ...], suffix: str
    ) -> list[Change] | None:
        """Watches on the root, each directory on the way and the file; the changes that would
        make the answer untrue: an entry on the way renamed, removed or replaced, a watched
        directory or the file changed or gone, a precompressed sibling appearing or going.
        None if a directory on the way is on another device (a mount: not watched)."""
        parent = changes.watch(f"/proc/self/fd/{self._root_fd}", follow=True)
        depends: list[Change] = [(parent, "")]
        path = self._root_prefix
        for part in parts[:-1]:
            path = os.path.join(path, part)
            if os.lstat(path).st_dev != self._root_dev:
                return None
            depends.append((parent, part))
            parent = changes.watch(path)
            depends.append((parent, ""))
        name = parts[-1]
        depends += ((parent, name), (changes.watch(os.path.join(path, name), directory=False), ""))
        original = name[: len(name) - len(suffix)]
        depends.append((parent, original))
        depends += ((parent, original + SUFFIXES[coding]) for coding in codings)
        return depends

    def _forget(self, changes: list[Change]) -> None:
        for change in changes:
            if change[0] < 0:  # the kernel dropped events: forget everything
                self._by_target.clear()
                self._depends.clear()
                return
            for key in self._depends.pop(change, ()):
                self._by_target.pop(key, None)

    def _clear(self) -> None:
        self._by_target.clear()
        self._depends.clear()
        if self._changes is not None and self._changes.usable:
            self._changes = None  # its watches go with it; the next answer makes new ones
