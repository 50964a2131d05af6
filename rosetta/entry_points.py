"""The two functions every server model exposes, and how they are called:

    serve_echo(host, port, *, ready, console, limits=DEFAULT_LIMITS, **options)
    serve_http(host, port, root, *, ready, console, limits=DEFAULT_LIMITS, **options)

`limits` are the deadlines (`rosetta.protocol.deadlines.Limits`: header, keep-alive, send,
idle, grace), the same for every model; `ready(sockname)` is called once the model listens
(the CLI prints the ready line then); `console` is where the course's messages go; `options`
are the model's own, as the registry lists them (`loop="asyncio"`, `workers=4`,
`trigger="level"`). Both run until SIGINT or SIGTERM (KeyboardInterrupt for the classic
models), and raise OSError if they cannot listen.

`entry_points(run_echo, run_http)` writes the pair once for every model family (or one of
them: `echo_entry_point`, `http_entry_point`). A family says only how it runs a job:
`run_echo(host, port, ready, console, limits, **options)` and
`run_http(host, port, site, ready, console, limits, **options)`, given the document root's
`StaticSite` already made.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from rosetta.access_log import serving
from rosetta.console import Console
from rosetta.protocol.deadlines import DEFAULT_LIMITS, Limits

Ready = Callable[[tuple], None]
ServeEcho = Callable[..., None]
ServeHttp = Callable[..., None]


def entry_points(
    run_echo: Callable[..., None], run_http: Callable[..., None]
) -> tuple[ServeEcho, ServeHttp]:
    return echo_entry_point(run_echo), http_entry_point(run_http)


def echo_entry_point(run_echo: Callable[..., None]) -> ServeEcho:
    def serve_echo(
        host: str,
        port: int,
        *,
        ready: Ready,
        console: Console,
        limits: Limits = DEFAULT_LIMITS,
        **options: Any,
    ) -> None:
        run_echo(host, port, ready, console, limits, **options)

    return serve_echo


def http_entry_point(run_http: Callable[..., None]) -> ServeHttp:
    def serve_http(
        host: str,
        port: int,
        root: str | os.PathLike[str],
        *,
        ready: Ready,
        console: Console,
        limits: Limits = DEFAULT_LIMITS,
        **options: Any,
    ) -> None:
        with serving(root) as site:
            run_http(host, port, site, ready, console, limits, **options)

    return serve_http
