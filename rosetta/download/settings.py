"""What a download run is asked to do: its URLs, and its `Settings`.

Each setting is declared once, as a field with its command-line flag, parser and help, so the
command line, the model (which reads `limit`, `timeout`, `policy` and `output`) and the
re-exec of a model that runs as a program of its own (`Settings.argv`, which parses back into
equal settings) can never disagree about an option.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import Path
from typing import Any

from rosetta.protocol.download import DEFAULT_BACKOFF, DEFAULT_RETRIES, MAX_BACKOFF, RetryPolicy
from rosetta.protocol.names import BadURL, check_url
from rosetta.usage import UsageError

DEFAULT_JOBS = 16
DEFAULT_TIMEOUT = 30.0
MAX_JOBS = 1024
MAX_RETRIES = 20


def bounded(kind: type, low: float, high: float, what: str) -> Callable[[str], Any]:
    """An argparse type: `kind(text)`, refused unless low <= value <= high."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None
        if not low <= value <= high:  # NaN fails this too
            raise argparse.ArgumentTypeError(f"must be {low:g} to {high:g}: {text}")
        return value

    return parse


def parse_shard(text: str) -> str:
    """`K/N` with 1 <= K <= N, as `K/N` again."""
    number, slash, count = text.partition("/")
    if not (slash and number.strip().isdigit() and count.strip().isdigit()):
        raise argparse.ArgumentTypeError(f"not K/N: {text!r}")
    if not 1 <= int(number) <= int(count):
        raise argparse.ArgumentTypeError(f"K must be 1 to N: {text}")
    return f"{int(number)}/{int(count)}"


_RATE_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


def parse_rate(text: str) -> int:
    """`500K`, `10M`, `1G` or bytes: bytes per second, at least 1."""
    unit = text[-1:].upper() if text[-1:].isalpha() else ""
    number = text[: len(text) - len(unit)]
    try:
        rate = int(float(number) * _RATE_UNITS[unit])
    except (ValueError, KeyError):
        raise argparse.ArgumentTypeError(f"not a rate like 500K or 10M: {text!r}") from None
    if rate < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 byte a second: {text}")
    return rate


def _option(
    *flags: str,
    default: Any,
    help: str,
    parse: Callable[[str], Any] | None = None,
    metavar: str | None = None,
) -> Any:
    """A field of `Settings` and the command-line option that sets it (a bool: a switch)."""
    return field(
        default=default, metadata={"flags": flags, "parse": parse, "metavar": metavar, "help": help}
    )


@dataclass(frozen=True)
class Settings:
    """Everything a run is told besides its URLs, the same for every model."""

    # `_option` returns a `field`, and a Path is immutable: the default is safe to share.
    output: Path = _option(  # noqa: RUF009
        "-o",
        "--output",
        default=Path("."),
        parse=Path,
        metavar="DIR",
        help="save files here (created if missing; default: the current directory)",
    )
    limit: int = _option(
        "-j",
        "--jobs",
        default=DEFAULT_JOBS,
        parse=bounded(int, 1, MAX_JOBS, "a whole number"),
        metavar="N",
        help=f"downloads at once, 1 to {MAX_JOBS} (default {DEFAULT_JOBS})",
    )
    timeout: float = _option(
        "--timeout",
        default=DEFAULT_TIMEOUT,
        metavar="S",
        parse=bounded(float, 0.001, 3600, "a number of seconds"),
        help="give up on a request when the server is silent this long, connecting or "
        f"reading (default {DEFAULT_TIMEOUT:g})",
    )
    retries: int = _option(
        "--retries",
        default=DEFAULT_RETRIES,
        metavar="N",
        parse=bounded(int, 0, MAX_RETRIES, "a whole number"),
        help="more attempts after a connection error, timeout, cut body or 5xx; never "
        f"after 4xx (default {DEFAULT_RETRIES})",
    )
    backoff: float = _option(
        "--backoff",
        default=DEFAULT_BACKOFF,
        metavar="S",
        parse=bounded(float, 0, 60, "a number of seconds"),
        help=f"wait before the first retry, doubled for each next one up to "
        f"{MAX_BACKOFF:g} s (default {DEFAULT_BACKOFF:g})",
    )
    as_json: bool = _option(
        "--json",
        default=False,
        help="print one JSON document at the end (every URL's record and the summary)",
    )
    verbose: bool = _option(
        "-v",
        "--verbose",
        default=False,
        help="print the course's lines too: 'GET: url', 'N bytes received from url.'",
    )
    resume: bool = _option(
        "-c",
        "--continue",
        default=False,
        help="continue an earlier run: skip complete files, resume .part files (Range), "
        "and keep .part files if this run is stopped",
    )
    check_remote: bool = _option(
        "--check-remote",
        default=False,
        help="with -c: ask the server (If-Modified-Since) before skipping a complete file",
    )
    checksums: Path | None = _option(  # noqa: RUF009
        "--checksums",
        default=None,
        parse=Path,
        metavar="FILE",
        help="sha256sum lines ('HASH  NAME'): a file must match before it is put in place",
    )
    write_checksums: Path | None = _option(  # noqa: RUF009
        "--write-checksums",
        default=None,
        parse=Path,
        metavar="FILE",
        help="write a sha256sum line for every file saved or skipped to FILE",
    )
    shard: str | None = _option(
        "--shard",
        default=None,
        parse=parse_shard,
        metavar="K/N",
        help="take share K of N of the URL list (by a hash of each URL; names are decided "
        "from the whole list, so every shard names files the same way)",
    )
    per_host: int | None = _option(
        "--per-host",
        default=None,
        parse=bounded(int, 1, MAX_JOBS, "a whole number"),
        metavar="N",
        help="connections at most to any one host (default: -j)",
    )
    limit_rate: int | None = _option(
        "--limit-rate",
        default=None,
        parse=parse_rate,
        metavar="RATE",
        help="bytes per second at most, in all: 500K, 10M, 1G (K = 1024)",
    )

    @cached_property
    def policy(self) -> RetryPolicy:
        return RetryPolicy(retries=self.retries, backoff=self.backoff)

    @property
    def digests(self) -> bool:
        """Whether the run hashes what it saves: only when a sha256 is looked at (--json
        records it, --checksums compares it, --write-checksums lists it)."""
        return self.as_json or self.checksums is not None or self.write_checksums is not None

    @property
    def host_limit(self) -> int:
        return self.per_host or self.limit

    @property
    def shard_numbers(self) -> tuple[int, int] | None:
        if self.shard is None:
            return None
        number, _, count = self.shard.partition("/")
        return int(number), int(count)

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        for option in fields(Settings):
            flags, help_text = option.metadata["flags"], option.metadata["help"]
            if isinstance(option.default, bool):
                parser.add_argument(*flags, dest=option.name, action="store_true", help=help_text)
            else:
                parser.add_argument(
                    *flags,
                    dest=option.name,
                    type=option.metadata["parse"],
                    default=option.default,
                    metavar=option.metadata["metavar"],
                    help=help_text,
                )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Settings:
        values = {option.name: getattr(args, option.name) for option in fields(cls)}
        if values["check_remote"] and not values["resume"]:
            raise UsageError("--check-remote needs -c/--continue")
        return cls(**{**values, "output": values["output"].expanduser()})

    def argv(self) -> list[str]:
        """The options that parse back into these settings: `--output=DIR --jobs=N ...`
        (`=`: a value that starts with `-` is still a value; repr: a float comes back exact)."""
        argv: list[str] = []
        for option in fields(self):
            flag, value = option.metadata["flags"][-1], getattr(self, option.name)
            if isinstance(value, bool):
                argv += [flag] if value else []
            elif value is not None:
                argv.append(f"{flag}={repr(value) if isinstance(value, float) else value}")
        return argv


def read_url_list(text: str, source: str = "input") -> list[str]:
    """URLs from a file's text: one a line; blank lines and lines starting with # are skipped."""
    urls = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            urls.append(check_url(stripped))
        except BadURL as error:
            raise BadURL(f"{source}:{number}: {error}") from None
    return urls


def gather_urls(given: Sequence[str], input_file: Path | None) -> list[str]:
    """The URLs of the command line, then those of `--input-file` (`-` for stdin), each
    checked; UsageError, with the reason, if one is refused or there are none."""
    try:
        urls = [check_url(url) for url in given]
        if input_file is not None:
            urls += read_url_list(_read_input(input_file), str(input_file))
    except BadURL as error:
        raise UsageError(str(error)) from None
    if not urls:
        raise UsageError("no URLs given (as arguments or with --input-file)")
    return urls


def _read_input(path: Path) -> str:
    if str(path) == "-":
        return sys.stdin.read()
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise UsageError(f"input file not found: {str(path)!r}") from None
    except OSError as error:
        raise UsageError(f"cannot read input file {str(path)!r}: {error.strerror}") from None
