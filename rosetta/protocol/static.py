"""(document root, request event) -> a `ResponsePlan`: status, header pairs, body, keep-alive.

This is the course's static web server with every one of its bugs fixed once, for every model:
the path is percent-decoded, its query string ignored, `/` and directories mean `index.html`,
`..` in any encoding, backslashes, NUL bytes and paths that resolve (through symlinks) outside
the root are all 404, and never a byte from outside the root is served. Responses carry
`Content-Type`, `Content-Length`, `Last-Modified` and `ETag`, answer conditional requests with
304 and a single `Range` with 206 or 416 (`rosetta.protocol.conditional`); HEAD is GET
without the body.

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

from rosetta.protocol.conditional import UNSATISFIABLE, not_modified, requested_range
from rosetta.protocol.files import FileSlice, content_type, file_identity
from rosetta.protocol.http import Event, ProtocolError, Request
from rosetta.protocol.known_files import KnownFiles
from rosetta.protocol.response import Headers, ResponsePlan, error_page

INLINE_LIMIT = 64 * 1024
_INLINE_CACHE_ENTRIES = 256
# Requests with these headers get an answer that depends on more than the file: never cached.
_VARYING_HEADERS = frozenset({b"range", b"if-range", b"if-none-match", b"if-modified-since"})
# Errors after which the connection is still in a known state; all others close it.
_KEEP_ALIVE_ERRORS = frozenset(
    {
        HTTPStatus.NOT_FOUND,
        HTTPStatus.METHOD_NOT_ALLOWED,
        HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
    }
)


class StaticSite:
    """A document root and everything needed to answer requests for it."""

    def __init__(self, root: str | os.PathLike[str], *, inline_limit: int = INLINE_LIMIT) -> None:
        self.root = os.path.realpath(root)
        self._root_prefix = self.root.rstrip(os.sep) + os.sep
        self.inline_limit = inline_limit
        self._inline: dict[str, tuple[tuple[int, ...], bytes]] = {}
        # O_PATH (Linux) needs only search permission on the root, as serving from it does.
        try:
            root_fd = os.open(self.root, getattr(os, "O_PATH", os.O_RDONLY) | os.O_DIRECTORY)
        except OSError:
            self._known = None  # no root (yet): every answer takes the full path
        else:
            weakref.finalize(self, os.close, root_fd)
            self._known = KnownFiles(self._root_prefix, root_fd)

    # -- the one entry point -------------------------------------------------------------

    def respond(self, event: Event) -> ResponsePlan:
        if isinstance(event, ProtocolError):
            extra = ((b"Allow", ", ".join(event.allow).encode("ascii")),) if event.allow else ()
            return self.error(event.status, keep_alive=event.keep_alive, extra=extra)
        known = self._known
        if known is not None:
            for name, _ in event.headers:
                if name in _VARYING_HEADERS:
                    known = None
                    break
            else:
                plan = known.answer(event)
                if plan is not None:
                    return plan
        candidate = self._candidate(event.target)
        found = candidate if isinstance(candidate, int) else self._resolve_candidate(candidate)
        if isinstance(found, int):
            return self.error(found, keep_alive=event.keep_alive, request=event)
        path, info = found
        plan = self._file_response(event, path, info)
        if known is not None and plan.status == HTTPStatus.OK and event.method == "GET":
            known.remember(event, candidate, path, info, plan)  # type: ignore[arg-type]
        return plan

    # -- mapping a target to a file inside the root --------------------------------------

    def resolve(self, target: bytes) -> tuple[str, os.stat_result] | int:
        """The real path and stat of the file a target names, or the error status."""
        candidate = self._candidate(target)
        if isinstance(candidate, int):
            return candidate
        return self._resolve_candidate(candidate)

    def _candidate(self, target: bytes) -> str | int:
        """The path a target names under the root, before symlinks; or the error status."""
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
        return os.path.join(self.root, *parts)

    def _resolve_candidate(self, candidate: str) -> tuple[str, os.stat_result] | int:
        found = self._inside(candidate)
        if found is None:
            return HTTPStatus.NOT_FOUND
        path, info = found
        if stat.S_ISDIR(info.st_mode):
            found = self._inside(os.path.join(path, "index.html"))
            if found is None:
                return HTTPStatus.NOT_FOUND
            path, info = found
        if not stat.S_ISREG(info.st_mode):
            return HTTPStatus.NOT_FOUND
        return path, info

    def _inside(self, candidate: str) -> tuple[str, os.stat_result] | None:
        real = os.path.realpath(candidate)
        if real != self.root and not real.startswith(self._root_prefix):
            return None
        try:
            return real, os.stat(real)
        except (OSError, ValueError):
            return None

    # -- building responses --------------------------------------------------------------

    def _file_response(self, request: Request, path: str, info: os.stat_result) -> ResponsePlan:
        size = info.st_size
        etag = b'"%x-%x"' % (info.st_mtime_ns, size)
        last_modified = formatdate(int(info.st_mtime), usegmt=True).encode("ascii")
        validators = ((b"Last-Modified", last_modified), (b"ETag", etag))
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
        headers: list[tuple[bytes, bytes]] = [(b"Content-Type", content_type(path))]
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
