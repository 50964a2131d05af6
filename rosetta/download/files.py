"""Saving a body without ever leaving half of it: `NAME.part`, then a rename when complete.

Every download model writes through `PartFile`, so all of them keep the same promise: while a
body arrives it goes to `NAME.part` (created afresh, never through a symlink); only when it
ended and its length matched `Content-Length` is it renamed to `NAME` with `os.replace`, which
is atomic, so a file already called `NAME` is either left as it was or replaced by a complete
one, never by a partial one. A stale `NAME.part` (from a killed run) is removed first, and the
new one is created exclusively, so writing can never follow a planted symlink. Any other way
out of the `with` block (an error, a cancelled task, a killed greenlet, Ctrl-C) removes the
`.part` file, unless the protocol's `ReadBody` says to keep it (`--continue`): then the part
stays for the next run, with the response's validator in `NAME.part.validator` beside it,
and a resume opens it again to append from the offset the protocol chose.

A `PartFile` only writes and commits: whether a body is complete is the protocol's decision
(`Fetch.on_body_end`), asked by the driver, which then calls `commit`. Kept out of
`rosetta.protocol`, which never touches a file.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from rosetta.protocol.download import Fetch, Job, OnDisk, ReadBody, Step
from rosetta.protocol.download_headers import http_date
from rosetta.protocol.names import PART_SUFFIX, VALIDATOR_SUFFIX

# O_EXCL: the .part is always a new file of ours, never one that appeared in the meantime
# (a symlink planted there included).
_NO_FOLLOW = os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NO_FOLLOW
_RESUME_FLAGS = os.O_RDWR | _NO_FOLLOW

# Every .part file not yet renamed or removed, so an interrupted run can sweep up behind
# threads it cannot stop (see `discard_all`).
_open_parts: set[str] = set()
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
    """One body on its way to disk: `with PartFile(directory, job, step) as part:`, then
    `part.write(chunk)` for each chunk and `part.finish(fetch)` at the body's clean end.
    `sha256=False`: no digest (nothing of the run looks at one; `sha256` is then "")."""

    def __init__(
        self, directory: Path, job: Job, reading: ReadBody | None = None, *, sha256: bool = True
    ) -> None:
        # Plain strings, joined once: a path object per name would cost more than the
        # system calls themselves for a small file.
        folder = os.fspath(directory)
        prefix = folder if folder.endswith(os.sep) else folder + os.sep
        self.name = job.name
        self.path = prefix + job.name
        self.part_path = self.path + PART_SUFFIX
        self.validator_path = self.part_path + VALIDATOR_SUFFIX
        self.reading = reading or ReadBody(None)
        self.keep = self.reading.keep_part
        self.received = 0  # bytes in the .part file
        self._digest = _sha256() if sha256 else None
        self._fd = -1
        self._done = False

    def __enter__(self) -> PartFile:
        try:
            self._fd = self._resume() if self.reading.offset else self._create()
            if self.keep:
                self._record_validator()
        except OSError as error:
            part_name = self.name + PART_SUFFIX
            raise LocalError(f"cannot create {part_name}: {_reason(error)}") from None
        if not self.keep:
            with _open_parts_lock:
                _open_parts.add(self.part_path)
        return self

    def _resume(self) -> int:
        """The part of an earlier run, cut to the offset and hashed up to it."""
        fd = os.open(self.part_path, _RESUME_FLAGS)
        os.ftruncate(fd, self.reading.offset)
        if self._digest is not None:
            while chunk := os.read(fd, 1 << 20):
                self._digest.update(chunk)
        else:
            os.lseek(fd, 0, os.SEEK_END)
        self.received = self.reading.offset
        return fd

    def _record_validator(self) -> None:
        _remove(self.validator_path)
        if self.reading.validator:
            fd = os.open(self.validator_path, _OPEN_FLAGS, 0o644)
            with os.fdopen(fd, "w", encoding="latin-1") as file:
                file.write(self.reading.validator + "\n")

    def _create(self) -> int:
        try:
            return os.open(self.part_path, _OPEN_FLAGS, 0o644)
        except FileExistsError:
            # A .part left by a killed run (or anything else under that name) is ours to
            # remove: the name is reserved for this download. Once, then O_EXCL again.
            os.unlink(self.part_path)
            return os.open(self.part_path, _OPEN_FLAGS, 0o644)

    def write(self, chunk: bytes | memoryview) -> None:
        try:
            written = os.write(self._fd, chunk)
            if written < len(chunk):  # rare on a local file: the rest, without a copy
                view = memoryview(chunk)[written:]
                while view:
                    view = view[os.write(self._fd, view) :]
        except OSError as error:
            part_name = self.name + PART_SUFFIX
            raise LocalError(f"cannot write {part_name}: {_reason(error)}") from None
        self.received += len(chunk)
        if self._digest is not None:
            self._digest.update(chunk)

    @property
    def sha256(self) -> str:
        return "" if self._digest is None else self._digest.hexdigest()

    def finish(self, fetch: Fetch) -> Step | None:
        """The body's clean end: the protocol decides; a complete one is committed."""
        step = fetch.on_body_end(self.received, self.sha256)
        if step is None:
            fetch.on_saved(*self.commit())
        self.keep = self.keep and fetch.keeps_part
        return step

    def commit(self) -> tuple[int, str]:
        """Rename the complete body into place (atomic); LocalError if that fails. Returns
        what is now saved: its length and its sha256 ("" if not hashed)."""
        self._close()
        try:
            os.replace(self.part_path, self.path)
        except OSError as error:
            raise LocalError(f"cannot rename to {self.name}: {_reason(error)}") from None
        self._done = True
        if self.reading.modified is not None:  # the server's time: --check-remote asks with it
            with contextlib.suppress(OSError):
                os.utime(self.path, (self.reading.modified, self.reading.modified))
        if self.reading.keep_part:
            _remove(self.validator_path)
        self._forget()
        return self.received, self.sha256

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._fd >= 0:
            self._close()
        if not self._done and not self.keep:
            _remove(self.part_path)
            _remove(self.validator_path)
            self._forget()

    def _close(self) -> None:
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            os.close(fd)

    def _forget(self) -> None:
        if not self.keep:
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
    return [Path(path) for path in paths]


def _sha256() -> Any:
    """A new sha256: hashlib is imported by the first run that hashes, not by every run."""
    import hashlib

    return hashlib.sha256()


def _remove(path: str | Path) -> None:
    # Nothing more can be done if this fails; the summary still reports the URL as failed.
    with contextlib.suppress(OSError):
        os.unlink(path)


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


def on_disk(directory: Path, job: Job, *, hash_complete: bool = False) -> OnDisk:
    """What `--continue` finds under the job's names: a complete file (its size, time and,
    if asked, sha256), or a part and its recorded validator (no validator: not resumable)."""
    path = directory / job.name
    try:
        info = os.stat(path)
    except OSError:
        info = None
    if info is not None and os.path.isfile(path):
        sha256 = _file_sha256(path) if hash_complete else ""
        return OnDisk(True, info.st_size, http_date(info.st_mtime), sha256)
    try:
        part = os.lstat(directory / job.part_name)
        validator = (directory / job.validator_name).read_text(encoding="latin-1").strip()
    except OSError:
        return OnDisk()
    return OnDisk(part_size=part.st_size, validator=validator)


def _file_sha256(path: Path) -> str:
    digest = _sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def read_checksums(path: Path) -> dict[str, str]:
    """`sha256sum` lines (`HASH  NAME`, or `HASH *NAME`): the hash each name must have;
    LocalError, with the line, for anything else."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise LocalError(f"cannot read checksums {str(path)!r}: {_reason(error)}") from None
    expected = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        digest, _, name = line.partition(" ")
        name = name[1:] if name[:1] in (" ", "*") else name
        if len(digest) != 64 or not name or any(c not in "0123456789abcdefABCDEF" for c in digest):
            raise LocalError(f"{path}:{number}: not a sha256sum line: {line[:80]!r}")
        expected[name] = digest.lower()
    return expected


def write_checksums(path: Path, lines: list[tuple[str, str]]) -> None:
    """`sha256sum` lines for (sha256, name) pairs, readable by `sha256sum -c` in the folder."""
    try:
        path.write_text("".join(f"{digest}  {name}\n" for digest, name in lines), "utf-8")
    except OSError as error:
        raise LocalError(f"cannot write checksums {str(path)!r}: {_reason(error)}") from None
