"""Every HTTP model, on the wire: never a byte from outside the document root, whatever the
encoding of the target, with our own client and with curl."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from parity_tests.clients import raw_get, request
from parity_tests.conftest import SECRET, Site
from parity_tests.harness import ServerProcess

TRAVERSALS = [
    "/../secret.txt",
    "/../../../../etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/%2E%2E/outside/secret.txt",
    "/..%2f..%2fetc%2fpasswd",
    "/%252e%252e/%252e%252e/etc/passwd",
    "/..%5c..%5cetc%5cpasswd",
    "/..\\..\\etc\\passwd",
    "/hello.txt%00.html",
    "/%00",
    "/secret.txt",
    "/outside_dir/secret.txt",
    "/sub/../../outside/secret.txt",
    "/./../outside/secret.txt",
    "/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
    "/..;/..;/etc/passwd",
    "http://test/../../etc/passwd",
    "http://test/%2e%2e/outside/secret.txt",
    "/etc/passwd",
    "//etc/passwd",
    "/.../.../etc/passwd",
]


@pytest.mark.parametrize("target", TRAVERSALS)
def test_traversal_never_leaves_the_root(http_server: ServerProcess, target: str) -> None:
    response = request(http_server.address, raw_get(target, "Connection: close"))
    assert response.status in (400, 404)
    assert SECRET not in response.body
    assert b"root:" not in response.body


def test_curl_fetches_a_file(http_server: ServerProcess, site: Site, tmp_path: Path) -> None:
    curl = shutil.which("curl")
    assert curl, "curl is installed by .ci/run"
    output = tmp_path / "large.bin"
    subprocess.run(
        [curl, "-sSf", "-o", str(output), http_server.url("/large.bin")], check=True, timeout=30
    )
    assert output.read_bytes() == (site.root / "large.bin").read_bytes()


@pytest.mark.parametrize(
    "target",
    [
        "/../secret.txt",
        "/../../../../etc/passwd",
        "/outside_dir/secret.txt",
        "/%2e%2e/outside/secret.txt",
    ],
)
def test_curl_path_as_is_traversal(http_server: ServerProcess, target: str) -> None:
    result = subprocess.run(
        ["curl", "-s", "--path-as-is", "-o", "-", "-w", "\n%{http_code}", http_server.url(target)],
        capture_output=True,
        timeout=30,
    )
    body, _, code = result.stdout.rpartition(b"\n")
    assert code in (b"400", b"404")
    assert SECRET not in body
