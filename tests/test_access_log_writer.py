"""The access log's writer in this process: its thread never takes a signal meant for the
process, and a reopen (SIGHUP) keeps the descriptor number, so a fork at any moment holds a
file that is open."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from rosetta.access_log import AccessLog

# Run in a fresh interpreter: another test of this process may have imported a gevent model,
# whose monkey-patching turns threads into greenlets.
MASKS = """
import signal, sys, threading
from pathlib import Path
from rosetta.access_log import AccessLog

def blocked(native_id):
    status = Path(f"/proc/self/task/{native_id}/status").read_text()
    return int(next(l for l in status.splitlines() if l.startswith("SigBlk:")).split()[1], 16)

log = AccessLog(sys.argv[1])
log.start()
print(blocked(log._flusher.native_id), blocked(threading.main_thread().native_id))
log.close()
"""


def test_the_writer_thread_blocks_every_signal(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", MASKS, str(tmp_path / "access.log")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    writer, main = (int(word) for word in result.stdout.split())
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD, signal.SIGHUP):
        bit = 1 << (signum - 1)
        assert writer & bit, signal.Signals(signum).name
        assert not main & bit, signal.Signals(signum).name  # the main thread takes them


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
