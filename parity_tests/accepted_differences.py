"""The one list of accepted differences between models' HTTP responses.

Every model answers byte for byte like every other, except the models listed here, which use
another HTTP stack (DESIGN.md: `modern.aiohttp` uses aiohttp's own). For those, both responses
pass through `normalise` before they are compared; each entry says why it is accepted.
"""

from __future__ import annotations

from collections.abc import Callable

from parity_tests.clients import Response

# model name -> function that maps a response to what must still be equal.
NORMALISERS: dict[str, Callable[[Response], object]] = {}


def comparable(model: str, response: Response) -> object:
    """What of `response` must equal the reference: its raw bytes, unless the model is listed."""
    normalise = NORMALISERS.get(model)
    if normalise is None:
        return normalise_date(response.raw)
    return normalise(response)


def normalise_date(raw: bytes) -> bytes:
    head, sep, body = raw.partition(b"\r\n\r\n")
    lines = [
        b"Date: <normalised>" if line.lower().startswith(b"date:") else line
        for line in head.split(b"\r\n")
    ]
    return b"\r\n".join(lines) + sep + body
