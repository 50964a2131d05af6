"""patch_all(thread=False, subprocess=False): threads and subprocesses stay real."""

import select
import subprocess
import threading

from gevent import monkey

monkey.patch_all(thread=False, subprocess=False)  # expect: monkey-patch-all


def main() -> None:
    lock = threading.Lock()
    with lock:
        subprocess.run(["true"], check=True)
    select.select([], [], [], 0.1)  # expect: patched-select
