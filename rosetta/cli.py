"""`rosetta`: run any model, list them, download, demo and migrate.

Errors a user can make (an unknown model, a port in use, a missing root, a missing dependency)
end with one line on stderr and exit code 2, never a traceback (`rosetta.usage`). SIGINT and
SIGTERM stop a server cleanly with exit code 0.

One rule for signals, in every sub-command: SIGINT always interrupts (Ctrl-C), even when the
program inherited it ignored, as a shell does for a background job (`main` restores Python's
handler before anything runs); a sub-command that has work to end cleanly handles SIGTERM as
the same stop. A reader of standard output that goes away (`| head`) ends the command quietly
with exit code 0 (`reader_gone`).

Start-up pays only for what runs: `models` is defined here; every other sub-command (`serve`
in `rosetta.serve_cli`, the rest beside their features) is imported only when it is on the
command line, and a model only once it is chosen.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import NamedTuple

from rosetta import registry
from rosetta.usage import OneLineParser, UsageError, fail

__all__ = ["build_parser", "main", "markdown_model_table", "module_main"]


class FeatureCommand(NamedTuple):
    """A sub-command that lives beside its feature, in `module`; `help` is its line in
    `rosetta --help`. The module exposes `register(subparsers)`, which adds the parser with
    `set_defaults(handler=...)`; the handler takes the parsed arguments, returns the exit code."""

    module: str
    help: str


FEATURE_COMMANDS: dict[str, FeatureCommand] = {
    "serve": FeatureCommand("rosetta.serve_cli", "run a server model"),
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
        import json

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
