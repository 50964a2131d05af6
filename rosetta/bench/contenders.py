"""Who a bench measures, and how each one is started and stopped.

A contender is a registered model (`rosetta serve` in a child process), a reference the
course's claims are measured against (the project's C epoll echo server, nginx with one
worker), or a peer a user might pick instead (gevent, `python -m http.server`, uvicorn with
Starlette, aiohttp, granian). Every one listens on 127.0.0.1 on a free port and is stopped
with SIGTERM (then SIGKILL for its whole process group if it lingers).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rosetta import instruments, launch, registry
from rosetta.bench import procs
from rosetta.bench.document import Contender
from rosetta.bench.rounds import StartFailed, label_twice_named
from rosetta.usage import UsageError, check_option, find_model


@dataclass(frozen=True)
class Outsider:
    """A contender that is not a registered model: what it is, what it needs installed."""

    role: str
    job: str  # "echo" or "http"
    note: str
    modules: tuple[str, ...] = ()
    programs: tuple[str, ...] = ()

    @property
    def missing(self) -> list[str]:
        missing = [name for name in self.modules if importlib.util.find_spec(name) is None]
        return missing + [name for name in self.programs if shutil.which(name) is None]


OUTSIDERS: dict[str, Outsider] = {
    "c-epoll": Outsider("reference", "echo", "the project's C epoll echo server", programs=("cc",)),
    "nginx": Outsider(
        "reference", "http", "nginx, one worker, sendfile on, access_log off", programs=("nginx",)
    ),
    "gevent-stream": Outsider("peer", "echo", "gevent.server.StreamServer", modules=("gevent",)),
    "gevent-pywsgi": Outsider(
        "peer", "http", "gevent.pywsgi with a file-serving WSGI app", modules=("gevent",)
    ),
    "http.server": Outsider("peer", "http", "python -m http.server"),
    "uvicorn": Outsider(
        "peer",
        "http",
        "uvicorn (uvloop, httptools) with Starlette StaticFiles",
        modules=("uvicorn", "starlette"),
    ),
    "aiohttp-static": Outsider(
        "peer", "http", "aiohttp.web add_static on uvloop", modules=("aiohttp",)
    ),
    "granian": Outsider(
        "peer", "http", "granian (one worker) serving static files", modules=("granian",)
    ),
}
REFERENCE = {"echo": "c-epoll", "http": "nginx"}


def default_names(job: str, *, peers: bool = True) -> list[str]:
    """The reference first, every available registered model of the job, then the peers."""
    names = [REFERENCE[job]] if not OUTSIDERS[REFERENCE[job]].missing else []
    names += [model.name for model in registry.serving(job) if model.available]
    if peers:
        names += [
            name
            for name, outsider in OUTSIDERS.items()
            if outsider.role == "peer" and outsider.job == job and not outsider.missing
        ]
    return names


def resolve(names: Sequence[str] | None, job: str, *, peers: bool = True) -> list[Contender]:
    """Contenders from --models (or the defaults), checked: known, serving the job, installed."""
    contenders = []
    for name, label in label_twice_named(names or default_names(job, peers=peers)):
        base, _, _ = name.partition(":")
        if base in OUTSIDERS:
            outsider = OUTSIDERS[base]
            if outsider.job != job:
                raise UsageError(f"{base} does not serve {job}")
            if outsider.missing:
                raise UsageError(f"{base} needs {', '.join(outsider.missing)}, not installed")
            contenders.append(Contender(name, outsider.role, label, outsider.note))
            continue
        model = find_model(base, job)
        if model.missing:
            raise UsageError(f"model {model.name} needs {', '.join(model.missing)}, not installed")
        model_options(name)  # checks the options now, not halfway through a run
        note = "one client at a time (the course's §1 limit)" if model.one_client_at_a_time else ""
        contenders.append(Contender(name, "model", label, note))
    return contenders


def model_options(name: str) -> dict[str, str]:
    """`modern.protocol:loop=asyncio:workers=2` -> {"loop": "asyncio", "workers": "2"}."""
    base, _, options = name.partition(":")
    model = registry.get(base)
    chosen: dict[str, str] = {}
    for option in filter(None, options.split(":")):
        key, _, value = option.partition("=")
        check_option(model, key, value, flag=key, sep="=")
        chosen[key] = value
    return chosen


def is_one_client_at_a_time(contender: Contender) -> bool:
    base = contender.name.partition(":")[0]
    return contender.role == "model" and registry.get(base).one_client_at_a_time


def generator_bound(generator: str, busy: float, contender: Contender, conns: int) -> str:
    """The warning of a round whose load generator was this busy (cores): it may be the limit."""
    return (
        f"{generator} used {busy:.0%} of a core against {contender.label} at {conns} "
        "connections: it may be the bottleneck there"
    )


def settled(
    measured: dict[str, Any], server: Running, contender: Contender, conns: int
) -> dict[str, Any]:
    """A closed-loop round's figures with their status: limited for a server of one client at a
    time given more than one connection, failed if the server exited."""
    if is_one_client_at_a_time(contender) and conns > 1:
        measured["status"] = "limit"
        measured["note"] = "one client at a time: the other connections wait (documented)"
    elif not server.alive():
        measured["status"] = "failed"
        measured["note"] = "the server exited"
    return measured


@dataclass
class Running:
    """A started contender: where it listens, and the process whose family is the server."""

    proc: subprocess.Popen[bytes]
    host: str
    port: int
    server: launch.Server | None = None
    cleanup: list[Path] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def pids(self) -> list[int]:
        return procs.family(self.pid)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        family = self.pids()
        if self.server is not None:
            with contextlib.suppress(launch.LaunchError):
                self.server.stop()
        elif self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=launch.STOP_TIMEOUT)
        # Whatever is left of the family (forked children, nginx's worker) goes with it.
        for pid in family:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait()
        for path in self.cleanup:
            shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def started(
    contender: Contender, job: str, root: Path | None = None, extra: Sequence[str] = ()
) -> Iterator[Running]:
    """`start`, and the contender stopped at the end of the block."""
    running = start(contender, job, root, extra)
    try:
        yield running
    finally:
        running.stop()


def start(contender: Contender, job: str, root: Path | None, extra: Sequence[str] = ()) -> Running:
    """Start `contender` serving `job` (static files from `root` for http); `extra` are more
    `rosetta serve` options for the models (the one place a kind adds them)."""
    base = contender.name.partition(":")[0]
    try:
        if contender.role == "model":
            server = launch.start(
                job, base, model_options(contender.name), root=root, extra=["-q", *extra]
            )
        elif base == "c-epoll":
            server = instruments.start_reference()
        elif base == "nginx":
            return _start_nginx(root)
        elif base == "granian":
            return _start_granian(root)
        else:
            argv = [sys.executable, "-m", "rosetta.bench.peers", base, str(root or ".")]
            server = launch.start_command(argv, base)
    except (launch.LaunchError, instruments.InstrumentError) as error:
        raise StartFailed(str(error)) from None
    return Running(server.proc, server.host, server.port, server)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_listening(proc: subprocess.Popen[bytes], port: int, what: str) -> None:
    deadline = time.monotonic() + launch.START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StartFailed(f"{what} exited with status {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise StartFailed(f"{what} did not listen on 127.0.0.1:{port}")


def _spawn_on_port(argv_for: Callable[[int], list[str]], what: str) -> Running:
    # A probed free port can be taken again before the program binds it: try a few.
    for _ in range(5):
        port = free_port()
        proc = subprocess.Popen(
            argv_for(port),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        running = Running(proc, "127.0.0.1", port)
        try:
            _wait_listening(proc, port, what)
        except StartFailed:
            running.stop()
            continue
        return running
    raise StartFailed(f"{what} did not start")


NGINX_CONF = """\
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 20000; }}
worker_rlimit_nofile 20000;
http {{
    access_log off;
    sendfile on;
    keepalive_requests 100000000;
    default_type application/octet-stream;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        root {root};
    }}
}}
"""


def _start_nginx(root: Path | None) -> Running:
    if root is None:
        raise StartFailed("nginx needs a document root")
    tmp = Path(tempfile.mkdtemp(prefix="rosetta-bench-nginx-"))
    tmp.chmod(0o755)
    conf = tmp / "nginx.conf"

    def argv_for(port: int) -> list[str]:
        conf.write_text(NGINX_CONF.format(tmp=tmp, root=root, port=port))
        return ["nginx", "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "error.log")]

    try:
        running = _spawn_on_port(argv_for, "nginx")
    except StartFailed:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    running.cleanup.append(tmp)
    return running


def _start_granian(root: Path | None) -> Running:
    if root is None:
        raise StartFailed("granian needs a document root")
    granian = shutil.which("granian") or str(Path(sys.executable).with_name("granian"))
    return _spawn_on_port(
        lambda port: [
            granian,
            "--interface",
            "asgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--no-log",
            "--static-path-route",
            "/static",
            "--static-path-mount",
            str(root / "static"),
            "rosetta.bench.peers:not_found_app",
        ],
        "granian",
    )


DEADLINE_OPTIONS = ("--header-timeout", "--keepalive-timeout", "--idle-timeout")


def deadlines_off() -> list[str]:
    """`rosetta serve` options that turn the connection deadlines off (0), for benches that
    hold idle connections on purpose: only those this `rosetta serve` has."""
    import argparse

    from rosetta import cli

    parser = cli.build_parser(["serve"])
    known: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and "serve" in action.choices:
            for option in action.choices["serve"]._actions:
                known.update(option.option_strings)
    argv: list[str] = []
    for option in DEADLINE_OPTIONS:
        if option in known:
            argv += [option, "0"]
    return argv
