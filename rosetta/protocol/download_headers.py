"""The response and request header values a downloader reads or writes: sans-I/O.

`Content-Length`, `Content-Range`, `ETag` (only a strong one can validate a range),
`Last-Modified` and `If-Modified-Since` dates; `rosetta.protocol.download` decides with them.
And the request head itself, for a client that writes its own.
"""

from __future__ import annotations

from collections.abc import Mapping


def content_length(value: str | None) -> int | None:
    if value is None:
        return None
    text = value.strip()
    if not text.isdigit():
        return None
    return int(text)


def strong_etag(etag: str | None) -> str:
    """An ETag If-Range may carry: a strong one (a weak W/"..." cannot validate a range)."""
    text = (etag or "").strip()
    return text if text.startswith('"') else ""


def range_start(content_range: str | None) -> int | None:
    """The first byte of `Content-Range: bytes START-END/TOTAL`, None if unreadable."""
    unit, _, span = (content_range or "").strip().partition(" ")
    start = span.partition("-")[0]
    return int(start) if unit == "bytes" and start.isdigit() else None


def http_time(value: str | None) -> float | None:
    if not value:
        return None
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None


def http_date(timestamp: float) -> str:
    """`If-Modified-Since`'s form of a file's time: `Tue, 01 Dec 2026 23:08:18 GMT`."""
    from email.utils import formatdate

    return formatdate(timestamp, usegmt=True)


def request_head(address: tuple[str, str, int], target: str, headers: Mapping[str, str]) -> bytes:
    """A GET for `target` (path and query) at `address` (scheme, host, port), with `headers`."""
    scheme, host, port = address
    if ":" in host:
        host = f"[{host}]"
    default = 443 if scheme == "https" else 80
    lines = [
        f"GET {target} HTTP/1.1",
        f"Host: {host}" if port == default else f"Host: {host}:{port}",
    ]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
