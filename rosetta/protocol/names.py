"""Which URLs a downloader accepts, and the file name each is saved under: sans-I/O.

`check_url` refuses what cannot be fetched (a scheme other than http(s), no host, port 0,
spaces or control characters) with a one-line reason and makes the rest wire-safe the same way
for every HTTP stack; `name_from_url` turns a URL's last path segment into a name that is safe
in any directory. `rosetta.protocol.download.plan` builds on both.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote, unquote, urlsplit

SCHEMES = ("http", "https")
# Room left under the usual 255-byte name limit for "-NNN" and ".part".
MAX_NAME_BYTES = 200
FALLBACK_NAME = "index.html"


class BadURL(ValueError):
    """A URL this downloader will not fetch; the message says why, in one line."""


def check_url(text: str) -> str:
    """The URL itself if it can be fetched: http or https, a host, a valid port, no spaces."""
    url = text.strip()
    if not url:
        raise BadURL("empty URL")
    if any(char.isspace() or unicodedata.category(char) == "Cc" for char in url):
        raise BadURL(f"URL contains spaces or control characters: {url!r}")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise BadURL(f"not a valid URL: {url!r} ({error})") from None
    if parts.scheme.lower() not in SCHEMES:
        shown = f"{parts.scheme}:" if parts.scheme else "no scheme"
        raise BadURL(f"unsupported URL scheme ({shown}), use http:// or https://: {url!r}")
    if not parts.hostname:
        raise BadURL(f"URL has no host: {url!r}")
    if port == 0:
        raise BadURL(f"URL has port 0: {url!r}")
    return _ascii_url(url, parts.hostname)


def _ascii_url(url: str, hostname: str) -> str:
    """Non-ASCII made wire-safe the same way for every HTTP stack: an IDNA host, and
    percent-escapes (UTF-8) for any other non-ASCII character."""
    if url.isascii():
        return url
    if not hostname.isascii():
        try:
            ascii_host = hostname.encode("idna").decode("ascii")
        except UnicodeError:
            raise BadURL(f"URL has an invalid host name: {url!r}") from None
        scheme, rest = url.split("://", 1)
        authority, slash, tail = rest.partition("/")
        authority = authority.replace(hostname, ascii_host)
        url = f"{scheme}://{authority}{slash}{tail}"
    return "".join(char if char.isascii() else quote(char, safe="") for char in url)


def name_from_url(url: str) -> str:
    """A safe file name from the URL's last path segment (query and fragment ignored).

    Percent-escapes are decoded; slashes, backslashes, control and format characters
    (including bidirectional overrides) become `_`; leading dots and spaces are dropped, so
    the name is never hidden, `.` or `..`; an empty result falls back to `index.html`.
    """
    path = urlsplit(url).path
    segment = path.rsplit("/", 1)[-1]
    decoded = unquote(segment, errors="replace")
    cleaned = "".join(
        "_" if char in "/\\" or unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") else char
        for char in decoded
    )
    cleaned = cleaned.lstrip(". ").rstrip(" ")
    if not cleaned:
        return FALLBACK_NAME
    return _shorten(cleaned)


def _shorten(name: str) -> str:
    if len(name.encode()) <= MAX_NAME_BYTES:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension.encode()) > 16:
        stem, extension = name, ""
    keep = MAX_NAME_BYTES - len(extension.encode()) - (1 if extension else 0)
    short = stem.encode()[:keep].decode(errors="ignore")
    return f"{short}.{extension}" if extension else short
