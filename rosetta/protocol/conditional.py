"""Conditional and range requests: whether a cached copy is still good (304), and which bytes
of a file a `Range` asks for (206, or 416 when none of them exist).

One `Range` of the `bytes` unit is answered; several ranges or another unit get the whole
file, which RFC 9110 allows. `If-Range` that does not match the file's validators also gets
the whole file.
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime

from rosetta.protocol.http import Request

UNSATISFIABLE = "unsatisfiable"


def not_modified(request: Request, etag: bytes, mtime: int) -> bool:
    """The client's copy is current (If-None-Match first, else If-Modified-Since)."""
    if_none_match = request.header(b"if-none-match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix(b"W/") for tag in if_none_match.split(b",")}
        return b"*" in tags or etag in tags
    if_modified_since = request.header(b"if-modified-since")
    if if_modified_since is not None:
        try:
            since = parsedate_to_datetime(if_modified_since.decode("latin-1")).timestamp()
        except (TypeError, ValueError, IndexError):
            return False
        return mtime <= since
    return False


def requested_range(
    request: Request, size: int, etag: bytes, last_modified: bytes
) -> tuple[int, int] | str | None:
    """(first, last) byte, `UNSATISFIABLE`, or None to send the whole file."""
    header = request.header(b"range")
    if header is None:
        return None
    if_range = request.header(b"if-range")
    if if_range is not None and if_range.strip() not in (etag, last_modified):
        return None
    unit, _, spec = header.partition(b"=")
    if unit.strip().lower() != b"bytes" or b"," in spec:
        return None  # several ranges or another unit: the whole file is a valid answer
    first_text, dash, last_text = spec.strip().partition(b"-")
    if not dash:
        return None
    if not (first_text.isdigit() or not first_text) or not (last_text.isdigit() or not last_text):
        return None
    if first_text:
        first = int(first_text)
        if first >= size:
            return UNSATISFIABLE
        last = int(last_text) if last_text else size - 1
        if last < first:
            return None
    elif last_text:
        suffix = int(last_text)
        if suffix == 0:
            return UNSATISFIABLE
        first, last = max(size - suffix, 0), size - 1
    else:
        return None
    if first >= size:
        return UNSATISFIABLE
    return first, min(last, size - 1)
