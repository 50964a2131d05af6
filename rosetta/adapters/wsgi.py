"""The course's static web server as a WSGI application, for `gunicorn -k gevent`.

Course: the day's web server in its gevent version (§10 applied to HTTP), scaled out the way
gevent servers are deployed: gunicorn pre-forks worker processes, each worker monkey-patches
the standard library and serves every connection in a greenlet of its own.

    gunicorn -k gevent -w 2 -b 127.0.0.1:7890 'rosetta.adapters.wsgi:make_app("./html")'

Schedules: gevent's hub in each worker switches greenlets at every socket wait; the kernel
spreads connections between the workers accepting on gunicorn's shared listening socket.
Blocks: nothing outside the hub, as long as everything is monkey-patched (gunicorn's gevent
worker does it before loading this module). Costs: a greenlet per connection plus gunicorn's
request parsing and the WSGI environ per request.
Counterpart: `rosetta.adapters.aiohttp_web` under `aiohttp.GunicornUVLoopWebWorker`.

Only the glue is here: gunicorn parses HTTP; `rosetta.protocol` decides, as for every model,
whether the head is within limits, which file a target names and what the answer is. The WSGI
environ is turned back into the `Request` StaticSite takes (the decoded PATH_INFO re-quoted,
so StaticSite sees the same bytes a raw socket model does), and the plan's status and header
pairs go to `start_response` as they are.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from urllib.parse import quote

from rosetta.adapters import document_root
from rosetta.file_changes import watcher_for
from rosetta.protocol.files import FileSlice, iter_file_slice
from rosetta.protocol.http import (
    ALLOWED_METHODS,
    Event,
    Request,
    fields_size,
    head_refusal,
    method_not_allowed,
)
from rosetta.protocol.response import reason
from rosetta.protocol.static import StaticSite

StartResponse = Callable[[str, list[tuple[str, str]]], object]


def make_app(root: str | os.PathLike[str] | None = None) -> Callable[..., Iterable[bytes]]:
    """A WSGI application serving `root` ($ROSETTA_ROOT, else the bundled site)."""
    site = StaticSite(document_root(root), watcher_for=watcher_for)

    def static_site(environ: dict[str, object], start_response: StartResponse) -> Iterable[bytes]:
        plan = site.respond(request_from_environ(environ))
        status = f"{plan.status} {reason(plan.status).decode('ascii')}"
        start_response(
            status, [(n.decode("latin-1"), v.decode("latin-1")) for n, v in plan.headers]
        )
        if isinstance(plan.body, FileSlice):
            return _file_body(plan.body)
        return [plan.body]

    return static_site


def request_from_environ(environ: dict[str, object]) -> Event:
    """The event StaticSite answers, rebuilt from what the WSGI server parsed."""
    method = str(environ["REQUEST_METHOD"])
    version = str(environ.get("SERVER_PROTOCOL", "HTTP/1.1")).removeprefix("HTTP/")
    # PEP 3333: PATH_INFO is the percent-decoded path as latin-1 text. Quoting its bytes again
    # gives StaticSite a target that decodes to exactly those bytes.
    path = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))
    target = quote(path.encode("latin-1"), safe="/").encode("ascii") or b"/"
    query = str(environ.get("QUERY_STRING", ""))
    if query:
        target += b"?" + query.encode("latin-1")
    headers = tuple(
        (key[5:].lower().replace("_", "-").encode("latin-1"), str(value).encode("latin-1"))
        for key, value in environ.items()
        if key.startswith("HTTP_")
    )
    raw_target = str(environ.get("RAW_URI") or target.decode("ascii"))
    refused = head_refusal(len(raw_target), len(headers), fields_size(headers))
    if refused is not None:
        return refused
    # The WSGI server owns the connection; the plan's keep-alive is not used.
    if method not in ALLOWED_METHODS:
        return method_not_allowed(method, keep_alive=True)
    return Request(method, target, version, headers, keep_alive=True)


def _file_body(body: FileSlice) -> Iterator[bytes]:
    yield from iter_file_slice(body)


def __getattr__(name: str) -> object:
    # `gunicorn rosetta.adapters.wsgi:application` works too (root from $ROSETTA_ROOT), built
    # on first use so that importing the module reads no environment.
    if name == "application":
        globals()["application"] = app = make_app()
        return app
    raise AttributeError(name)
