"""patch_thread and patch_subprocess: threads were greenlets, children were waited on by the hub."""

import subprocess
import threading

from gevent.monkey import patch_subprocess, patch_thread

patch_thread()  # expect: monkey-patch-partial
patch_subprocess()  # expect: monkey-patch-partial


class Handler(threading.Thread):  # expect: patched-threading
    def run(self) -> None:
        subprocess.check_output(["true"])  # expect: patched-subprocess


def main() -> None:
    lock = threading.Lock()  # expect: patched-threading
    with lock:
        Handler().start()
    state = threading.local()  # expect: patched-threading
    print(state)
