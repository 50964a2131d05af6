"""`rosetta serve`: run a server model, echo or static HTTP, until SIGINT or SIGTERM.

A sub-command of `rosetta.cli` like the others, imported only when it is on the command line
(or none is), so that `rosetta download` and the rest do not pay for its options and imports.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from rosetta import registry
from rosetta.cli import port_number, positive_int
from rosetta.console import NORMAL, QUIET, VERBOSE, Console
from rosetta.net import listening_line
from rosetta.protocol.deadlines import DEFAULT_LIMITS, Limits
from rosetta.serve_options import (
    DEADLINE_OPTIONS,
    STDOUT,
    add_http_site_options,
    echo_refusing_http_options,
    http_site,
    seconds,
    tls_options,
)
from rosetta.site import BUNDLED_SITE
from rosetta.usage import check_option, fail, find_model, load_model

if TYPE_CHECKING:
    from rosetta.protocol.static import StaticSite

DEFAULT_PORTS = {"echo": 7788, "http": 7890}
SCHEMES = {"echo": "tcp", "http": "http"}


def _model_option_choices() -> dict[str, list[str]]:
    """Every model option in the registry, with the union of the values models accept."""
    choices: dict[str, list[str]] = {}
    for model in registry.MODELS:
        for name, values in model.options.items():
            known = choices.setdefault(name, [])
            known.extend(value for value in values if value not in known)
    return choices


def register(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser(
        "serve",
        help="run a server model",
        description="Run an echo or static HTTP server with the chosen model.",
    )
    serve.add_argument("job", choices=("echo", "http"), help="what to serve")
    serve.add_argument(
        "--model",
        help="model name (see `rosetta models`); default: "
        + ", ".join(f"{job}: {name}" for job, name in registry.DEFAULT_MODEL.items()),
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="IPv4 or IPv6 address (default 127.0.0.1)"
    )
    serve.add_argument(
        "--port",
        type=port_number,
        help="TCP port, 0 for any free one (default 7788 for echo, 7890 for http)",
    )
    serve.add_argument(
        "--root", type=Path, help="document root for http (default: the bundled site)"
    )
    for name, values in sorted(_model_option_choices().items()):
        if values:
            serve.add_argument(f"--{name}", choices=values, help="model option")
        else:
            serve.add_argument(f"--{name}", type=positive_int, help="model option")
    deadlines = serve.add_argument_group(
        "deadlines", "in seconds (fractions allowed); 0 turns one off (see docs/reliability.md)"
    )
    for option, field, text in DEADLINE_OPTIONS:
        default = getattr(DEFAULT_LIMITS, field)
        deadlines.add_argument(
            option,
            dest=field,
            type=seconds,
            default=default,
            metavar="S",
            help=f"{text} (default {default:g})",
        )
    volume = serve.add_mutually_exclusive_group()
    volume.add_argument(
        "-v",
        "--verbose",
        dest="volume",
        action="store_const",
        const=VERBOSE,
        help="print the course's per-message lines too",
    )
    volume.add_argument(
        "-q",
        "--quiet",
        dest="volume",
        action="store_const",
        const=QUIET,
        help="print nothing but the ready line",
    )
    serve.set_defaults(handler=cmd_serve, volume=NORMAL)
    add_http_site_options(serve)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def cmd_serve(args: argparse.Namespace) -> int:
    job: str = args.job
    model = find_model(args.model or registry.DEFAULT_MODEL[job], job)

    options: dict[str, object] = {}
    for name in _model_option_choices():
        value = getattr(args, name, None)
        if value is None:
            continue
        check_option(model, name, value, flag=f"--{name}", sep=" ")
        options[name] = value

    root: Path | None = None
    site: StaticSite | None = None
    if job == "http":
        root = (args.root or BUNDLED_SITE).expanduser()
        if not root.is_dir():
            return fail(f"document root {str(root)!r} is not a directory")
        root = root.resolve()
        site = http_site(args, root)
    elif (refused := echo_refusing_http_options(args)) is not None:
        return fail(f"{refused} is an option of `serve http`, not of echo")

    _, module = load_model(model.name, job)
    if job == "http":
        options.update(tls_options(args, model))
    scheme = "https" if "tls" in options else SCHEMES[job]

    port = DEFAULT_PORTS[job] if args.port is None else args.port
    # With the access log on standard output, the console's messages go to standard error.
    console = Console(args.volume, sys.stderr if args.access_log == STDOUT else None)
    listening = False

    def ready(sockname: tuple) -> None:
        nonlocal listening
        listening = True
        print(listening_line(scheme, sockname, model.name, os.getpid()), flush=True)

    limits = Limits(**{field: getattr(args, field) for _, field, _ in DEADLINE_OPTIONS})
    signal.signal(signal.SIGTERM, _raise_interrupt)
    # A shell starts background jobs with SIGINT ignored; a server must still stop on it.
    signal.signal(signal.SIGINT, _raise_interrupt)
    try:
        if job == "echo":
            module.serve_echo(
                args.host, port, ready=ready, console=console, limits=limits, **options
            )
        else:
            module.serve_http(
                args.host, port, site, ready=ready, console=console, limits=limits, **options
            )
    except KeyboardInterrupt:
        pass
    except OSError as error:
        if listening:
            raise
        return fail(f"cannot listen on {args.host}:{port}: {error.strerror or error}")
    return 0
