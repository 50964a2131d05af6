"""Not imported by the entry point: nothing here runs patched."""

import time


def pause() -> None:
    time.sleep(1)
