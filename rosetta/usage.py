"""The one way every sub-command reports a user's mistake: one line on stderr, exit code 2.

`OneLineParser` keeps argparse's `--help` but makes its errors one line; `fail` is for mistakes
found after parsing; `load_model` is the look-up every sub-command does (the name is known, the
model serves the job, what it needs is installed, its module imports) and raises `UsageError`
with the line to print.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from types import ModuleType
from typing import Any, NoReturn

from rosetta import registry

EXIT_USAGE = 2


class UsageError(Exception):
    """A mistake of the user's: reported in one line, exit code 2."""


def fail(message: str) -> int:
    print(f"rosetta: error: {message}", file=sys.stderr, flush=True)
    return EXIT_USAGE


def exit_with(message: str) -> NoReturn:
    """`fail` from inside argparse type functions and other places that cannot return."""
    raise SystemExit(fail(message))


@functools.cache
def help_width() -> int:
    """The width argparse lays help out in: `COLUMNS`, else the terminal's, else 80, less a
    margin of 2, as `shutil.get_terminal_size()` gives it to argparse."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return (columns or 80) - 2


class OneLineParser(argparse.ArgumentParser):
    """Usage mistakes in one line on stderr, exit code 2; `--help` still shows everything."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # argparse makes a formatter for every option it adds, and without a width each one
        # finds it through `shutil`, which loads the archive modules (zlib, bz2, lzma).
        kwargs.setdefault(
            "formatter_class", functools.partial(argparse.HelpFormatter, width=help_width())
        )
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def find_model(name: str, job: str) -> registry.Model:
    """The registered model `name`, checked to serve `job`; UsageError otherwise."""
    try:
        model = registry.get(name)
    except registry.UnknownModel as error:
        raise UsageError(str(error)) from None
    if job not in model.jobs:
        served = ", ".join(sorted(model.jobs))
        raise UsageError(f"model {model.name} does not serve {job} (it serves: {served})")
    return model


def check_option(model: registry.Model, key: str, value: object, *, flag: str, sep: str) -> None:
    """UsageError unless `model` has the option `key` and takes `value` for it; `flag` and `sep`
    say it as the user wrote it (`--loop` and " " on `rosetta serve`, `loop` and "=" in a
    bench's `MODEL:loop=asyncio`)."""
    if key not in model.options:
        raise UsageError(f"model {model.name} has no {flag} option")
    allowed = model.options[key]
    if allowed and value not in allowed:
        raise UsageError(f"model {model.name} takes {flag}{sep}{'|'.join(allowed)}")


def load_model(name: str, job: str) -> tuple[registry.Model, ModuleType]:
    """`find_model`, then its module imported; a missing dependency is a UsageError too."""
    model = find_model(name, job)
    try:
        return model, model.load()
    except (registry.ModelUnavailable, ImportError) as error:
        raise UsageError(str(error)) from None
