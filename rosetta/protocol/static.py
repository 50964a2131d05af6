"""(document root, request event) -> a `ResponsePlan`: status, header pairs, body, keep-alive.

This is the course's static web server with every one of its bugs fixed once, for every model:
the path is percent-decoded, its query string ignored, `/` and directories mean `index.html`,
`..` in any encoding, backslashes, NUL bytes and paths that resolve (through symlinks) outside
the root are all 404, and never a byte from outside the root is served. Responses carry
`Content-Type`, `Content-Length`, `Last-Modified` and `ETag`, answer conditional requests with
304 and a single `Range` with 206 or 416 (`rosetta.protocol.conditional`); HEAD is GET
without the body. A directory named without its trailing slash is redirected (301) to the
name with it, so relative links in its page resolve inside it; a directory without
`index.html` is 404, or its listing when the site lists (`rosetta.protocol.listing`).

A file with a precompressed sibling (`style.css.br`, `.zst`, `.gz`) that the request's
`Accept-Encoding` accepts is answered with the sibling's bytes, its own ETag, Last-Modified,
range and 304, the original's media type, `Content-Encoding` and `Vary: Accept-Encoding`
(`rosetta.protocol.encodings`).

Small files are planned with their bytes in memory; larger ones as a `FileSlice` that the
driver sends in its own way. A plain GET's 200 is remembered and reused while the file stays
the same (`rosetta.protocol.known_files`).
"""

from __future__ import annotations

import os
import stat
import weakref
from email.utils import formatdate
from http import HTTPStatus
from urllib.parse import unquote_to_bytes

import httptools

from rosetta.protocol import listing
from rosetta.protocol.conditional import UNSATISFIABLE, not_modified, requested_range
from rosetta.protocol.encodings import SUFFIXES, acceptable_encodings
from rosetta.protocol.files import ChosenFile, FileSlice, content_type, file_identity
from rosetta.protocol.http import Event, ProtocolError, Request
from rosetta.protocol.known_files import KnownFiles, WatcherFor
from rosetta.protocol.response import Headers, ResponsePlan, error_page

INLINE_LIMIT = 64 * 1024
_INLINE_CACHE_ENTRIES = 256
# Requests with these headers get an answer that depends on more than the file: never cached.
_VARYING_HEADERS = frozenset({b"range", b"if-range", b"if-none-match", b"if-modified-since"})
_VARY_ENCODING = (b"Vary", b"Accept-Encoding")
# Errors after which the connection is still in a known state; all others close it.
_KEEP_ALIVE_ERRORS = frozenset(
    {
        HTTPStatus.MOVED_PERMANENTLY,
        HTTPStatus.NOT_FOUND,
        HTTPStatus.METHOD_NOT_ALLOWED,
        HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
    }
)


def site_for(root: str | os.PathLike[str] | StaticSite) -> StaticSite:
    """`root` itself if it is already a site (made with options), else the plain site of it."""
    return root if isinstance(root, StaticSite) else StaticSite(root)


class StaticSite:
    """A document root and everything needed to answer requests for it.

    `listing` answers a directory without `index.html` with its listing (else 404);
    `listing_hidden` shows dot files in listings too; `watcher_for` (the servers pass
    `rosetta.file_changes.watcher_for`) lets remembered answers be proved by change notification
    instead of an lstat per path component on every hit.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        inline_limit: int = INLINE_LIMIT,
        listing: bool = False,
        listing_hidden: bool = False,
        watcher_for: WatcherFor | None = None,
    ) -> None:
        self.root = os.path.realpath(root)
        self._root_prefix = self.root.rstrip(os.sep) + os.sep
        self.inline_limit = inline_limit
        self.listing = listing
        self.listing_hidden = listing_hidden
        self._inline: dict[str, tuple[tuple[int, ...], bytes]] = {}
        # O_PATH (Linux) needs only search permission on the root, as serving from it does.
        try:
            root_fd = os.open(self.root, getattr(os, "O_PATH", os.O_RDONLY) | os.O_DIRECTORY)
        except OSError:
            self._known = None  # no root (yet): every answer takes the full path
        else:
            weakref.finalize(self, os.close, root_fd)
            self._known = KnownFiles(self._root_prefix, root_fd, watcher_for)

    # -- the one entry point -------------------------------------------------------------

    def respond(self, event: Event, peer: object = None) -> ResponsePlan:
        """The answer to `event`; `peer` (the client's socket address) is for the access log
        (`rosetta.access_log.LoggingSite`)."""
        if isinstance(event, ProtocolError):
            extra = ((b"Allow", ", ".join(event.allow).encode("ascii")),) if event.allow else ()
            return self.error(event.status, keep_alive=event.keep_alive, extra=extra)
        known = self._known
        accept_encoding = None
        for name, value in event.headers:  # one pass, as this runs for every request
            if name in _VARYING_HEADERS:
                known = None
            elif name == b"accept-encoding" and accept_encoding is None:
                accept_encoding = value
        codings = acceptable_encodings(accept_encoding)
        if known is not None:
            plan = known.answer(event, codings)
            if plan is not None:
                return plan
        chosen = self._choose(event, codings)
        if isinstance(chosen, ResponsePlan):
            return chosen
        candidate, file = chosen
        plan = self._file_response(event, file)
        if known is not None and plan.status == HTTPStatus.OK and event.method == "GET":
            known.remember(event, codings, candidate, file, plan)
        return plan

    # The answer, never logged, even by a logging site: for servers that log their own way.
    plan = respond

    def choose(self, request: Request) -> ChosenFile | ResponsePlan:
        """The file to answer `request` with, or the whole answer when it is not a file (an
        error, a redirect, a listing): for servers that send files their own way (aiohttp)."""
        codings = acceptable_encodings(request.header(b"accept-encoding"))
        chosen = self._choose(request, codings)
        return chosen if isinstance(chosen, ResponsePlan) else chosen[1]

    # -- mapping a target to a file inside the root --------------------------------------

    def resolve(self, target: bytes) -> tuple[str, os.stat_result] | int:
        """The real path and stat of the file a target names, or the error status (a directory
        named without its trailing slash is found too: `respond` redirects it)."""
        candidate = self._candidate(target)
        if isinstance(candidate, int):
            return candidate
        found = self._inside(candidate[0])
        if found is not None and stat.S_ISDIR(found[1].st_mode):
            found = self._inside(os.path.join(found[0], "index.html"))
        if found is None or not stat.S_ISREG(found[1].st_mode):
            return HTTPStatus.NOT_FOUND
        return found

    def _choose(
        self, request: Request, codings: tuple[str, ...]
    ) -> tuple[str, ChosenFile] | ResponsePlan:
        keep_alive = request.keep_alive
        candidate = self._candidate(request.target)
        if isinstance(candidate, int):
            return self.error(candidate, keep_alive=keep_alive, request=request)
        path_name, raw_path = candidate
        found = self._inside(path_name)
        if found is None:
            return self.error(HTTPStatus.NOT_FOUND, keep_alive=keep_alive, request=request)
        path, info = found
        if stat.S_ISDIR(info.st_mode):
            if not raw_path.endswith(b"/"):
                return self._redirect_to_directory(request, raw_path)
            index = self._inside(os.path.join(path, "index.html"))
            if index is None and self.listing:
                return self._listing(request, path)
            if index is None:
                return self.error(HTTPStatus.NOT_FOUND, keep_alive=keep_alive, request=request)
            path, info = index
        if not stat.S_ISREG(info.st_mode):
            return self.error(HTTPStatus.NOT_FOUND, keep_alive=keep_alive, request=request)
        media_type = content_type(path)
        for coding in codings:
            try:
                # `path` is real, so a sibling that lstat does not find does not exist at all.
                os.lstat(path + SUFFIXES[coding])
            except (OSError, ValueError):
                continue
            sibling = self._inside(path + SUFFIXES[coding])
            if sibling is not None and stat.S_ISREG(sibling[1].st_mode):
                return path_name, ChosenFile(*sibling, media_type, coding)
        return path_name, ChosenFile(path, info, media_type)

    def _candidate(self, target: bytes) -> tuple[str, bytes] | int:
        """The path a target names under the root, before symlinks, and the target's path as
        sent; or the error status."""
        if target.startswith(b"/"):
            raw_path = target.split(b"?", 1)[0].split(b"#", 1)[0]
        else:
            try:
                raw_path = httptools.parse_url(target).path or b""
            except httptools.HttpParserInvalidURLError:
                return HTTPStatus.BAD_REQUEST
            if not raw_path.startswith(b"/"):
                return HTTPStatus.BAD_REQUEST
        decoded = unquote_to_bytes(raw_path)
        if b"\0" in decoded or b"\\" in decoded:
            return HTTPStatus.NOT_FOUND
        try:
            text = decoded.decode("utf-8")
        except UnicodeDecodeError:
            return HTTPStatus.NOT_FOUND
        parts = [part for part in text.split("/") if part not in ("", ".")]
        if ".." in parts:
            return HTTPStatus.NOT_FOUND
        return os.path.join(self.root, *parts), raw_path

    def _inside(self, candidate: str) -> tuple[str, os.stat_result] | None:
        real = os.path.realpath(candidate)
        if real != self.root and not real.startswith(self._root_prefix):
            return None
        try:
            return real, os.stat(real)
        except (OSError, ValueError):
            return None

    # -- answers that are not a file -----------------------------------------------------

    def _redirect_to_directory(self, request: Request, raw_path: bytes) -> ResponsePlan:
        # The path as sent (still percent-encoded) with its slash, from one leading slash so
        # that `//host` can never become a redirect to another site; the query is kept.
        location = b"/" + raw_path.lstrip(b"/") + b"/"
        _, question, query = request.target.partition(b"?")
        if question and request.target.startswith(b"/"):
            location += b"?" + query.split(b"#", 1)[0]
        return self.error(
            HTTPStatus.MOVED_PERMANENTLY,
            keep_alive=request.keep_alive,
            request=request,
            extra=((b"Location", location),),
        )

    def _listing(self, request: Request, directory: str) -> ResponsePlan:
        found = listing.entries(directory, self._root_prefix, show_hidden=self.listing_hidden)
        if listing.wants_json(request.header(b"accept")):
            page, media_type = listing.json_listing(found), b"application/json"
        else:
            url_path = "/" + os.path.relpath(directory, self.root).replace(os.sep, "/") + "/"
            url_path = "/" if url_path == "/./" else url_path
            page, media_type = listing.html_listing(url_path, found), b"text/html; charset=utf-8"
        headers = (
            (b"Content-Type", media_type),
            (b"Content-Length", b"%d" % len(page)),
            (b"Vary", b"Accept"),
        )
        body = b"" if request.method == "HEAD" else page
        return ResponsePlan.render(
            HTTPStatus.OK,
            headers,
            body,
            keep_alive=request.keep_alive,
            http_version=request.http_version,
        )

    # -- building responses --------------------------------------------------------------

    def _file_response(self, request: Request, file: ChosenFile) -> ResponsePlan:
        path, info = file.path, file.info
        size = info.st_size
        etag = b'"%x-%x"' % (info.st_mtime_ns, size)
        last_modified = formatdate(int(info.st_mtime), usegmt=True).encode("ascii")
        validators: Headers = ((b"Last-Modified", last_modified), (b"ETag", etag))
        if file.encoding is not None:
            validators += (_VARY_ENCODING,)  # on the 304 too: it is the answer for one coding
        keep_alive, version = request.keep_alive, request.http_version

        if not_modified(request, etag, int(info.st_mtime)):
            return ResponsePlan.render(
                HTTPStatus.NOT_MODIFIED,
                validators,
                b"",
                keep_alive=keep_alive,
                http_version=version,
            )

        status, start, length = HTTPStatus.OK, 0, size
        headers: list[tuple[bytes, bytes]] = [(b"Content-Type", file.media_type)]
        if file.encoding is not None:
            headers.append((b"Content-Encoding", file.encoding.encode("ascii")))
        byte_range = requested_range(request, size, etag, last_modified)
        if byte_range == UNSATISFIABLE:
            return self.error(
                HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
                keep_alive=keep_alive,
                request=request,
                extra=((b"Content-Range", b"bytes */%d" % size),),
            )
        if byte_range is not None:
            start, end = byte_range
            status, length = HTTPStatus.PARTIAL_CONTENT, end - start + 1
            headers.append((b"Content-Range", b"bytes %d-%d/%d" % (start, end, size)))
        headers += ((b"Content-Length", b"%d" % length), *validators, (b"Accept-Ranges", b"bytes"))
        if request.method == "HEAD" or length == 0:
            body: bytes | FileSlice = b""
        elif size <= self.inline_limit:
            content = self._read_small(path, info)
            if content is None:
                return self.error(HTTPStatus.NOT_FOUND, keep_alive=keep_alive, request=request)
            body = content[start : start + length]
        else:
            body = FileSlice(path, start, length)
        return ResponsePlan.render(
            status, tuple(headers), body, keep_alive=keep_alive, http_version=version
        )

    def _read_small(self, path: str, info: os.stat_result) -> bytes | None:
        cached = self._inline.get(path)
        identity = file_identity(info)
        if cached is not None and cached[0] == identity:
            return cached[1]
        try:
            with open(path, "rb") as file:
                content = file.read(self.inline_limit + 1)
        except OSError:
            return None
        if len(content) != info.st_size:
            return None
        if len(self._inline) >= _INLINE_CACHE_ENTRIES:
            self._inline.clear()
        self._inline[path] = (identity, content)
        return content

    def error(
        self,
        status: int,
        *,
        keep_alive: bool,
        request: Request | None = None,
        extra: Headers = (),
    ) -> ResponsePlan:
        page = error_page(status)
        keep_alive = keep_alive and status in _KEEP_ALIVE_ERRORS
        headers = (
            (b"Content-Type", b"text/html; charset=utf-8"),
            (b"Content-Length", b"%d" % len(page)),
            *extra,
        )
        version = request.http_version if request is not None else "1.1"
        body = b"" if request is not None and request.method == "HEAD" else page
        return ResponsePlan.render(
            status, headers, body, keep_alive=keep_alive, http_version=version
        )
