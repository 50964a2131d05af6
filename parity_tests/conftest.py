"""Fixtures of the parity suite: one server per model (and option variant) per test module.

Every case is written once and runs against every registered model that serves the job, so a
new model is tested by adding its registry entry. Each server is stopped by SIGTERM at the end
of its module, and must exit 0 without a traceback.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from parity_tests.harness import ServerProcess, assert_clean_stop, model_label, start_server
from rosetta import registry

SECRET = b"TOP-SECRET-OUTSIDE-THE-ROOT"


@dataclass(frozen=True)
class Impl:
    """A model with one choice of its options (`modern.streams` on uvloop, ...)."""

    model: registry.Model
    options: tuple[tuple[str, str], ...]

    @property
    def label(self) -> str:
        return model_label(self.model.name, dict(self.options))

    def start(self, job: str, **kwargs: object) -> ServerProcess:
        return start_server(job, self.model.name, dict(self.options), **kwargs)  # type: ignore[arg-type]


def implementations(job: str) -> list[Impl]:
    impls = []
    for model in registry.serving(job):
        variants = list(model.variants()) or [{}]
        impls += [Impl(model, tuple(sorted(variant.items()))) for variant in variants]
    return impls


def impl_params(job: str) -> list[object]:
    return [pytest.param(impl, id=impl.label) for impl in implementations(job)]


@dataclass(frozen=True)
class Site:
    root: Path
    outside: Path


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """A document root with text, binary, nested, oddly named files and hostile symlinks,
    beside a directory of secrets that must never be served."""
    base = tmp_path_factory.mktemp("parity-site")
    outside = base / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(SECRET + b"\n")
    root = base / "html"
    (root / "sub").mkdir(parents=True)
    (root / "index.html").write_bytes(b"<!DOCTYPE html>\n<h1>parity index</h1>\n")
    (root / "hello.txt").write_bytes(b"hello, parity\n" * 10)
    (root / "style.css").write_bytes(b"body { color: black; }\n")
    (root / "small.bin").write_bytes(os.urandom(1000))
    (root / "large.bin").write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    (root / "empty.txt").write_bytes(b"")
    (root / "space name.txt").write_bytes(b"a file with a space\n")
    (root / "caf\u00e9.txt").write_bytes("caf\u00e9 au lait\n".encode())
    (root / "sub" / "index.html").write_bytes(b"<h1>sub index</h1>\n")
    (root / "sub" / "page.html").write_bytes(b"<p>a page in sub</p>\n")
    (root / "secret.txt").symlink_to(outside / "secret.txt")
    (root / "outside_dir").symlink_to(outside, target_is_directory=True)
    (root / "alias.txt").symlink_to(root / "hello.txt")
    (root / "noindex").mkdir()
    return Site(root, outside)


@dataclass(frozen=True)
class Certificates:
    """A test CA and a server certificate it signed, for 127.0.0.1 and localhost."""

    ca: Path
    cert: Path
    key: Path

    @property
    def options(self) -> tuple[str, ...]:
        return ("--certfile", str(self.cert), "--keyfile", str(self.key))


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """Made at test time with openssl: a self-signed CA, and a server certificate it signed
    (subjectAltName IP:127.0.0.1, DNS:localhost), on P-256 keys."""
    base = tmp_path_factory.mktemp("tls")
    ca, ca_key = base / "ca.pem", base / "ca.key"
    cert, key, request = base / "server.pem", base / "server.key", base / "server.csr"
    extensions = base / "server.ext"
    extensions.write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
    )
    new_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for argv in (
        [
            *("req", "-x509", *new_key, "-keyout", ca_key, "-out", ca, "-days", "2"),
            *("-subj", "/CN=rosetta parity CA", "-addext", "basicConstraints=critical,CA:TRUE"),
            *("-addext", "keyUsage=critical,keyCertSign"),
        ],
        ["req", *new_key, "-keyout", key, "-out", request, "-subj", "/CN=localhost"],
        [
            *("x509", "-req", "-in", request, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial"),
            *("-out", cert, "-days", "2", "-extfile", extensions),
        ],
    ):
        subprocess.run(["openssl", *map(str, argv)], check=True, capture_output=True, timeout=60)
    return Certificates(ca, cert, key)


def _serve_module(
    request: pytest.FixtureRequest, job: str, **kwargs: object
) -> Iterator[ServerProcess]:
    impl: Impl = request.param
    server = impl.start(job, **kwargs)
    try:
        yield server
    finally:
        assert_clean_stop(server)


@pytest.fixture(scope="module", params=impl_params("echo"))
def echo_server(request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    yield from _serve_module(request, "echo")


@pytest.fixture(scope="module", params=impl_params("http"))
def http_server(request: pytest.FixtureRequest, site: Site) -> Iterator[ServerProcess]:
    yield from _serve_module(request, "http", root=site.root)


def one_at_a_time(server: ServerProcess) -> bool:
    """The documented behaviour of the course's §1 model: it serves one client at a time."""
    return registry.get(server.model).one_client_at_a_time
