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
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rosetta import registry
from rosetta.bench import procs
from rosetta.bench.document import Contender
from rosetta.bench.rounds import StartFailed, label_twice_named
from rosetta.usage import UsageError, find_model

START_TIMEOUT = 30.0
READY = re.compile(r"listening on (?:tcp|http)://\[?(?P<host>[^\]\s]+?)\]?:(?P<port>\d+)")
HTTP_SERVER_READY = re.compile(r"Serving HTTP on (?P<host>\S+) port (?P<port>\d+)")


@dataclass(frozen=True)
class Outsider:
    """A contender that is not a registered model: what it is, what it needs installed."""

    role: str
    jobs: frozenset[str]
    note: str
    modules: tuple[str, ...] = ()
    programs: tuple[str, ...] = ()

    @property
    def missing(self) -> list[str]:
        missing = [name for name in self.modules if importlib.util.find_spec(name) is None]
        return missing + [name for name in self.programs if shutil.which(name) is None]


OUTSIDERS: dict[str, Outsider] = {
    "c-epoll": Outsider(
        "reference", frozenset({"echo"}), "the project's C epoll echo server", programs=("cc",)
    ),
    "nginx": Outsider(
        "reference",
        frozenset({"http"}),
        "nginx, one worker, sendfile on, access_log off",
        programs=("nginx",),
    ),
    "gevent-stream": Outsider(
        "peer", frozenset({"echo"}), "gevent.server.StreamServer", modules=("gevent",)
    ),
    "gevent-pywsgi": Outsider(
        "peer",
        frozenset({"http"}),
        "gevent.pywsgi with a file-serving WSGI app",
        modules=("gevent",),
    ),
    "http.server": Outsider("peer", frozenset({"http"}), "python -m http.server"),
    "uvicorn": Outsider(
        "peer",
        frozenset({"http"}),
        "uvicorn (uvloop, httptools) with Starlette StaticFiles",
        modules=("uvicorn", "starlette"),
    ),
    "aiohttp-static": Outsider(
        "peer", frozenset({"http"}), "aiohttp.web add_static on uvloop", modules=("aiohttp",)
    ),
    "granian": Outsider(
        "peer",
        frozenset({"http"}),
        "granian (one worker) serving static files",
        modules=("granian",),
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
            if outsider.role == "peer" and job in outsider.jobs and not outsider.missing
        ]
    return names


def resolve(names: Sequence[str] | None, job: str, *, peers: bool = True) -> list[Contender]:
    """Contenders from --models (or the defaults), checked: known, serving the job, installed."""
    contenders = []
    for name, label in label_twice_named(names or default_names(job, peers=peers)):
        base, _, _ = name.partition(":")
        if base in OUTSIDERS:
            outsider = OUTSIDERS[base]
            if job not in outsider.jobs:
                raise UsageError(f"{base} does not serve {job}")
            if outsider.missing:
                raise UsageError(f"{base} needs {', '.join(outsider.missing)}, not installed")
            contenders.append(Contender(name, outsider.role, label, outsider.note))
            continue
        model = find_model(base, job)
        if model.missing:
            raise UsageError(f"model {model.name} needs {', '.join(model.missing)}, not installed")
        serve_options(name)  # checks the options now, not halfway through a run
        note = "one client at a time (the course's §1 limit)" if model.one_client_at_a_time else ""
        contenders.append(Contender(name, "model", label, note))
    return contenders


def serve_options(name: str) -> list[str]:
    """`modern.protocol:loop=asyncio:workers=2` -> ["--loop", "asyncio", "--workers", "2"]."""
    base, _, options = name.partition(":")
    model = registry.get(base)
    argv: list[str] = []
    for option in filter(None, options.split(":")):
        key, _, value = option.partition("=")
        if key not in model.options:
            raise UsageError(f"model {base} has no option {key!r}")
        allowed = model.options[key]
        if allowed and value not in allowed:
            raise UsageError(f"model {base} takes {key}={'|'.join(allowed)}")
        argv += [f"--{key}", value]
    return argv


def is_one_client_at_a_time(contender: Contender) -> bool:
    base = contender.name.partition(":")[0]
    return contender.role == "model" and registry.get(base).one_client_at_a_time


@dataclass
class Running:
    """A started contender: where it listens, and the process whose family is the server."""

    proc: subprocess.Popen[bytes]
    host: str
    port: int
    pid: int
    cleanup: list[Path] = field(default_factory=list)

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def pids(self) -> list[int]:
        return procs.family(self.pid)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=10)
        # Whatever is left of the family (forked children, nginx's worker) goes with it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        for path in self.cleanup:
            shutil.rmtree(path, ignore_errors=True)


def start(contender: Contender, job: str, root: Path | None, extra: Sequence[str] = ()) -> Running:
    """Start `contender` serving `job` (static files from `root` for http); `extra` are more
    `rosetta serve` options for the models (the one place a kind adds them)."""
    base = contender.name.partition(":")[0]
    if contender.role == "model":
        argv = [
            sys.executable,
            "-m",
            "rosetta",
            "serve",
            job,
            "--model",
            base,
            "--port",
            "0",
            "-q",
            *serve_options(contender.name),
            *extra,
        ]
        if root is not None:
            argv += ["--root", str(root)]
        return _start_with_ready_line(argv, READY)
    if base == "c-epoll":
        return _start_c_echo()
    if base == "nginx":
        return _start_nginx(root)
    if base == "http.server":
        argv = [
            sys.executable,
            "-u",
            "-m",
            "http.server",
            "0",
            "--bind",
            "127.0.0.1",
            "--directory",
            str(root),
        ]
        return _start_with_ready_line(argv, HTTP_SERVER_READY)
    if base == "granian":
        return _start_granian(root)
    argv = [sys.executable, "-m", "rosetta.bench.peers", base, str(root or ".")]
    return _start_with_ready_line(argv, READY)


def _start_with_ready_line(argv: Sequence[str], ready: re.Pattern[str]) -> Running:
    proc = subprocess.Popen(
        list(argv),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        line = proc.stdout.readline().decode(errors="replace")
        if not line:
            break
        match = ready.search(line)
        if match:
            proc.stdout.close()
            return Running(proc, match["host"], int(match["port"]), proc.pid)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    _, error = proc.communicate()
    last = error.decode(errors="replace").strip().splitlines()[-1:] or ["no ready line"]
    raise StartFailed(f"{argv[0]} did not start: {last[0]}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_listening(proc: subprocess.Popen[bytes], port: int, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
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
        running = Running(proc, "127.0.0.1", port, proc.pid)
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


def _start_c_echo() -> Running:
    raise StartFailed("the C echo reference is not available yet")
