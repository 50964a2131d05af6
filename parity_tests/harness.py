"""Start any registered model through the CLI, as a user would, and stop it by signal.

Servers run as subprocesses (fork, monkey-patching and greenlet hubs never leak into pytest),
on port 0; the bound port is read from the ready line. Standard output goes to a file, so a
server that prints the course's messages can never block on a full pipe.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

READY_LINE = re.compile(
    r"^rosetta: listening on (?P<scheme>tcp|http)://(?P<host>\[[^\]]+\]|[^:/]+):(?P<port>\d+) "
    r"\(model=(?P<model>[\w.]+), pid=(?P<pid>\d+)\)$"
)
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


@dataclass
class ServerProcess:
    model: str
    options: Mapping[str, str]
    job: str
    proc: subprocess.Popen[bytes]
    stdout_path: Path
    stderr_path: Path
    host: str = ""
    port: int = 0
    ready_line: str = ""
    stopped: bool = field(default=False)

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    @property
    def label(self) -> str:
        return model_label(self.model, self.options)

    def url(self, path: str = "/") -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{path}"

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, signum: int = signal.SIGTERM) -> int:
        """Signal the server and wait for it; returns the exit code (killed if it hangs)."""
        if not self.stopped:
            self.stopped = True
            if self.proc.poll() is None:
                self.proc.send_signal(signum)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(
                    f"{self.label} did not stop within {STOP_TIMEOUT}s of signal {signum}"
                ) from None
        return self.proc.returncode


def model_label(model: str, options: Mapping[str, str]) -> str:
    if not options:
        return model
    return model + "[" + ",".join(f"{key}={value}" for key, value in sorted(options.items())) + "]"


def server_command(
    job: str,
    model: str,
    options: Mapping[str, str] | None = None,
    *,
    root: Path | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    extra: Sequence[str] = (),
) -> list[str]:
    argv = [
        sys.executable,
        "-m",
        "rosetta",
        "serve",
        job,
        "--model",
        model,
        "--host",
        host,
        "--port",
        str(port),
    ]
    if root is not None:
        argv += ["--root", str(root)]
    for key, value in (options or {}).items():
        argv += [f"--{key}", str(value)]
    return argv + list(extra)


def start_server(
    job: str,
    model: str,
    options: Mapping[str, str] | None = None,
    *,
    root: Path | None = None,
    host: str = "127.0.0.1",
    extra: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> ServerProcess:
    options = dict(options or {})
    logs = Path(tempfile.mkdtemp(prefix="rosetta-server-"))
    stdout_path, stderr_path = logs / "stdout", logs / "stderr"
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        proc = subprocess.Popen(
            server_command(job, model, options, root=root, host=host, extra=extra),
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
        )
    server = ServerProcess(model, options, job, proc, stdout_path, stderr_path)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        first_line = server.stdout().split("\n", 1)
        if len(first_line) == 2:
            match = READY_LINE.match(first_line[0])
            if not match:
                proc.kill()
                raise AssertionError(
                    f"{server.label}: first line on stdout is not the ready line: {first_line[0]!r}"
                )
            server.ready_line = first_line[0]
            server.host = match["host"].strip("[]")
            server.port = int(match["port"])
            return server
        if proc.poll() is not None:
            raise AssertionError(
                f"{server.label} exited with {proc.returncode} before listening: {server.stderr()}"
            )
        time.sleep(0.02)
    proc.kill()
    raise AssertionError(f"{server.label} printed no ready line within {START_TIMEOUT}s")


def assert_clean_stop(server: ServerProcess) -> None:
    """Stopped by SIGTERM with exit code 0 and no traceback on stderr."""
    code = server.stop()
    stderr = server.stderr()
    assert code == 0, f"{server.label} exited with {code}; stderr:\n{stderr}"
    assert "Traceback" not in stderr, f"{server.label} printed a traceback:\n{stderr}"
