"""`--limit-rate` and `--per-host` without a clock or a lock of their own: arithmetic the
drivers call with the time they read, each under its own kind of waiting.
"""

from __future__ import annotations

from urllib.parse import urlsplit

# How far ahead the allowance may run: a second's worth, so a pause never bursts past it.
BURST_SECONDS = 1.0


def host_of(url: str) -> str:
    """What `--per-host` counts connections by: scheme, host and port."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}"


class RateLimit:
    """A token bucket of `rate` bytes a second, shared by every transfer of a run:
    `pause = limit.take(count, now)`, then wait `pause` seconds before reading on."""

    def __init__(self, rate: int, now: float) -> None:
        self.rate = rate
        self._allowance = 0.0
        self._last = now

    def take(self, count: int, now: float) -> float:
        self._allowance = min(
            self.rate * BURST_SECONDS, self._allowance + (now - self._last) * self.rate
        )
        self._last = now
        self._allowance -= count
        return 0.0 if self._allowance >= 0 else -self._allowance / self.rate
