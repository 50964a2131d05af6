"""(document root, request event) -> a response plan: status, head bytes, body, keep-alive.

This is the course's static web server with every one of its bugs fixed once, for every model:
the path is percent-decoded, its query string ignored, `/` and directories mean `index.html`,
`..` in any encoding, backslashes, NUL bytes and paths that resolve (through symlinks) outside
the root are all 404, and never a byte from outside the root is served. Responses carry
`Content-Type`, `Content-Length`, `Last-Modified` and `ETag`, answer conditional requests with
304 and a single `Range` with 206 or 416; HEAD is GET without the body.

Small files are planned with their bytes in memory; larger ones as a `FileSlice` that the
driver sends in its own way (`socket.sendfile`, `loop.sendfile`, reads into a buffer).
"""

from __future__ import annotations

import mimetypes
import os
import stat
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from urllib.parse import unquote_to_bytes

import httptools

from rosetta.protocol.http import (
    Event,
    ProtocolError,
    Request,
    connection_header,
    error_page,
    http_date,
    response_head,
    status_line,
)

INLINE_LIMIT = 64 * 1024
_INLINE_CACHE_ENTRIES = 256
_PLAN_CACHE_ENTRIES = 1024
_OK = HTTPStatus.OK
_OK_DATE = status_line(_OK) + b"Date: "
# Requests with these headers get an answer that depends on more than the file: never cached.
_VARYING_HEADERS = frozenset({b"range", b"if-range", b"if-none-match", b"if-modified-since"})
_TEXT_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")
# Our own table, not the system's /etc/mime.types, so every machine answers alike.
_MIME = mimetypes.MimeTypes()
_MIME.add_type("text/javascript", ".js")  # RFC 9239; older Pythons still say application/


@dataclass(frozen=True, slots=True)
class FileSlice:
    """`length` bytes of the file at `path` from `offset`: the body of a larger response."""

    path: str
    offset: int
    length: int


@dataclass(frozen=True, slots=True)
class ResponsePlan:
    status: int
    head: bytes
    body: bytes | FileSlice
    keep_alive: bool

    @property
    def body_length(self) -> int:
        return self.body.length if isinstance(self.body, FileSlice) else len(self.body)


@dataclass(frozen=True, slots=True)
class _KnownFile:
    """A 200 answer already worked out for one target, valid while `revalidate` holds.

    Only targets that reach their file without any symlink are remembered, so checking,
    from the root directory itself (a descriptor opened once), that every directory on the
    way is still a real directory (lstat) and the file still the same inode, unchanged (size,
    mtime, ctime), proves what `os.path.realpath` proved the first time: the file is inside
    the root. A swapped symlink or a replaced file fails the check.
    """

    directories: tuple[str, ...]  # relative to the root, outermost first
    name: str  # the file, relative to the root
    identity: tuple[int, int, int, int, int, int]
    fields: bytes  # the head after the Date value, without the Connection line
    body: bytes | FileSlice

    def revalidate(self, root_fd: int) -> bool:
        try:
            for directory in self.directories:
                if not stat.S_ISDIR(os.lstat(directory, dir_fd=root_fd).st_mode):
                    return False
            info = os.lstat(self.name, dir_fd=root_fd)
        except (OSError, ValueError):
            return False
        return (
            info.st_ino,
            info.st_mtime_ns,
            info.st_ctime_ns,
            info.st_size,
            info.st_dev,
            stat.S_IFMT(info.st_mode),
        ) == self.identity


def _identity(info: os.stat_result) -> tuple[int, int, int, int, int, int]:
    """What must not change for a remembered answer to stay true (a regular file's mode)."""
    return (
        info.st_ino,
        info.st_mtime_ns,
        info.st_ctime_ns,
        info.st_size,
        info.st_dev,
        stat.S_IFMT(info.st_mode),
    )


class FileChanged(OSError):
    """The file got shorter between planning and sending; the connection must be closed."""


def content_type(path: str) -> bytes:
    guessed, _ = _MIME.guess_type(path, strict=False)
    kind = guessed or "application/octet-stream"
    if kind.startswith(_TEXT_TYPES):
        kind += "; charset=utf-8"
    return kind.encode("ascii")


def iter_file_slice(body: FileSlice, chunk_size: int = 256 * 1024) -> Iterator[bytes]:
    """The bytes of a FileSlice in chunks, for drivers that cannot use sendfile."""
    with open(body.path, "rb") as file:
        file.seek(body.offset)
        remaining = body.length
        while remaining:
            chunk = file.read(min(chunk_size, remaining))
            if not chunk:
                raise FileChanged(f"{body.path} shrank while being sent")
            remaining -= len(chunk)
            yield chunk


class StaticSite:
    """A document root and everything needed to answer requests for it."""

    def __init__(self, root: str | os.PathLike[str], *, inline_limit: int = INLINE_LIMIT) -> None:
        self.root = os.path.realpath(root)
        self._root_prefix = self.root.rstrip(os.sep) + os.sep
        self.inline_limit = inline_limit
        self._inline: dict[str, tuple[int, int, int, bytes]] = {}
        self._known: dict[bytes, _KnownFile] = {}
        # O_PATH (Linux) needs only search permission on the root, as serving from it does.
        try:
            self._root_fd = os.open(self.root, getattr(os, "O_PATH", os.O_RDONLY) | os.O_DIRECTORY)
        except OSError:
            self._root_fd = -1  # no root (yet): every answer takes the full path, nothing is kept
        else:
            weakref.finalize(self, os.close, self._root_fd)

    # -- the one entry point -------------------------------------------------------------

    def respond(self, event: Event) -> ResponsePlan:
        if isinstance(event, ProtocolError):
            extra = ((b"Allow", ", ".join(event.allow).encode("ascii")),) if event.allow else ()
            return self.error(event.status, keep_alive=event.keep_alive, extra=extra)
        plain = True
        for name, _ in event.headers:
            if name in _VARYING_HEADERS:
                plain = False
                break
        if plain and self._root_fd >= 0:
            known = self._known.get(event.target)
            if known is not None and known.revalidate(self._root_fd):
                return self._known_response(event, known)
        candidate = self._candidate(event.target)
        found = candidate if isinstance(candidate, int) else self._resolve_candidate(candidate)
        if isinstance(found, int):
            return self.error(found, keep_alive=event.keep_alive, request=event)
        path, info = found
        plan = self._file_response(event, path, info)
        if plain and plan.status == HTTPStatus.OK and event.method == "GET" and self._root_fd >= 0:
            self._remember(event, candidate, path, info, plan)  # type: ignore[arg-type]
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

    # -- remembering whole-file answers ---------------------------------------------------

    def _remember(
        self, request: Request, candidate: str, path: str, info: os.stat_result, plan: ResponsePlan
    ) -> None:
        if path not in (candidate, os.path.join(candidate, "index.html")):
            return  # a symlink on the way: its target may change, so resolve it every time
        if not path.startswith(self._root_prefix):
            return
        name = path[len(self._root_prefix) :]
        parts = name.split(os.sep)
        directories = [os.path.join(*parts[: depth + 1]) for depth in range(len(parts) - 1)]
        head = plan.head
        fields_start = head.index(b"\r\n", head.index(b"\r\nDate: ") + 2)
        fields_end = len(head) - 2 - len(connection_header(plan.keep_alive, request.http_version))
        if len(self._known) >= _PLAN_CACHE_ENTRIES:
            self._known.clear()
        self._known[request.target] = _KnownFile(
            tuple(directories), name, _identity(info), head[fields_start:fields_end], plan.body
        )

    def _known_response(self, request: Request, known: _KnownFile) -> ResponsePlan:
        keep_alive = request.keep_alive
        head = b"".join(
            (
                _OK_DATE,
                http_date(),
                known.fields,
                connection_header(keep_alive, request.http_version),
                b"\r\n",
            )
        )
        body = known.body if request.method == "GET" else b""
        return ResponsePlan(_OK, head, body, keep_alive)

    # -- building responses --------------------------------------------------------------

    def _file_response(self, request: Request, path: str, info: os.stat_result) -> ResponsePlan:
        size = info.st_size
        etag = b'"%x-%x"' % (info.st_mtime_ns, size)
        last_modified = formatdate(int(info.st_mtime), usegmt=True).encode("ascii")
        validators = ((b"Last-Modified", last_modified), (b"ETag", etag))

        if _not_modified(request, etag, int(info.st_mtime)):
            head = response_head(
                HTTPStatus.NOT_MODIFIED,
                validators,
                keep_alive=request.keep_alive,
                http_version=request.http_version,
            )
            return ResponsePlan(HTTPStatus.NOT_MODIFIED, head, b"", request.keep_alive)

        status, start, length = HTTPStatus.OK, 0, size
        headers = [(b"Content-Type", content_type(path))]
        byte_range = _requested_range(request, size, etag, last_modified)
        if byte_range == "unsatisfiable":
            return self.error(
                HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
                keep_alive=request.keep_alive,
                request=request,
                extra=((b"Content-Range", b"bytes */%d" % size),),
            )
        if byte_range is not None:
            start, end = byte_range
            status, length = HTTPStatus.PARTIAL_CONTENT, end - start + 1
            headers.append((b"Content-Range", b"bytes %d-%d/%d" % (start, end, size)))
        headers += (
            (b"Content-Length", b"%d" % length),
            *validators,
            (b"Accept-Ranges", b"bytes"),
        )
        head = response_head(
            status, headers, keep_alive=request.keep_alive, http_version=request.http_version
        )
        if request.method == "HEAD" or length == 0:
            body: bytes | FileSlice = b""
        elif size <= self.inline_limit:
            content = self._read_small(path, info)
            if content is None:
                return self.error(
                    HTTPStatus.NOT_FOUND, keep_alive=request.keep_alive, request=request
                )
            body = content[start : start + length]
        else:
            body = FileSlice(path, start, length)
        return ResponsePlan(status, head, body, request.keep_alive)

    def _read_small(self, path: str, info: os.stat_result) -> bytes | None:
        cached = self._inline.get(path)
        identity = (info.st_ino, info.st_mtime_ns, info.st_size)
        if cached is not None and cached[:3] == identity:
            return cached[3]
        try:
            with open(path, "rb") as file:
                content = file.read(self.inline_limit + 1)
        except OSError:
            return None
        if len(content) != info.st_size:
            return None
        if len(self._inline) >= _INLINE_CACHE_ENTRIES:
            self._inline.clear()
        self._inline[path] = (*identity, content)
        return content

    def error(
        self,
        status: int,
        *,
        keep_alive: bool,
        request: Request | None = None,
        extra: tuple[tuple[bytes, bytes], ...] = (),
    ) -> ResponsePlan:
        page = error_page(status)
        keep_alive = keep_alive and status in _KEEP_ALIVE_ERRORS
        headers = (
            (b"Content-Type", b"text/html; charset=utf-8"),
            (b"Content-Length", b"%d" % len(page)),
            *extra,
        )
        version = request.http_version if request is not None else "1.1"
        head = response_head(status, headers, keep_alive=keep_alive, http_version=version)
        body = b"" if request is not None and request.method == "HEAD" else page
        return ResponsePlan(status, head, body, keep_alive)


# Errors after which the connection is still in a known state; all others close it.
_KEEP_ALIVE_ERRORS = frozenset(
    {
        HTTPStatus.NOT_FOUND,
        HTTPStatus.METHOD_NOT_ALLOWED,
        HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
    }
)


def _not_modified(request: Request, etag: bytes, mtime: int) -> bool:
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


def _requested_range(
    request: Request, size: int, etag: bytes, last_modified: bytes
) -> tuple[int, int] | str | None:
    """(first, last) byte, "unsatisfiable", or None to send the whole file."""
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
            return "unsatisfiable"
        last = int(last_text) if last_text else size - 1
        if last < first:
            return None
    elif last_text:
        suffix = int(last_text)
        if suffix == 0:
            return "unsatisfiable"
        first, last = max(size - suffix, 0), size - 1
    else:
        return None
    if first >= size:
        return "unsatisfiable"
    return first, min(last, size - 1)
