"""The access log's writer in this process: its thread never takes a signal meant for the
process, and a reopen (SIGHUP) keeps the descriptor number, so a fork at any moment holds a
file that is open."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

from rosetta.access_log import AccessLog


def _blocked_mask(native_id: int) -> int:
    status = Path(f"/proc/self/task/{native_id}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("SigBlk:"))
    return int(line.split()[1], 16)


def test_the_writer_thread_blocks_every_signal(tmp_path: Path) -> None:
    previous = signal.getsignal(signal.SIGHUP)
    log = AccessLog(str(tmp_path / "access.log"))
    log.start()
    try:
        flusher = log._flusher
        assert flusher is not None and flusher.native_id is not None
        blocked = _blocked_mask(flusher.native_id)
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD, signal.SIGHUP):
            assert blocked & (1 << (signum - 1)), signal.Signals(signum).name
        # ... while the thread that started it blocks none of them.
        assert not _blocked_mask(threading.main_thread().native_id or os.getpid()) & (
            1 << (signal.SIGTERM - 1)
        )
    finally:
        log.close()
        signal.signal(signal.SIGHUP, previous)


def test_a_reopen_keeps_the_descriptor_number(tmp_path: Path) -> None:
    path, rotated = tmp_path / "access.log", tmp_path / "access.log.1"
    previous = signal.getsignal(signal.SIGHUP)
    log = AccessLog(str(path))
    log.start()
    try:
        descriptor = log._fd
        log.write(b"before\n")
        log.flush()
        path.rename(rotated)
        log.reopen()
        log.write(b"after\n")
        log.flush()
        assert log._fd == descriptor
    finally:
        log.close()
        signal.signal(signal.SIGHUP, previous)
    assert rotated.read_bytes() == b"before\n"
    assert path.read_bytes() == b"after\n"
