"""`rosetta`: run any model, list them, download, demo and migrate.

Errors a user can make (an unknown model, a port in use, a missing root, a missing dependency)
end with one line on stderr and exit code 2, never a traceback (`rosetta.usage`). SIGINT and
SIGTERM stop a server cleanly with exit code 0.

One rule for signals, in every sub-command: SIGINT always interrupts (Ctrl-C), even when the
program inherited it ignored, as a shell does for a background job (`main` restores Python's
handler before anything runs); a sub-command that has work to end cleanly handles SIGTERM as
the same stop. A reader of standard output that goes away (`| head`) ends the command quietly
with exit code 0 (`reader_gone`).

Start-up pays only for what runs: `serve` and `models` are defined here and import a model only
once it is chosen; every other sub-command lives beside its feature and its module is imported
only when that sub-command is on the command line.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rosetta import registry
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
from rosetta.usage import OneLineParser, UsageError, check_option, fail, find_model, load_model

if TYPE_CHECKING:
    from rosetta.protocol.static import StaticSite

__all__ = ["BUNDLED_SITE", "build_parser", "main", "markdown_model_table", "module_main"]

DEFAULT_PORTS = {"echo": 7788, "http": 7890}
SCHEMES = {"echo": "tcp", "http": "http"}


@dataclass(frozen=True)
class FeatureCommand:
    """A sub-command that lives beside its feature, in `module`; `help` is its line in
    `rosetta --help`. The module exposes `register(subparsers)`, which adds the parser with
    `set_defaults(handler=...)`; the handler takes the parsed arguments, returns the exit code."""

    module: str
    help: str


FEATURE_COMMANDS: dict[str, FeatureCommand] = {
    "download": FeatureCommand(
        "rosetta.download.cli", "download URLs concurrently with a classic or modern model"
    ),
    "demo": FeatureCommand(
        "rosetta.demos.cli", "run one of the course's coroutine demos (§7-§9b), classic or modern"
    ),
    "bench": FeatureCommand("rosetta.bench.cli", "measure the models side by side, live"),
    "migrate": FeatureCommand(
        "rosetta.migrate.cli", "find gevent/greenlet idioms and say what replaces them in asyncio"
    ),
}


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range 0-65535: {port}")
    return port


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more: {value}")
    return value


def _model_option_choices() -> dict[str, list[str]]:
    """Every model option in the registry, with the union of the values models accept."""
    choices: dict[str, list[str]] = {}
    for model in registry.MODELS:
        for name, values in model.options.items():
            known = choices.setdefault(name, [])
            known.extend(value for value in values if value not in known)
    return choices


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The whole command line; of the feature sub-commands only the one named in `argv` is
    imported and registered in full, the others are listed by name and help line."""
    parser = OneLineParser(
        prog="rosetta",
        description="Concurrent servers of the classic course, classic and modern, side by side.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    models = commands.add_parser("models", help="list the models, their jobs and counterparts")
    output = models.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="machine-readable output")
    output.add_argument(
        "--markdown", action="store_true", help="a Markdown table (the README's model table)"
    )
    models.set_defaults(handler=cmd_models)

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

    chosen = next((word for word in argv if not word.startswith("-")), None)
    for name, feature in FEATURE_COMMANDS.items():
        if name == chosen:
            # A listed module that cannot be imported is a broken installation: say so loudly.
            importlib.import_module(feature.module).register(commands)
        else:
            commands.add_parser(name, help=feature.help, add_help=False)
    return parser


def cmd_models(args: argparse.Namespace) -> int:
    if args.json:
        rows = [
            {
                "name": model.name,
                "side": model.side,
                "section": model.section,
                "jobs": sorted(model.jobs),
                "counterpart": list(model.counterparts),
                "available": model.available,
                "needs": list(model.needs),
                "options": {name: list(values) for name, values in model.options.items()},
                "tls": model.tls,
                "summary": model.summary,
            }
            for model in registry.MODELS
        ]
        print(json.dumps(rows, indent=2))
        return 0

    if args.markdown:
        print(markdown_model_table())
        return 0

    from rich.console import Console as RichConsole
    from rich.table import Table

    table = Table(title="concurrency-rosetta models")
    for column in ("model", "course", "jobs", "counterpart", "available"):
        table.add_column(column, no_wrap=True)
    table.add_column("how", ratio=1)
    for model in registry.MODELS:
        table.add_row(
            model.name,
            model.section,
            ", ".join(sorted(model.jobs)),
            ", ".join(model.counterparts) or "-",
            "yes" if model.available else "no: needs " + ", ".join(model.missing),
            model.summary,
        )
    # Piped into grep or a file, keep every name whole rather than fit 80 columns.
    RichConsole(width=None if sys.stdout.isatty() else 200).print(table)
    return 0


def markdown_model_table() -> str:
    lines = [
        "| model | course | jobs | counterpart | how |",
        "|---|---|---|---|---|",
    ]
    for model in registry.MODELS:
        counterparts = ", ".join(f"`{name}`" for name in model.counterparts) or "-"
        lines.append(
            f"| `{model.name}` | {model.section} | {', '.join(sorted(model.jobs))} "
            f"| {counterparts} | {model.summary} |"
        )
    return "\n".join(lines)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


# -- serve ---------------------------------------------------------------------------------


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


def reader_gone() -> None:
    """Standard output's reader left: point stdout at /dev/null, so that nothing more (not
    even the flush at exit) fails or prints a traceback."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    words = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(words).parse_args(words)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except UsageError as error:
        return fail(str(error))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # Output piped into a reader that left (`rosetta models | head`): not an error of ours.
        reader_gone()
        return 0


def module_main(model_name: str, argv: Sequence[str] | None = None) -> int:
    """`python -m classic.blocking [echo|http] [options]`: the course's defaults, via the CLI."""
    rest = list(sys.argv[1:] if argv is None else argv)
    job = "echo"
    if rest and rest[0] in ("echo", "http"):
        job = rest.pop(0)
    return main(["serve", job, "--model", model_name, *rest])
