"""`rosetta download URL... [-i FILE] [-o DIR] [-j 16] [--model M] [--json] [--verbose]`.

Every URL is checked before anything is fetched; a mistake in the arguments (a bad URL
scheme, a missing input file, `-j 0`) ends with one line on stderr and exit code 2. Then the
chosen model downloads, a progress bar shows on a terminal (plain lines otherwise), and a
summary closes the run. Exit codes: 0 every URL saved, 1 some failed, 2 bad arguments,
130 interrupted by Ctrl-C (only complete files are left).

Importing this module costs argparse and the registry: the model's stack (aiohttp, gevent)
and rich are imported only by the run that needs them.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from types import ModuleType

from rosetta import registry
from rosetta.download.settings import Settings, gather_urls
from rosetta.usage import UsageError, exit_with, fail, find_model, load_model

JOB = "download"
DEFAULT_MODEL = "modern.protocol_download"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The URLs, `--input-file` and every setting; argparse's own errors in one line."""
    parser.error = exit_with  # type: ignore[method-assign]
    parser.add_argument("urls", nargs="*", metavar="URL", help="http:// or https:// URLs")
    parser.add_argument(
        "-i",
        "--input-file",
        type=Path,
        metavar="FILE",
        help="read URLs from FILE, one a line (# comments, blank lines skipped; - for stdin)",
    )
    Settings.add_arguments(parser)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        JOB,
        help="download URLs concurrently with a classic or modern model",
        description="Download URLs concurrently into a directory; files appear only when "
        "complete. Exit codes: 0 all saved, 1 some failed, 2 bad arguments, 130 Ctrl-C.",
    )
    add_arguments(parser)
    models = [model.name for model in registry.serving(JOB)]
    parser.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help=f"{' | '.join(models) or 'a model serving download'} (default {DEFAULT_MODEL})",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """The `download` command in the CLI's process."""
    try:
        model = find_model(args.model, JOB)
        if model.missing:
            missing = ", ".join(model.missing)
            raise UsageError(f"model {model.name} needs {missing}, which is not installed")
        urls, settings = _checked(args)
        # gevent patches the whole process it runs in: never this one.
        if "gevent" in model.needs:
            from rosetta.download.run import run_apart

            return run_apart(model.name, urls, settings)
        _, module = load_model(model.name, JOB)
    except UsageError as error:
        return fail(str(error))
    from rosetta.download.run import download

    return download(model.name, module, urls, settings)


def module_main(model_name: str, module: ModuleType, argv: list[str]) -> int:
    """`python -m classic.gevent_download [download options]`: the command, in the model's own
    (monkey-patched) process, with the same options and output as `rosetta download`."""
    parser = argparse.ArgumentParser(
        prog=f"python -m {model_name}", description=f"rosetta download with {model_name}"
    )
    add_arguments(parser)
    try:
        urls, settings = _checked(parser.parse_args(argv))
    except UsageError as error:
        return fail(str(error))
    from rosetta.download.report import EXIT_INTERRUPTED
    from rosetta.download.run import download

    try:
        return download(model_name, module, urls, settings)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def _checked(args: argparse.Namespace) -> tuple[list[str], Settings]:
    """The URLs, checked, and the settings, with the output directory made; UsageError."""
    from rosetta.download.files import LocalError, prepare_directory, read_checksums

    urls = gather_urls(args.urls, args.input_file)
    settings = Settings.from_args(args)
    try:
        prepare_directory(settings.output)
        if settings.checksums is not None:
            read_checksums(settings.checksums)
    except LocalError as error:
        raise UsageError(str(error)) from None
    return urls, settings
