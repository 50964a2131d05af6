"""`rosetta`: run any model, list them, and (as their issues land) download, demo, bench, migrate.

Errors a user can make (an unknown model, a port in use, a missing root, a missing dependency)
end with one line on stderr and exit code 2, never a traceback. SIGINT and SIGTERM stop a
server cleanly with exit code 0.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from rosetta import registry
from rosetta.console import NORMAL, QUIET, VERBOSE, Console
from rosetta.net import url_host

BUNDLED_SITE = Path(__file__).resolve().parent / "site" / "html"
DEFAULT_PORTS = {"echo": 7788, "http": 7890}
SCHEMES = {"echo": "tcp", "http": "http"}

# Sub-commands that live beside their feature. Each module exposes
# `register(subparsers)`, which adds its parser with `set_defaults(handler=...)`; the handler
# takes the parsed arguments and returns the exit code. A module that is not there yet is
# simply not offered.
FEATURE_COMMANDS = (
    "rosetta.download.cli",
    "rosetta.demos.cli",
    "rosetta.bench.cli",
    "rosetta.migrate.cli",
)

EXIT_USAGE = 2


class UsageError(Exception):
    """A mistake of the user's: reported in one line, exit code 2."""


def fail(message: str) -> int:
    print(f"rosetta: error: {message}", file=sys.stderr, flush=True)
    return EXIT_USAGE


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


class OneLineParser(argparse.ArgumentParser):
    """Usage mistakes in one line on stderr, exit code 2; `--help` still shows everything."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
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

    for module_name in FEATURE_COMMANDS:
        try:
            feature = importlib.import_module(module_name)
        except ModuleNotFoundError as missing:
            if missing.name and module_name.startswith(missing.name):
                continue
            raise
        feature.register(commands)
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


def cmd_serve(args: argparse.Namespace) -> int:
    job: str = args.job
    try:
        model = registry.get(args.model or registry.DEFAULT_MODEL[job])
    except registry.UnknownModel as error:
        return fail(str(error))
    if job not in model.jobs:
        return fail(
            f"model {model.name} does not serve {job} (it serves: {', '.join(sorted(model.jobs))})"
        )

    options: dict[str, object] = {}
    for name in _model_option_choices():
        value = getattr(args, name, None)
        if value is None:
            continue
        if name not in model.options:
            return fail(f"model {model.name} has no --{name} option")
        allowed = model.options[name]
        if allowed and value not in allowed:
            return fail(f"model {model.name} takes --{name} {'|'.join(allowed)}")
        options[name] = value

    root: Path | None = None
    if job == "http":
        root = (args.root or BUNDLED_SITE).expanduser()
        if not root.is_dir():
            return fail(f"document root {str(root)!r} is not a directory")
        root = root.resolve()

    try:
        module = model.load()
    except (registry.ModelUnavailable, ImportError) as error:
        return fail(str(error))

    port = DEFAULT_PORTS[job] if args.port is None else args.port
    console = Console(args.volume)
    listening = False

    def ready(sockname: tuple) -> None:
        nonlocal listening
        listening = True
        print(
            f"rosetta: listening on {SCHEMES[job]}://{url_host(sockname)}:{sockname[1]} "
            f"(model={model.name}, pid={os.getpid()})",
            flush=True,
        )

    signal.signal(signal.SIGTERM, _raise_interrupt)
    # A shell starts background jobs with SIGINT ignored; a server must still stop on it.
    signal.signal(signal.SIGINT, _raise_interrupt)
    try:
        if job == "echo":
            module.serve_echo(args.host, port, ready=ready, console=console, **options)
        else:
            module.serve_http(args.host, port, root, ready=ready, console=console, **options)
    except KeyboardInterrupt:
        pass
    except OSError as error:
        if listening:
            raise
        return fail(f"cannot listen on {args.host}:{port}: {error.strerror or error}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except UsageError as error:
        return fail(str(error))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # Output piped into a reader that left (`rosetta models | head`): not an error of ours.
        sys.stderr.close()
        return 0


def module_main(model_name: str, argv: Sequence[str] | None = None) -> int:
    """`python -m classic.blocking [echo|http] [options]`: the course's defaults, via the CLI."""
    rest = list(sys.argv[1:] if argv is None else argv)
    job = "echo"
    if rest and rest[0] in ("echo", "http"):
        job = rest.pop(0)
    return main(["serve", job, "--model", model_name, *rest])
