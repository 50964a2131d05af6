"""Change notification for remembered answers: the kernel says when a watched directory entry
changes, so a remembered answer is proved still true without a system call per path component.

Linux only (inotify, through `inotify_simple`); elsewhere, or when the kernel refuses another
instance or watch, `watcher_for(root)` returns None and `rosetta.protocol.known_files` checks
each answer with one `lstat` per component instead. It lives outside `rosetta.protocol` (a
kernel queue, a lock for threads sharing a site, a fork hook): the servers hand it to the
site they make (`StaticSite(root, watcher_for=watcher_for)`); a site made without it proves
every hit.

Only on a local filesystem (`local_filesystem`): a network or FUSE filesystem changed by another
host, or a virtual machine's host, tells this kernel nothing, so a root there is proved on
every hit; so is a file on another device than the root (a mount inside it).

Exact, not eventually right: the kernel queues an event while the call that renames, removes,
creates, writes or changes the attributes of a watched entry is still running, so by the time a
request sent after the change has been read, its event is in the queue. `changed()` asks the
kernel how many bytes wait there (one `ioctl`, no read when there are none) before a remembered
answer is used: before every one, or, on an event loop's thread that gives every answer of its
site (`answering_on(loop)`, entered by the asyncio servers), once per turn of the loop, before
the turn's first. That is as exact for every client that waits for an answer before it asks
again (browsers, curl, wrk): a turn answers what was read after its readiness was collected, so
a request sent after a change either woke this turn, after the change, or waits for the next.
Only a pipelined request read behind an earlier one in the same turn is answered as of the
turn's start; asking every time cost one system call per answer, a tenth of the server's time
on small files. A process forked after the watches were made shares their queue with
its parent, so it stops using them (`os.register_at_fork`) and falls back to the `lstat` check.
"""

from __future__ import annotations

import array
import contextlib
import fcntl
import os
import termios
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from asyncio import AbstractEventLoop

try:
    from inotify_simple import INotify, flags
except ImportError:  # not Linux, or not installed: the lstat check is used
    INotify = None  # type: ignore[assignment,misc]

# An entry of a watched directory appearing, going, renamed, written or changed in its
# attributes; the directory itself going or moving. Symlinks are never followed, and a watch
# is only ever set on a directory or on a regular file the path reached without a symlink.
if INotify is not None:
    _ENTRY_EVENTS = (
        flags.ATTRIB
        | flags.MODIFY
        | flags.CLOSE_WRITE
        | flags.CREATE
        | flags.DELETE
        | flags.MOVED_FROM
        | flags.MOVED_TO
        | flags.DELETE_SELF
        | flags.MOVE_SELF
    )
    _OVERFLOW = flags.Q_OVERFLOW
# What a change is reported as: the watch it came from and the entry's name ("" for the
# watched directory or file itself); (-1, "") when the kernel dropped events (forget all).
Change = tuple[int, str]
_live: weakref.WeakSet[FileChanges] = weakref.WeakSet()
# The event loop on which this thread gives every answer of its sites (`answering_on`).
_answering = threading.local()
# Filesystems whose every change goes through this kernel (a network, FUSE or host-shared one
# can change underneath it without an event).
LOCAL_FILESYSTEMS = frozenset(
    {"ext2", "ext3", "ext4", "xfs", "btrfs", "tmpfs", "ramfs", "f2fs", "jfs", "bcachefs", "zfs"}
)


class FileChanges:
    """One inotify instance: watches on directories and files, and the changes seen since."""

    __slots__ = (
        "__weakref__",
        "_asked",
        "_fd",
        "_inotify",
        "_lock",
        "_pending",
        "_reading",
        "_turns",
        "usable",
    )

    def __init__(self, inotify: INotify) -> None:
        self._inotify = inotify
        self._fd = inotify.fileno()
        self._pending = array.array("i", [0])
        # Threads share a site (classic.threads): one reads the queue while the others wait,
        # so none answers from memory between another's read and its forgetting.
        self._lock = threading.Lock()
        self._reading = False
        # Made on an event loop's thread inside `answering_on`: asked once per turn of it.
        self._turns: AbstractEventLoop | None = getattr(_answering, "loop", None)
        self._asked = False  # in this turn
        self.usable = True
        weakref.finalize(self, inotify.close)
        _live.add(self)

    @classmethod
    def open(cls) -> FileChanges | None:
        if INotify is None:
            return None
        try:
            return cls(INotify(nonblocking=True))
        except OSError:
            return None  # the per-user limit on instances, for one

    def watch(self, path: str, *, directory: bool = True, follow: bool = False) -> int:
        """A watch on the directory (or the file) at `path`, not following a symlink unless
        `follow` (for /proc/self/fd/N: the directory a descriptor holds); OSError if the
        kernel refuses (errno ENOSPC: out of watches)."""
        mask = _ENTRY_EVENTS | (flags.ONLYDIR if directory else 0)
        return int(self._inotify.add_watch(path, mask if follow else mask | flags.DONT_FOLLOW))

    def changed(self) -> bool:
        """True when the kernel has queued changes not yet taken with `take()` (asked once
        per turn of the loop under `answering_on`)."""
        if self._asked:
            return False  # asked in this turn; a loop's one thread is never inside take()
        fcntl.ioctl(self._fd, termios.FIONREAD, self._pending, True)
        if self._turns is not None:
            try:
                self._turns.call_soon(self._turn_over)
                self._asked = True
            except RuntimeError:  # the loop is closed: this site outlived its server
                self._turns = None
        return self._pending[0] > 0 or self._reading

    def _turn_over(self) -> None:
        self._asked = False

    def take(self, forget: Callable[[list[Change]], None]) -> None:
        """Read the queued changes and hand them to `forget`, holding every other reader back
        until it has returned."""
        with self._lock:
            self._reading = True
            try:
                changes = [
                    (-1, "") if event.mask & _OVERFLOW else (event.wd, event.name)
                    for event in self._inotify.read(timeout=0)
                ]
                if changes:
                    forget(changes)
            finally:
                self._reading = False

    def hold(self) -> threading.Lock:
        """Held while watches are set and checked, so no change is taken in between."""
        return self._lock


@contextlib.contextmanager
def answering_on(loop: AbstractEventLoop) -> Iterator[None]:
    """Within: this thread gives every answer of the sites it serves on `loop`, so the change
    notification they make here is asked once per turn of the loop, not before every answer."""
    _answering.loop = loop
    try:
        yield
    finally:
        _answering.loop = None


def local_filesystem(path: str, mountinfo: str = "/proc/self/mountinfo") -> bool:
    """True if `path` (a real path) lies on a filesystem in LOCAL_FILESYSTEMS."""
    try:
        with open(mountinfo, encoding="utf-8", errors="replace") as lines:
            mounts = [line.split() for line in lines]
    except OSError:
        return False
    best, kind = "", ""
    for fields in mounts:
        if "-" not in fields[6:]:
            continue
        point = fields[4].replace("\\040", " ").replace("\\011", "\t")
        inside = path == point or path.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, fields[fields.index("-", 6) + 1]
    return kind in LOCAL_FILESYSTEMS


def watcher_for(root: str) -> FileChanges | None:
    """The change notification for a document root (its real path), or None where the kernel
    cannot be trusted to tell (not a local filesystem) or refuses another instance."""
    return FileChanges.open() if local_filesystem(root) else None


def _after_fork_in_child() -> None:
    for changes in list(_live):
        changes.usable = False  # the parent reads this queue: its events are not ours


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
