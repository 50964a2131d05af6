"""Which URLs a downloader accepts, and the file name each is saved under: sans-I/O.

`check_url` refuses what cannot be fetched (a scheme other than http(s), no host, port 0,
spaces or control characters) with a one-line reason and makes the rest wire-safe the same way
for every HTTP stack; `name_from_url` turns a URL's last path segment into a name that is safe
in any directory. `plan` gives every URL of a run its file name, from the whole list, and
`shard` then takes one machine's share of it, so a shard never renames a file.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import NamedTuple
from urllib.parse import quote, unquote, urlsplit

SCHEMES = ("http", "https")
# Room left under the usual 255-byte name limit for "-NNN" and ".part".
MAX_NAME_BYTES = 200
FALLBACK_NAME = "index.html"
PART_SUFFIX = ".part"
# Beside NAME.part: the ETag or Last-Modified of the response it holds (for a resume).
VALIDATOR_SUFFIX = ".validator"


class BadURL(ValueError):
    """A URL this downloader will not fetch; the message says why, in one line."""


def check_url(text: str) -> str:
    """The URL itself if it can be fetched: http or https, a host, a valid port, no spaces."""
    url = text.strip()
    if not url:
        raise BadURL("empty URL")
    # ASCII (the usual case) in two C calls: its only non-printable characters are Cc.
    if (url.isascii() and (not url.isprintable() or " " in url)) or (
        not url.isascii()
        and any(char.isspace() or unicodedata.category(char) == "Cc" for char in url)
    ):
        raise BadURL(f"URL contains spaces or control characters: {url!r}")
    simple = split_url(url)
    if simple is not None and simple[1] and simple[2] != 0:
        return url  # ASCII already: nothing to make wire-safe
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


def split_url(url: str) -> tuple[str, str, int | None, str, str] | None:
    """`(scheme, host, port, path, query)` of an ASCII http(s) URL of the usual form (no user
    info, no `[...]` host, no `%` in the host, a port of digits up to 65535), lower-cased as
    `urlsplit` does; None for any other URL, which `urlsplit` then reads. The same answers as
    `urlsplit` for the URLs it takes, in a few string operations instead of a few dozen
    calls: every URL of a run passes here when it is checked."""
    scheme, sep, rest = url.partition("://")
    if not sep or not url.isascii():
        return None
    scheme = scheme.lower()
    if scheme != "http" and scheme != "https":
        return None
    end = rest.find("/")
    if end < 0:
        end = len(rest)
    authority = rest[:end]
    if "?" in authority or "#" in authority:  # a query or fragment right after the host
        end = min(found for found in (authority.find("?"), authority.find("#")) if found >= 0)
        authority = rest[:end]
    tail = rest[end:]
    if "@" in authority or "[" in authority or "]" in authority or "%" in authority:
        return None  # user info, an IPv6 literal, a zone or an escape: urlsplit's rules
    host, _, port_text = authority.partition(":")
    port = None
    if port_text:
        if not port_text.isdigit() or len(port_text) > 5 or int(port_text) > 65535:
            return None
        port = int(port_text)
    path, _, _ = tail.partition("#")
    path, _, query = path.partition("?")
    return scheme, host.lower(), port, path, query


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
    segment = _last_segment(url)
    decoded = unquote(segment, errors="replace") if "%" in segment else segment
    if decoded.isascii() and decoded.isprintable():  # the usual case: no Cc, Cf, Zl or Zp
        cleaned = decoded.replace("/", "_").replace("\\", "_")
    else:
        cleaned = "".join(
            "_" if char in "/\\" or unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") else char
            for char in decoded
        )
    cleaned = cleaned.lstrip(". ").rstrip(" ")
    if not cleaned:
        return FALLBACK_NAME
    return _shorten(cleaned)


def plain_path_start(url: str) -> int:
    """The first slash after `scheme://`, where the usual URL's path begins (unless a `?`
    comes before it: the callers check), for a URL with no fragment and nothing a parser
    strips (tabs, newlines); -1 for any other URL."""
    path_at = url.find("/", url.find("://") + 3) if "://" in url else -1
    return path_at if "#" not in url and url.isprintable() else -1


def _last_segment(url: str) -> str:
    """The last segment of the URL's path, as `urlsplit` reads it: without a query either, the
    usual URL ends with its path, and its last slash is the path's."""
    if "?" not in url and plain_path_start(url) >= 0:
        return url[url.rfind("/") + 1 :]
    simple = split_url(url)
    path = simple[3] if simple is not None else urlsplit(url).path
    return path.rsplit("/", 1)[-1]


def _shorten(name: str) -> str:
    if len(name.encode()) <= MAX_NAME_BYTES:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension.encode()) > 16:
        stem, extension = name, ""
    keep = MAX_NAME_BYTES - len(extension.encode()) - (1 if extension else 0)
    short = stem.encode()[:keep].decode(errors="ignore")
    return f"{short}.{extension}" if extension else short


class OnDisk(NamedTuple):
    """What `--continue` found under a job's names before the run began (the run looked;
    nothing here touches a file): a complete file, or a part and the validator beside it."""

    complete: bool = False
    size: int = 0  # of the complete file
    modified: str = ""  # the complete file's time as an HTTP date (for --check-remote)
    sha256: str = ""  # the complete file's, when a checksum list needs it
    part_size: int = 0
    validator: str = ""


class Job(NamedTuple):
    """One URL and the file name it is saved under (unique within the run); with
    `--continue`, what was on disk (`on_disk`, not None) and whether to ask the server if a
    complete file changed (`check_remote`); `sha256`: the checksum the file must have."""

    index: int
    url: str
    name: str
    on_disk: OnDisk | None = None
    check_remote: bool = False
    sha256: str = ""

    @property
    def part_name(self) -> str:
        return self.name + PART_SUFFIX

    @property
    def validator_name(self) -> str:
        return self.part_name + VALIDATOR_SUFFIX


def _reserved(name: str) -> tuple[str, ...]:
    return (name, name + PART_SUFFIX, name + PART_SUFFIX + VALIDATOR_SUFFIX)


def plan(urls: Sequence[str]) -> list[Job]:
    """A job per URL, in order. Names are de-duplicated within the run (`a.txt`, `a-1.txt`,
    in list order) and no name is another's `.part` (or the validator beside it). A file
    already in the output directory is replaced only by a complete download (the rename
    happens after the length check)."""
    taken: set[str] = set()
    jobs = []
    for index, url in enumerate(urls):
        base = name_from_url(url)
        name, number = base, 0
        # A name is free when none of its own names is taken, which also keeps it from being
        # another job's NAME.part (taken with that job's name).
        reserved = _reserved(name)
        while not taken.isdisjoint(reserved):
            number += 1
            name = _numbered(base, number)
            reserved = _reserved(name)
        taken.update(reserved)
        jobs.append(Job(index, url, name))
    return jobs


def _numbered(name: str, number: int) -> str:
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:
        return f"{name}-{number}"
    return f"{stem}-{number}.{extension}"


def shard_of(url: str, count: int) -> int:
    """Which of `count` shards (1 to count) a URL belongs to: by a hash of the URL alone, so
    the share does not depend on the list's order, and every URL is in exactly one."""
    from hashlib import sha256

    digest = sha256(url.encode()).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def shard(jobs: Sequence[Job], number: int, count: int) -> list[Job]:
    """The jobs of shard `number` of `count` (names already decided from the whole list)."""
    return [job for job in jobs if shard_of(job.url, count) == number]
