"""Parsing the bench's option values: durations (`3`, `3s`, `50ms`), sizes, lists that sweep."""

from __future__ import annotations

import argparse
import re

_DURATION = re.compile(r"^\s*(?P<number>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>ms|s|m)?\s*$")
_SIZE = re.compile(r"^\s*(?P<number>\d+)\s*(?P<unit>[kKmM]i?[bB]?|[bB])?\s*$")
_SECONDS_PER = {None: 1.0, "s": 1.0, "ms": 0.001, "m": 60.0}


def seconds(text: str) -> float:
    """`3`, `3s`, `2.5s`, `50ms`, `1m` -> seconds (a bare number is seconds)."""
    match = _DURATION.match(text)
    if match is None:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (say 3, 3s or 50ms)")
    return float(match["number"]) * _SECONDS_PER[match["unit"]]


def positive_seconds(text: str) -> float:
    value = seconds(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0: {text!r}")
    return value


def byte_size(text: str) -> int:
    """`1024`, `1k`, `1KiB`, `100k`, `1m` -> bytes (k and m are 1024 and 1024**2)."""
    match = _SIZE.match(text)
    if match is None:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (say 1024, 1k or 1m)")
    unit = (match["unit"] or "b")[0].lower()
    value = int(match["number"]) * {"b": 1, "k": 1024, "m": 1024 * 1024}[unit]
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 byte or more: {text!r}")
    return value


def count(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more: {value}")
    return value


def positive_count(text: str) -> int:
    value = count(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more: {value}")
    return value


def counts(text: str) -> list[int]:
    """`1,10,100` -> [1, 10, 100]: a list sweeps, one figure per value."""
    return _listed(text, count)


def positive_counts(text: str) -> list[int]:
    return _listed(text, positive_count)


def durations(text: str) -> list[float]:
    """`0,50ms` -> [0.0, 0.05]."""
    return _listed(text, seconds)


def names(text: str) -> list[str]:
    listed = [name.strip() for name in text.split(",") if name.strip()]
    if not listed:
        raise argparse.ArgumentTypeError("an empty list")
    return listed


def _listed(text: str, parse):  # type: ignore[no-untyped-def]
    values = [parse(part) for part in text.split(",") if part.strip()]
    if not values:
        raise argparse.ArgumentTypeError("an empty list")
    return values


def human_duration(value: float) -> str:
    if value == 0:
        return "0"
    if value < 1:
        return f"{value * 1000:g}ms"
    return f"{value:g}s"


def human_size(value: float) -> str:
    for unit, factor in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if abs(value) >= factor:
            return f"{value / factor:.3g} {unit}"
    return f"{value:.0f} B"
