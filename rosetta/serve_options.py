"""The options of `rosetta serve` beyond the model's: the deadlines every server keeps, and
the static site's features (listings, the access log, HTTPS) that only `serve http` takes.

`rosetta.cli` builds the parser and runs the server; this module says what each option means
and turns the parsed options into what a model is given (a `Limits`, a `StaticSite`, a TLS
context for the models that serve TLS).
"""

from __future__ import annotations

import argparse
import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING

from rosetta.usage import UsageError

if TYPE_CHECKING:
    from rosetta.protocol.static import StaticSite
    from rosetta.registry import Model


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be 0 (off) or more seconds: {text}")
    return value


# Each deadline: its option, the Limits field, and what --help says of it.
DEADLINE_OPTIONS = (
    ("--header-timeout", "header", "a request head must be complete within this (408, close)"),
    ("--keepalive-timeout", "keepalive", "an idle kept-alive connection is closed after this"),
    ("--send-timeout", "send", "a client that reads nothing of an answer for this is cut"),
    ("--idle-timeout", "idle", "echo: a connection silent both ways for this is closed"),
    ("--grace", "grace", "at stop, answers under way may go on for this"),
)


# -- the static site's features: options of `serve http` ----------------------------------

HTTP_SITE_OPTIONS = ("listing", "listing_hidden", "access_log", "log_format", "certfile", "keyfile")
LOG_FORMATS = ("common", "combined")  # rosetta.protocol.access_log.FORMATS
STDOUT = "-"


def add_http_site_options(serve: argparse.ArgumentParser) -> None:
    site = serve.add_argument_group("static site (http only)")
    site.add_argument(
        "--listing",
        action="store_true",
        help="list a directory without index.html (HTML, or JSON for Accept: application/json)",
    )
    site.add_argument(
        "--listing-hidden", action="store_true", help="show dot files in listings too"
    )
    site.add_argument(
        "--access-log",
        metavar="PATH|-",
        help="append a line per response to PATH (- for standard output, after the ready line;"
        " the console's messages then go to standard error); SIGHUP reopens it",
    )
    site.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        help="access-log line format (default combined)",
    )
    site.add_argument(
        "--certfile",
        metavar="PEM",
        help="serve HTTPS with this certificate chain (TLS 1.2 or later, ALPN http/1.1), with"
        f" the models {tls_models()}",
    )
    site.add_argument(
        "--keyfile", metavar="PEM", help="the certificate's private key (default: in --certfile)"
    )


def http_site(args: argparse.Namespace, root: Path) -> StaticSite:
    """The site `serve http` serves, with the features the command line turned on."""
    from rosetta.access_log import AccessLog, LoggingSite, pass_signal_to_children
    from rosetta.file_changes import watcher_for
    from rosetta.protocol.static import StaticSite

    features = {
        "listing": args.listing,
        "listing_hidden": args.listing_hidden,
        "watcher_for": watcher_for,
    }
    if args.access_log is None:
        if args.log_format is not None:
            raise UsageError("--log-format needs --access-log")
        return StaticSite(root, **features)
    log = AccessLog(args.access_log, args.log_format or "combined")
    # Until the serving process opens the log itself: a path that cannot be written fails now.
    if args.access_log != STDOUT:
        try:
            os.close(os.open(args.access_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644))
        except OSError as error:
            message = f"cannot write the access log {args.access_log!r}: {error.strerror}"
            raise UsageError(message) from None
    # A process that serves replaces this with its own handler, which reopens the log; the
    # supervisor of --workers keeps it, and passes the signal on to every worker.
    signal.signal(signal.SIGHUP, lambda signum, frame: pass_signal_to_children(signum))
    return LoggingSite(root, access_log=log, **features)


def tls_models() -> str:
    from rosetta import registry

    return ", ".join(model.name for model in registry.serving("http") if model.tls)


def tls_options(args: argparse.Namespace, model: Model) -> dict[str, object]:
    """`{"tls": context}` for `serve_http` when HTTPS was asked for, else nothing. Called in
    the process that serves, once the model's module is imported (see `rosetta.tls`)."""
    if args.certfile is None:
        if args.keyfile is not None:
            raise UsageError("--keyfile needs --certfile")
        return {}
    if not model.tls:
        raise UsageError(
            f"model {model.name} does not serve TLS (--certfile); these do: {tls_models()}"
        )
    from rosetta.tls import describe, server_context

    try:
        return {"tls": server_context(args.certfile, args.keyfile)}
    except OSError as error:
        files = repr(args.certfile) + (f" and {args.keyfile!r}" if args.keyfile else "")
        raise UsageError(f"cannot load the TLS certificate {files}: {describe(error)}") from None


def echo_refusing_http_options(args: argparse.Namespace) -> str | None:
    """The first static-site option given to `serve echo`, as spelled on the command line."""
    for name in HTTP_SITE_OPTIONS:
        if getattr(args, name):
            return "--" + name.replace("_", "-")
    return None
