"""`rosetta bench KIND`: the argument parser of every kind, and the dispatch to its module.

Only argparse and the option parsers are imported here: `rosetta` builds this parser on every
start, so matplotlib, rich and the kinds' modules load only when a bench runs.
"""

from __future__ import annotations

import argparse
import copy
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rosetta.bench import units
from rosetta.usage import UsageError

DESCRIPTION = """\
Measure the course's claims live, every model side by side. Each kind starts its contenders
(the registered models that serve the job, references such as a C epoll echo server and
nginx, and peers such as uvicorn or gevent when installed), measures them in interleaved
rounds (A B C, B C A, ...), and reports each figure as the median of the rounds with its min
and max, and its ratio to a baseline measured in the same run. Durations take 3, 3s or 50ms.
Python peers come with `pip install 'concurrency-rosetta[bench]'` (uvicorn, starlette,
granian, matplotlib); wrk, nginx, curl, aria2c and a C compiler (cc) from the system.
"""

KINDS: dict[str, tuple[str, str]] = {
    "switch": (
        "context switches per second: generators, greenlets, gevent, asyncio, uvloop, threads",
        "Switches per second (unit: switches/s) between two flows of control handing over to "
        "each other: generator send(), greenlet.switch(), gevent.sleep(0), asyncio.sleep(0) on "
        "the asyncio and uvloop loops, and two threads through a Condition. Each runs in its "
        "own process, so gevent's patching and uvloop's policy never leak. Checks the course's "
        "'a million switches a second'. Needs greenlet, gevent, uvloop (installed with the "
        "project).",
    ),
    "echo": (
        "echo throughput (req/s) and mean latency (ms) against connections",
        "Closed-loop echo: each connection sends --size bytes and waits for all of them back, "
        "again and again, for --duration; figures in requests per second, and the mean latency "
        "in milliseconds (connections / throughput: the generator does not time single "
        "messages), at every --conns value. Contenders: the echo models, the project's C "
        "epoll echo server (the reference and baseline) and gevent's StreamServer. The load is "
        "the project's C closed-loop generator; both C programs are built with cc on first use "
        "into $XDG_CACHE_HOME/rosetta. Needs a C compiler (cc); gevent for its peer.",
    ),
    "http": (
        "static HTTP throughput (req/s) and latency p50/p99 (ms) against connections",
        "Closed-loop HTTP/1.1 keep-alive GETs of static files of --size bytes, rotating over "
        "--files files and a few browser-like header sets, so no server wins by remembering one "
        "answer; requests per second and latency p50/p99 in milliseconds at every --conns "
        "value. Contenders: the http models, nginx with one worker (the reference and baseline, "
        "when installed), python -m http.server, gevent pywsgi, uvicorn with Starlette "
        "StaticFiles, aiohttp add_static and granian (when installed: the bench extra). Load: "
        "wrk with a Lua script; without wrk a multi-process Python client, slower, with a "
        "message saying so. Needs wrk and nginx from the system (apt install wrk nginx) for "
        "the full picture, and pip install 'concurrency-rosetta[bench]' for the peers.",
    ),
    "scale": (
        "the C10K view: throughput (req/s) of a few active clients while N idle ones are held",
        "The echo throughput in requests per second of --active clients (default 10) while N "
        "idle connections are held open, N over --idle. select's 1024-descriptor wall shows as "
        "the model's refusal (connections closed, counted); the blocking server's one client at "
        "a time shows as what it is, measured and labelled. Several loopback source addresses "
        "(127.0.0.x) are used when one runs short of ports. Needs a C compiler (the load "
        "generator) and an open-files limit above the largest N (raised to the hard limit).",
    ),
    "idle": (
        "server memory per idle connection (bytes), and CPU while idle",
        "The server's memory growth per idle connection in bytes (RSS; for the forking model "
        "the sum over its processes, PSS where the kernel gives it) at connection counts up to "
        "--max, and the CPU the server uses while they sit idle (percent of one core). Models "
        "whose cost would exhaust the machine are capped (the forking model at 1,000), and a run "
        "stops before free memory falls under --floor. Needs nothing beyond the project.",
    ),
    "download": (
        "download time (s) of many small files against per-response latency",
        "Wall time in seconds to download --files files of --size bytes from a local server that "
        "delays every response by each --latency value (0 = no delay: nginx when installed, so "
        "the downloaders are what is timed), for every download model, the sequential course "
        "version (the baseline: one URL after the other), a bare 20-line aiohttp downloader "
        "and, when installed, curl --parallel and aria2c with the same -j. Needs nothing beyond "
        "the project; curl, aria2c and nginx from the system to compare with them.",
    ),
}
DEFAULT_ROUNDS = {"idle": 1}
DEFAULT_DURATION = {"switch": 1.0}
# A download figure is the time of whole commands, not what happens within a duration.
UNTIMED = frozenset({"download"})


def register(subparsers: argparse._SubParsersAction) -> None:
    bench = subparsers.add_parser(
        "bench",
        help="measure the models side by side (switch, echo, http, scale, idle, download)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # Each kind sets its own handler; this one says the command is registered in full.
    bench.set_defaults(handler=_run)
    kinds = bench.add_subparsers(dest="kind", metavar="KIND", required=True)
    for name, (summary, description) in KINDS.items():
        parser = kinds.add_parser(name, help=summary, description=description)
        _common_options(parser, name)
        for option in KIND_OPTIONS[name]:
            option.add_to(parser)
        parser.set_defaults(handler=_run)
    render = kinds.add_parser(
        "render",
        help="rebuild the tables and plots of a docs page from recorded JSON",
        description="Rewrite the generated tables between the markers of --page (prose outside "
        "them is kept), redraw the plots into --plot, and write every model's figures into "
        "--figures (one Markdown table per model, one file per kind's plot), from JSON documents "
        "written by --out.",
    )
    render.add_argument("documents", nargs="+", type=Path, metavar="JSON")
    render.add_argument("--page", type=Path, help="the Markdown page to update")
    render.add_argument("--plot", type=Path, help="directory for the PNG plots")
    render.add_argument(
        "--figures", type=Path, metavar="DIR", help="directory for each model's figures table"
    )
    render.set_defaults(handler=_render)


MODELS_HELP = (
    "comma-separated contenders (default: every registered model that serves the job, and the "
    "references and peers that are installed); a name given twice is measured twice, as two "
    "contenders; a model's options as NAME:option=value[:option=value] "
    "(modern.protocol:loop=asyncio)"
)
SWITCH_MODELS_HELP = (
    "comma-separated mechanisms out of generator, greenlet, gevent, asyncio, uvloop, threads "
    "(default: all); a name given twice is measured twice, as two contenders"
)


def _common_options(parser: argparse.ArgumentParser, kind: str) -> None:
    parser.add_argument(
        "--models", type=units.names, help=SWITCH_MODELS_HELP if kind == "switch" else MODELS_HELP
    )
    parser.add_argument("--baseline", help="the contender the ratios are to (default per kind)")
    parser.add_argument(
        "--rounds",
        type=units.positive_count,
        default=DEFAULT_ROUNDS.get(kind, 3),
        help="interleaved rounds per figure (default %(default)s)",
    )
    parser.add_argument(
        "--duration",
        type=units.positive_seconds,
        default=DEFAULT_DURATION.get(kind, 3.0),
        help="how long each measurement runs: 3, 3s, 50ms (default %(default)ss)",
    )
    parser.add_argument("--json", action="store_true", help="print the JSON document instead")
    parser.add_argument("--out", type=Path, help="also write the JSON document to this file")
    parser.add_argument("--plot", type=Path, metavar="DIR", help="write the kind's PNG plots here")


@dataclass(frozen=True)
class Option:
    """One option of a kind, said once: how it is parsed and shown in --help, and whether its
    value goes into the JSON document's settings (under its argparse name)."""

    flags: tuple[str, ...]
    parse: Callable[[str], Any] | None
    default: Any
    help: str
    choices: tuple[str, ...] | None = None
    recorded: bool = True

    @property
    def dest(self) -> str:
        return self.flags[-1].lstrip("-").replace("-", "_")

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            *self.flags,
            type=self.parse,
            default=copy.copy(self.default),  # each parser its own list
            choices=self.choices,
            help=self.help,
        )


CONNS = Option(
    ("--conns",),
    units.positive_counts,
    [1, 10, 100, 1000],
    "concurrent connections; a list sweeps (default 1,10,100,1000)",
)
MESSAGE_SIZE = Option(("--size",), units.byte_size, 1024, "message size (default 1k)")
FILES = Option(
    ("--files",),
    units.positive_count,
    128,
    "distinct files of --size bytes the load rotates over (default 128)",
)
LOAD = Option(
    ("--load",),
    None,
    "auto",
    "load generator: wrk, or the built-in Python one (default: wrk if installed)",
    choices=("auto", "wrk", "python"),
)
IDLE = Option(
    ("--idle",),
    units.counts,
    [0, 100, 1000, 4000, 10000],
    "idle connections held open; a list sweeps (default 0,100,1000,4000,10000)",
)
ACTIVE = Option(
    ("--active",), units.positive_count, 10, "active echo clients measured (default 10)"
)
MOST_IDLE = Option(
    ("--max",), units.positive_count, 10_000, "idle connections at the last step (default 10000)"
)
FLOOR = Option(
    ("--floor",),
    units.byte_size,
    1024 * 1024 * 1024,
    "stop a model's run before the machine's available memory falls under this (default 1024m)",
)
LATENCY = Option(
    ("--latency",),
    units.durations,
    [0.0, 0.05],
    "delay the server adds to every response; a list sweeps (default 0,50ms)",
)
DOWNLOADS = Option(("--files",), units.positive_count, 200, "files to download (default 200)")
FILE_SIZE = Option(("--size",), units.byte_size, 16 * 1024, "file size (default 16k)")
JOBS = Option(
    ("-j", "--jobs"),
    units.positive_count,
    16,
    "concurrent downloads of every downloader (default 16)",
)
OUT_BASE = Option(
    ("--out-base",),
    Path,
    None,
    "where the downloaders write (default: the temporary directory, on disk as a user's "
    "downloads are; /dev/shm, a tmpfs, leaves the disk out of the figures)",
    recorded=False,
)

KIND_OPTIONS: dict[str, tuple[Option, ...]] = {
    "switch": (),  # contenders and duration say everything
    "echo": (CONNS, MESSAGE_SIZE),
    "http": (CONNS, MESSAGE_SIZE, FILES, LOAD),
    "scale": (IDLE, ACTIVE, MESSAGE_SIZE),
    "idle": (MOST_IDLE, FLOOR),
    "download": (LATENCY, DOWNLOADS, FILE_SIZE, JOBS, OUT_BASE),
}


def recorded_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The options of `args.kind` that shape its figures, as the JSON document records them:
    the rounds, the duration (for a kind that measures for a duration), then the kind's own."""
    settings: dict[str, Any] = {"rounds": args.rounds}
    if args.kind not in UNTIMED:
        settings["duration"] = args.duration
    for option in KIND_OPTIONS[args.kind]:
        if option.recorded:
            settings[option.dest] = getattr(args, option.dest)
    return settings


def _run(args: argparse.Namespace) -> int:
    module = importlib.import_module(f"rosetta.bench.{args.kind}")
    return int(module.run(args))


def _render(args: argparse.Namespace) -> int:
    from rosetta.bench import render

    missing = [str(path) for path in args.documents if not path.is_file()]
    if missing:
        raise UsageError(f"no such file: {', '.join(missing)}")
    if args.page is None and args.figures is None:
        raise UsageError("rosetta bench render: give --page, --figures or both")
    if args.page is not None and not args.page.is_file():
        raise UsageError(f"no such page: {args.page}")
    if args.figures is not None:
        from rosetta.bench import model_figures

        model_figures.write(args.documents, args.figures)
    if args.page is None:
        return 0
    return render.render(args.documents, args.page, args.plot)
