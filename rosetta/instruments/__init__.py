"""The echo benchmarks' instruments: a C reference echo server and a C closed-loop load generator.

Both ship as C source with the package (`echo_ref.c`, `echo_load.c`) and are built with the
system C compiler (`$CC`, else `cc`, else `gcc`) the first time they are needed, into
`$XDG_CACHE_HOME/rosetta` (`~/.cache/rosetta` by default). A binary's name carries a hash of its
source and compiler flags, so a changed source is rebuilt and never confused with an old build.

Why C: the reference must be the fastest echo the machine can do (one epoll loop, nothing else),
so an echo target reads as a fraction of what is possible; the load generator must cost less
than any server it measures, so it is never the bottleneck.

    reference = instruments.start_reference()          # a launch.Server, on a free port
    figure = instruments.echo_load(reference.address, connections=50, size=1024, seconds=4)
    reference.stop()
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import statistics
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from rosetta import launch

SOURCES = {"echo_ref": "echo_ref.c", "echo_load": "echo_load.c"}
CFLAGS = ("-O2", "-Wall")
LOAD_LINE = re.compile(r"^(?P<rps>\d+) reqs/s (?P<mibps>[\d.]+) MiB/s errors=(?P<errors>\d+)$")


class InstrumentError(RuntimeError):
    """An instrument cannot be built or did not run as it should; the message is one line."""


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """`$XDG_CACHE_HOME/rosetta`, or `~/.cache/rosetta` when it is not set."""
    env = os.environ if env is None else env
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "rosetta"


def find_compiler(env: Mapping[str, str] | None = None) -> list[str]:
    """The C compiler's argv: `$CC` if set, else `cc` or `gcc` on PATH."""
    env = os.environ if env is None else env
    path = env.get("PATH", os.defpath)
    if env.get("CC"):
        argv = shlex.split(env["CC"])
        if shutil.which(argv[0], path=path):
            return argv
        raise InstrumentError(f"$CC is {env['CC']!r}, which is not an executable")
    for name in ("cc", "gcc"):
        found = shutil.which(name, path=path)
        if found:
            return [found]
    raise InstrumentError(
        "no C compiler to build the benchmark instruments: install gcc and libc6-dev "
        "(apt-get install gcc libc6-dev) or set $CC"
    )


def build(name: str, *, cache: Path | None = None, source: Path | None = None) -> Path:
    """The path of instrument `name`'s binary, compiled first if this source was never built.

    `source` replaces the bundled C file (tests use it); the binary lands in `cache`
    (default `cache_dir()`)."""
    if source is None:
        text = (resources.files(__name__) / SOURCES[name]).read_bytes()
    else:
        text = source.read_bytes()
    digest = hashlib.sha256(text + b"\0" + " ".join(CFLAGS).encode()).hexdigest()[:16]
    folder = cache or cache_dir()
    binary = folder / f"{name}-{digest}"
    if os.access(binary, os.X_OK):
        return binary
    compiler = find_compiler()
    folder.mkdir(parents=True, exist_ok=True)
    # Written under a name of its own, then renamed: two builds at once never see half a file.
    source_copy = folder / f".{name}-{digest}.{os.getpid()}.c"
    partial = folder / f".{name}-{digest}.{os.getpid()}.tmp"
    source_copy.write_bytes(text)
    try:
        done = subprocess.run(
            [*compiler, *CFLAGS, "-o", str(partial), str(source_copy)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            first = next((line for line in done.stderr.splitlines() if "error" in line), "")
            raise InstrumentError(
                f"{compiler[0]} could not build {name} (exit {done.returncode}): "
                f"{first or done.stderr.strip()[:200]}"
            )
        os.replace(partial, binary)
    finally:
        source_copy.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)
    return binary


def start_reference(
    host: str = "127.0.0.1", port: int = 0, *, cache: Path | None = None
) -> launch.Server:
    """The C reference echo server, listening (stop it with `.stop()`: exit status 0)."""
    argv = [str(build("echo_ref", cache=cache)), str(port), host]
    try:
        return launch.start_command(argv, "echo_ref")
    except launch.LaunchError as error:
        raise InstrumentError(str(error)) from None


@dataclass(frozen=True)
class EchoLoad:
    """What one run of the load generator measured."""

    requests_per_second: int
    mib_per_second: float
    errors: int


def echo_load(
    address: tuple[str, int],
    *,
    connections: int = 50,
    size: int = 1024,
    seconds: float = 4.0,
    cache: Path | None = None,
) -> EchoLoad:
    """`connections` clients each sending `size`-byte messages in a closed loop for `seconds`."""
    argv = [
        str(build("echo_load", cache=cache)),
        address[0],
        str(address[1]),
        str(connections),
        str(size),
        f"{seconds:g}",
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30)
    match = LOAD_LINE.match(done.stdout.strip())
    if done.returncode != 0 or match is None:
        said = (done.stderr or done.stdout).strip().splitlines()
        raise InstrumentError(f"echo_load: {said[0] if said else f'exit {done.returncode}'}")
    return EchoLoad(int(match["rps"]), float(match["mibps"]), int(match["errors"]))


# Shaped like the download benchmark's Workload (two fields, one derived value), nothing shared.
@dataclass(frozen=True)
class EchoRound:
    """One round: the server under test and the reference, measured one after the other."""

    server: EchoLoad
    reference: EchoLoad

    @property
    def ratio(self) -> float:
        return self.server.requests_per_second / self.reference.requests_per_second


def echo_vs_reference(
    start_server: Callable[[], launch.Server],
    *,
    rounds: int = 5,
    connections: int = 50,
    size: int = 1024,
    seconds: float = 4.0,
    cache: Path | None = None,
    on_round: Callable[[int, EchoRound], None] | None = None,
) -> list[EchoRound]:
    """The server (started fresh each round by `start_server`) and the reference take turns,
    who goes first alternating, so a change in the machine's load touches both alike."""
    done: list[EchoRound] = []
    for number in range(rounds):
        measured: dict[str, EchoLoad] = {}
        order = ("reference", "server") if number % 2 == 0 else ("server", "reference")
        for who in order:
            server = start_reference(cache=cache) if who == "reference" else start_server()
            try:
                measured[who] = echo_load(
                    server.address,
                    connections=connections,
                    size=size,
                    seconds=seconds,
                    cache=cache,
                )
            finally:
                server.stop()
        result = EchoRound(measured["server"], measured["reference"])
        done.append(result)
        if on_round is not None:
            on_round(number + 1, result)
    return done


def median_ratio(rounds: list[EchoRound]) -> float:
    return statistics.median(result.ratio for result in rounds)
