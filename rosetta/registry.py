"""The only list of models: name -> import string, the jobs it serves, its counterparts, its needs.

Every other part of the project (the CLI, the parity suite, the benchmarks, the docs) reads this
list; adding a model means one module and one entry here. Modules are imported lazily, so a
missing optional dependency only makes its own model unavailable.
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
from collections.abc import Iterator, Mapping
from types import MappingProxyType, ModuleType
from typing import NamedTuple

JOBS = ("echo", "http", "download", "demo")

_NO_OPTIONS: Mapping[str, tuple[str, ...]] = MappingProxyType({})
LOOP_OPTION: Mapping[str, tuple[str, ...]] = MappingProxyType({"loop": ("uvloop", "asyncio")})
# An option whose allowed values are not listed takes any whole number >= 1 (`--workers 4`).
ANY_COUNT: tuple[str, ...] = ()
# Every modern server: the event loop, and `--workers N` (modern._workers).
MODERN_SERVER_OPTIONS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {**LOOP_OPTION, "workers": ANY_COUNT}
)


class UnknownModel(LookupError):
    """No model of that name is registered."""


class ModelUnavailable(RuntimeError):
    """The model is registered, but what it needs is not installed."""


class Model(NamedTuple):
    """One registered model (a named tuple: the registry makes a score of them at every
    start, and a tuple class costs a fraction of a dataclass to define)."""

    name: str
    module: str
    jobs: frozenset[str]
    section: str
    summary: str
    counterparts: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    # Model-specific choices, each with its allowed values; the first value is the default.
    options: Mapping[str, tuple[str, ...]] = _NO_OPTIONS
    # Documented limit of the course's §1 server: the next client waits in the backlog.
    one_client_at_a_time: bool = False
    # Serves HTTPS with `--certfile` (rosetta.tls); the others refuse it with exit code 2.
    tls: bool = False

    @property
    def side(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(dist for dist in self.needs if importlib.util.find_spec(dist) is None)

    @property
    def available(self) -> bool:
        return not self.missing

    def load(self) -> ModuleType:
        if self.missing:
            raise ModelUnavailable(
                f"model {self.name} needs {', '.join(self.missing)}, which is not installed"
            )
        return importlib.import_module(self.module)

    def variants(self) -> Iterator[dict[str, str]]:
        """Every combination of listed option values; the parity suite runs each one.
        Options that take any count (`--workers`) keep their default and are not varied."""
        names = sorted(name for name, values in self.options.items() if values)
        for values in itertools.product(*(self.options[name] for name in names)):
            yield dict(zip(names, values, strict=True))


def _model(
    name: str,
    jobs: str,
    section: str,
    summary: str,
    *,
    counterparts: str = "",
    needs: str = "",
    options: Mapping[str, tuple[str, ...]] = _NO_OPTIONS,
    one_client_at_a_time: bool = False,
    tls: bool = False,
) -> Model:
    return Model(
        name=name,
        module=name,
        jobs=frozenset(jobs.split()),
        section=section,
        summary=summary,
        counterparts=tuple(counterparts.split()),
        needs=tuple(needs.split()),
        options=options,
        one_client_at_a_time=one_client_at_a_time,
        tls=tls,
    )


# One entry per model, every entry in the same shape on purpose: the list reads as a table.
MODELS: tuple[Model, ...] = (
    # --- classic: the course's listings ---
    _model(
        "classic.blocking", "echo http", "§1", "one client at a time, blocking accept/recv",
        counterparts="modern.streams", one_client_at_a_time=True, tls=True,
    ),
    # --- classic servers ---
    _model(
        "classic.nonblocking", "echo http", "§4",
        "non-blocking sockets polled in turn (accept, recv on each), naps when idle",
        counterparts="modern.sockets",
    ),
    _model(
        "classic.select_echo", "echo http", "§5a",
        "select() over listener, clients and stdin (a line stops it); blocking sendall",
        counterparts="modern.protocol",
    ),
    _model(
        "classic.select_writelist", "echo http", "§5b",
        "select(in, out, in) on non-blocking sockets, a send queue per client",
        counterparts="modern.protocol",
    ),
    _model(
        "classic.epoll_server", "echo http", "§6",
        "epoll, dicts by fd, edge-triggered (drain until EAGAIN) or level, EPOLLOUT for the rest",
        counterparts="modern.protocol", options={"trigger": ("edge", "level")},
    ),
    _model(
        "classic.forking", "echo http", "§2", "a forked process per client, reaped on SIGCHLD",
        counterparts="modern.streams", tls=True,
    ),
    _model(
        "classic.threads", "echo http", "§3", "a daemon thread per client, bounded join at stop",
        counterparts="modern.streams", tls=True,
    ),
    _model(
        "classic.gevent_server", "echo http", "§10",
        "monkey.patch_all(), plain accept loop, gevent.spawn per connection",
        counterparts="modern.streams", needs="gevent", tls=True,
    ),
    # --- classic downloaders ---
    _model(
        "classic.gevent_download", "download", "§9c",
        "monkey.patch_all, urllib, gevent.spawn per URL in a Pool, gevent.joinall",
        counterparts="modern.aiohttp_download", needs="gevent",
    ),
    _model(
        "classic.threads_download", "download", "§9c",
        "ThreadPoolExecutor of -j threads, blocking urllib per URL",
        counterparts="modern.aiohttp_download",
    ),
    # --- classic demos ---
    _model(
        "classic.greenlets", "demo", "§7 §8 §9a §9b",
        "generators (yield/next), greenlet.switch, gevent.spawn and gevent.sleep demos",
        counterparts="modern.coroutines", needs="greenlet gevent",
    ),
    # --- modern: asyncio / uvloop / aiohttp ---
    _model(
        "modern.streams", "echo http", "§1 §3 §10",
        "asyncio.start_server, one task per connection, reader/writer with drain()",
        counterparts="classic.blocking classic.threads classic.gevent_server", needs="uvloop",
        options=MODERN_SERVER_OPTIONS, tls=True,
    ),
    # --- modern servers ---
    _model(
        "modern.sockets", "echo http", "§4",
        "non-blocking sockets driven by loop.sock_accept / sock_recv / sock_sendall",
        counterparts="classic.nonblocking", needs="uvloop",
        options=MODERN_SERVER_OPTIONS, tls=True,
    ),
    Model(
        name="modern.aiohttp", module="modern.aiohttp_server", jobs=frozenset({"http"}),
        section="§10 web",
        summary="aiohttp.web, one route: StaticSite picks the file, web.FileResponse sends it",
        counterparts=("classic.gevent_server",), needs=("aiohttp", "uvloop"),
        options=MODERN_SERVER_OPTIONS, tls=True,
    ),
    _model(
        "modern.protocol", "echo http", "§5 §6",
        "asyncio.Protocol callbacks on a transport, pause_reading on pause_writing, sendfile",
        counterparts="classic.select_echo classic.select_writelist classic.epoll_server",
        needs="uvloop", options=MODERN_SERVER_OPTIONS, tls=True,
    ),
    # --- modern downloaders ---
    _model(
        "modern.aiohttp_download", "download", "§9c",
        "one aiohttp ClientSession, a task per URL, a Semaphore, TaskGroup, keep-alive",
        counterparts="classic.gevent_download classic.threads_download",
        needs="aiohttp uvloop",
    ),
    _model(
        "modern.protocol_download", "download", "§9c",
        "asyncio Protocols, httptools' parser, a keep-alive pool per host, -j workers",
        counterparts="classic.gevent_download classic.threads_download",
        needs="httptools uvloop",
    ),
    # --- modern demos ---
    _model(
        "modern.coroutines", "demo", "§7 §8 §9a §9b",
        "native coroutines (coro.send), asyncio tasks, Event switch, sleep, to_thread",
        counterparts="classic.greenlets",
    ),
)

DEFAULT_MODEL = {"echo": "modern.protocol", "http": "modern.protocol"}

_BY_NAME = {model.name: model for model in MODELS}


def get(name: str) -> Model:
    try:
        return _BY_NAME[name]
    except KeyError:
        known = ", ".join(sorted(_BY_NAME))
        raise UnknownModel(f"unknown model {name!r} (known: {known})") from None


def serving(job: str) -> list[Model]:
    return [model for model in MODELS if job in model.jobs]
