"""The static site as an `aiohttp.web` application: one route, StaticSite picks the file,
`web.FileResponse` sends it. The `modern.aiohttp` model runs it; so can gunicorn:

    gunicorn 'rosetta.adapters.aiohttp_web:make_app("./html")' -k aiohttp.GunicornUVLoopWebWorker

One decision is kept in the project's own code: which file answers a request.
`rosetta.protocol.static.StaticSite.choose` maps the target (percent-decoding, `/` and
directories to `index.html`, every traversal refused, symlinks only inside the root) and picks
a precompressed sibling the request accepts, exactly as for every other model; redirects,
listings and errors come back as whole plans. `web.FileResponse` then serves the chosen file
the aiohttp way, with its own conditional and range handling, and is kept from choosing
siblings of its own (it would otherwise look for `.br` and `.gz` beside any file).
(`router.add_static` would serve the same files, but answers directories with 403, `//file`
with 404, and reads through a thread per request.)
Refusals (a head over the limits, a method other than GET and HEAD, a target with no file)
are the `ResponsePlan`s every model sends, handed to aiohttp as status and header pairs. What
still differs from the byte-identical models is listed, with why, in
`parity_tests/accepted_differences.py`.
"""

from __future__ import annotations

import logging
import os
from time import time as _now
from typing import IO, Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger, AbstractStreamWriter
from multidict import CIMultiDict

from rosetta.access_log import AccessLog
from rosetta.adapters import document_root
from rosetta.file_changes import watcher_for
from rosetta.protocol.access_log import log_line
from rosetta.protocol.http import (
    ALLOWED_METHODS,
    MAX_HEADER_BYTES,
    MAX_HEADER_COUNT,
    MAX_REQUEST_LINE,
    Request,
    fields_size,
    head_refusal,
    method_not_allowed,
)
from rosetta.protocol.response import ResponsePlan
from rosetta.protocol.static import StaticSite

SITE_KEY = web.AppKey("site", StaticSite)
EVENT_KEY = "rosetta.event"  # the request as StaticSite saw it, for the access log
# aiohttp's parser answers 400 to anything over its limits. Set them at twice ours, so a head
# over our limits (but under twice them) reaches `static_file`, which answers 414 or 431 as
# every other model does; beyond twice, aiohttp's 400 stands (an accepted difference).
HANDLER_LIMITS = {
    "max_line_size": 2 * MAX_REQUEST_LINE,
    "max_field_size": 2 * MAX_HEADER_BYTES,
    "max_headers": 2 * MAX_HEADER_COUNT,
}


def make_app(root: str | os.PathLike[str] | None = None) -> web.Application:
    """The application: one route for every path, serving files of `root`.

    Also the app factory for gunicorn; without an argument the root comes from $ROSETTA_ROOT,
    else the bundled site.
    """
    return app_for(StaticSite(document_root(root), watcher_for=watcher_for))


def app_for(site: StaticSite) -> web.Application:
    app = web.Application(handler_args=HANDLER_LIMITS)
    app[SITE_KEY] = site
    # Any path, newlines (%0A) included: every target reaches StaticSite.
    app.router.add_route("*", r"/{path:[\s\S]*}", static_file)
    return app


async def static_file(request: web.Request) -> web.StreamResponse:
    site = request.app[SITE_KEY]
    headers = request.raw_headers
    refused = head_refusal(len(request.raw_path), len(headers), fields_size(headers))
    if refused is not None:
        return _plan_response(site.plan(refused))
    if request.method not in ALLOWED_METHODS:
        return _plan_response(site.plan(method_not_allowed(request.method, keep_alive=True)))
    version = request.version
    event = Request(
        request.method,
        request.raw_path.encode("utf-8", "surrogateescape"),
        f"{version.major}.{version.minor}",
        tuple((name.lower(), value) for name, value in headers),
        keep_alive=True,
    )
    request[EVENT_KEY] = event
    chosen = site.choose(event)
    if isinstance(chosen, ResponsePlan):
        return _plan_response(chosen)
    fields = {"Content-Type": chosen.media_type.decode("ascii")}
    if chosen.encoding is not None:
        fields |= {"Content-Encoding": chosen.encoding, "Vary": "Accept-Encoding"}
    return _ChosenFile(chosen.path, headers=fields)


class _ChosenFile(web.FileResponse):
    """`web.FileResponse` for exactly the file StaticSite chose: it is shown the request
    without Accept-Encoding, so it never swaps in a sibling of its own choosing."""

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        headers = CIMultiDict(request.headers)
        headers.popall("Accept-Encoding", None)
        return await super().prepare(request.clone(headers=headers))

    async def _sendfile(
        self, request: web.BaseRequest, fobj: IO[Any], offset: int, count: int
    ) -> AbstractStreamWriter:
        # aiohttp sends what a file still holds and goes on with the connection: a file that
        # shrank while being sent would leave the next answer read as the rest of this body.
        # Both of its ways of sending leave the file's position after what went out; short of
        # the promised length, the connection closes after these bytes instead.
        writer = await super()._sendfile(request, fobj, offset, count)
        if fobj.tell() != offset + count:
            self.force_close()
        return writer


def _plan_response(plan: ResponsePlan) -> web.Response:
    """A planned answer (an error page, all in memory) as aiohttp's response: the same status,
    header pairs and page as every other model's; aiohttp writes Date, Server and the framing."""
    response = web.Response(
        status=plan.status,
        body=plan.body,  # type: ignore[arg-type]  # always bytes: error pages are never files
        headers=[(name.decode("latin-1"), value.decode("latin-1")) for name, value in plan.headers],
    )
    if not plan.keep_alive:
        response.force_close()
    return response


class SiteAccessLogger(AbstractAccessLogger):
    """aiohttp's access-log hook writing our lines to the site's access log: the same line
    every other model writes for the same request and answer. Requests aiohttp's parser
    refused never reached StaticSite: their request line is logged as `-`."""

    site_log: AccessLog | None = None

    @property
    def enabled(self) -> bool:
        return self.site_log is not None

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        site_log = self.site_log
        if site_log is None:
            return
        event = request.get(EVENT_KEY)
        sent = 0 if request.method == "HEAD" else (response.content_length or 0)
        peer = (request.remote or "-",)
        line = log_line(site_log.log_format, peer, event, response.status, sent, _now())
        site_log.write(line)


def access_log_arguments(site: StaticSite) -> dict[str, object]:
    """`web.AppRunner`'s access-log arguments: our lines for a logging site, else none."""
    from rosetta.access_log import LoggingSite

    if not isinstance(site, LoggingSite):
        return {"access_log": None}
    logger = type("SiteLogger", (SiteAccessLogger,), {"site_log": site.access_log})
    return {"access_log_class": logger, "access_log": logging.getLogger("rosetta.access")}
