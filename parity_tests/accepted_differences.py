"""The one list of accepted differences between models' HTTP responses.

Every model answers byte for byte like every other, except the models listed here, which use
another HTTP stack (DESIGN.md: `modern.aiohttp` uses aiohttp's own). For those, both responses
pass through `normalise` before they are compared; each entry says why it is accepted.
"""

from __future__ import annotations

from collections.abc import Callable
from email.utils import parsedate_to_datetime

from parity_tests.clients import Response

# -- modern.aiohttp: aiohttp's own HTTP stack (parser, response writer, FileResponse) ----------

# Headers that say nothing about the resource or the connection's fate:
# Date changes every second; Server names the software ("Python/3.11 aiohttp/3.14.5").
_AIOHTTP_IGNORED_HEADERS = frozenset({"date", "server"})
# Error pages aiohttp writes itself rather than our handler: 400 for a request its parser
# refuses (a plain-text diagnostic), 416 from FileResponse (an empty chunked body). The status,
# Content-Range and the connection's fate still count; the page and its framing do not.
_AIOHTTP_OWN_ERROR_PAGES = frozenset({400, 416})
_FRAMING_HEADERS = frozenset({"content-type", "content-length", "transfer-encoding"})


def keeps_alive(response: Response) -> bool:
    """Whether the response leaves the connection open, by the rules of its own HTTP version."""
    version = response.raw.split(b" ", 1)[0]
    connection = (response.header("Connection") or "").lower()
    if version == b"HTTP/1.0":
        return connection == "keep-alive"
    return connection != "close"


def _last_modified(value: str) -> str:
    # aiohttp rounds the file's mtime up to the second (math.ceil), we round it down, so the
    # dates may differ by one second. What must hold: a valid HTTP date. The ETag, compared
    # exactly, still carries the mtime to the nanosecond.
    return "<http-date>" if parsedate_to_datetime(value) else value


def aiohttp_meaning(response: Response) -> object:
    """What of a response must be the same from aiohttp as from our byte-identical models."""
    own_error_page = response.status in _AIOHTTP_OWN_ERROR_PAGES
    ignored = _AIOHTTP_IGNORED_HEADERS | {"connection"}  # compared as `keeps_alive` below
    if own_error_page:
        ignored |= _FRAMING_HEADERS
    headers = sorted(
        # Header names are case-insensitive: aiohttp writes "Etag", we write "ETag".
        (name.lower(), _last_modified(value) if name.lower() == "last-modified" else value)
        for name, value in response.headers
        if name.lower() not in ignored
    )
    return {
        # The status code; not the status line: aiohttp answers an HTTP/1.0 request with
        # "HTTP/1.0 200 OK" (we always say HTTP/1.1), which RFC 9110 allows, and its parser's
        # refusals come as "HTTP/1.0 400" too. Reason phrases are informative only.
        "status": response.status,
        # The connection's fate, not the Connection header's spelling: aiohttp leaves out
        # "Connection: close" where HTTP/1.0 implies it (a 1.0 request, a refused request).
        "keeps_alive": keeps_alive(response),
        # The other headers, in any order (aiohttp writes its own order).
        "headers": headers,
        "body": None if own_error_page else response.body,
    }


# model name -> function that maps a response to what must still be equal.
NORMALISERS: dict[str, Callable[[Response], object]] = {
    "modern.aiohttp": aiohttp_meaning,
}


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


# -- modern.aiohttp: what aiohttp's connection handling cannot match -------------------------

# Behaviour (not bytes) in which aiohttp's own connection handling differs, with why.
BEHAVIOUR_DIFFERENCES: dict[str, dict[str, str]] = {
    "modern.aiohttp": {
        "later-head-deadline": "aiohttp has no deadline for the head of a request after the "
        "first; its keep-alive timer (--keepalive-timeout) ends such a connection, silently",
        "first-head-keepalive": "aiohttp's keep-alive timer also runs from accept: with "
        "--keepalive-timeout below --header-timeout, a first head is cut silently at the former",
        "send-deadline": "aiohttp has no send deadline: a client that never reads is held",
        "half-close": "aiohttp may drop a connection whose client half-closed, unanswered",
    },
    # By model and options: only this variant differs.
    "modern.protocol[loop=asyncio]": {
        "send-deadline": "the stock loop's loop.sendfile reports no progress until the file is "
        "out, so a client that stops reading in the middle of a file is held, not cut",
    },
}
