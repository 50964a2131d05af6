"""Imported by the patching entry point: its blocking calls ran cooperatively."""

import threading
import time


def wait_a_bit() -> None:
    time.sleep(1)  # expect: patched-time-sleep


def run_jobs() -> None:
    wait_a_bit()
    threading.Thread(target=print).start()  # thread=False: a real thread, not reported
