"""Saving a body without ever leaving half of it: `NAME.part`, then a rename when complete.

Every download model writes through `PartFile`, so all of them keep the same promise: while a
body arrives it goes to `NAME.part` (created afresh, never through a symlink); only when it
ended and its length matched `Content-Length` is it renamed to `NAME` with `os.replace`, which
is atomic, so a file already called `NAME` is either left as it was or replaced by a complete
one, never by a partial one. A stale `NAME.part` (from a killed run) is removed first, and the
new one is created exclusively, so writing can never follow a planted symlink. Any other way
out of the `with` block (an error, a cancelled task, a killed greenlet, Ctrl-C) removes the
`.part` file.

A `PartFile` only writes and commits: whether a body is complete is the protocol's decision
(`Fetch.on_body_end`), asked by the driver, which then calls `commit`. Kept out of
`rosetta.protocol`, which never touches a file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from pathlib import Path
from types import TracebackType

from rosetta.protocol.download import Job

# O_EXCL: the .part is always a new file of ours, never one that appeared in the meantime
# (a symlink planted there included).
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)

# Every .part file not yet renamed or removed, so an interrupted run can sweep up behind
# threads it cannot stop (see `discard_all`).
_open_parts: set[Path] = set()
_open_parts_lock = threading.Lock()


class LocalError(Exception):
    """The file could not be written (disk full, permission, a directory in the way)."""


def prepare_directory(directory: Path) -> Path:
    """The output directory, created if missing; LocalError if it cannot be."""
    if directory.exists() and not directory.is_dir():
        raise LocalError(f"not a directory: {str(directory)!r}")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise LocalError(f"cannot create directory {str(directory)!r}: {_reason(error)}") from None
    if not directory.is_dir():
        raise LocalError(f"not a directory: {str(directory)!r}")
    return directory


class PartFile:
    """One body on its way to disk: `with PartFile(directory, job) as part:`, then
    `part.write(chunk)` for each chunk and `part.commit()` once the body is known complete."""

    def __init__(self, directory: Path, job: Job) -> None:
        self.path = directory / job.name
        self.part_path = directory / job.part_name
        self.received = 0  # bytes in the .part file
        self._digest = hashlib.sha256()
        self._fd = -1
        self._done = False

    def __enter__(self) -> PartFile:
        try:
            self._fd = self._create()
        except OSError as error:
            raise LocalError(f"cannot create {self.part_path.name}: {_reason(error)}") from None
        with _open_parts_lock:
            _open_parts.add(self.part_path)
        return self

    def _create(self) -> int:
        try:
            return os.open(self.part_path, _OPEN_FLAGS, 0o644)
        except FileExistsError:
            # A .part left by a killed run (or anything else under that name) is ours to
            # remove: the name is reserved for this download. Once, then O_EXCL again.
            self.part_path.unlink()
            return os.open(self.part_path, _OPEN_FLAGS, 0o644)

    def write(self, chunk: bytes) -> None:
        view = memoryview(chunk)
        try:
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
        except OSError as error:
            raise LocalError(f"cannot write {self.part_path.name}: {_reason(error)}") from None
        self.received += len(chunk)
        self._digest.update(chunk)

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    def commit(self) -> tuple[int, str]:
        """Rename the complete body into place (atomic); LocalError if that fails. Returns
        what is now saved: its length and its sha256."""
        self._close()
        try:
            os.replace(self.part_path, self.path)
        except OSError as error:
            raise LocalError(f"cannot rename to {self.path.name}: {_reason(error)}") from None
        self._done = True
        self._forget()
        return self.received, self.sha256

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._close()
        if not self._done:
            _remove(self.part_path)
            self._forget()

    def _close(self) -> None:
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            os.close(fd)

    def _forget(self) -> None:
        with _open_parts_lock:
            _open_parts.discard(self.part_path)


def discard_all() -> list[Path]:
    """Remove every .part file still open (after Ctrl-C, behind threads still blocked in a
    read); returns the paths removed. A thread that wakes later finds its file gone and its
    rename fails, so nothing partial can appear under a final name."""
    with _open_parts_lock:
        paths = sorted(_open_parts)
        _open_parts.clear()
    for path in paths:
        _remove(path)
    return paths


def _remove(path: Path) -> None:
    # Nothing more can be done if this fails; the summary still reports the URL as failed.
    with contextlib.suppress(OSError):
        path.unlink()


def _reason(error: OSError) -> str:
    return error.strerror or str(error)
