"""The static site's features over every HTTP model: precompressed files, listings (HTML and
JSON, hostile names escaped), with the same status, headers and bytes as the reference; and
real clients (curl --compressed, wget -r) against a modern and a classic model."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from parity_tests.accepted_differences import comparable
from parity_tests.clients import Response, raw_get, request
from parity_tests.conftest import impl_params
from parity_tests.harness import ServerProcess, start_server, stopped_cleanly

REFERENCE_MODEL = "classic.blocking"
CSS = b"body { color: black; margin: 0 auto; }\n" * 200
HOSTILE = ["<script>alert(1).txt", "quo\"te's.txt", "new\nline.txt", "%00.txt", "caf\u00e9.txt"]
LISTING = ("--listing",)


@pytest.fixture(scope="module")
def feature_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("site-features")
    (base / "outside").mkdir()
    (base / "outside" / "secret.txt").write_bytes(b"SECRET")
    root = base / "html"
    (root / "assets").mkdir(parents=True)
    (root / "assets" / "style.css").write_bytes(CSS)
    (root / "assets" / "style.css.gz").write_bytes(gzip.compress(CSS, mtime=0))
    (root / "assets" / "style.css.br").write_bytes(b"pretend-brotli-bytes")
    (root / "assets" / "app.js").write_bytes(b"let x = 1;\n" * 500)
    (root / "assets" / "app.js.zst").write_bytes(b"pretend-zstd-bytes")
    (root / "files" / "nested").mkdir(parents=True)
    (root / "files" / "nested" / "deep.txt").write_bytes(b"deep\n")
    (root / "files" / "a.txt").write_bytes(b"a\n")
    (root / "files" / ".hidden").write_bytes(b"hidden\n")
    for name in HOSTILE:
        (root / "hostile" / name).parent.mkdir(exist_ok=True)
        (root / "hostile" / name).write_bytes(b"x\n")
    (root / "files" / "out").symlink_to(base / "outside" / "secret.txt")
    (root / "files" / "out-dir").symlink_to(base / "outside", target_is_directory=True)
    for path in sorted(root.rglob("*")):
        os.utime(path, (1_700_000_000, 1_700_000_000), follow_symlinks=False)
    return root


CASES = {
    "br": raw_get("/assets/style.css", "Accept-Encoding: gzip, deflate, br, zstd"),
    "gzip": raw_get("/assets/style.css", "Accept-Encoding: gzip"),
    "q-values": raw_get("/assets/style.css", "Accept-Encoding: br;q=0.2, gzip;q=0.8"),
    "refused-br": raw_get("/assets/style.css", "Accept-Encoding: br;q=0"),
    "identity": raw_get("/assets/style.css"),
    "zstd": raw_get("/assets/app.js", "Accept-Encoding: zstd, gzip"),
    "range-br": raw_get("/assets/style.css", "Accept-Encoding: br", "Range: bytes=2-9"),
    "head-gzip": raw_get("/assets/style.css", "Accept-Encoding: gzip", method="HEAD"),
    "listing": raw_get("/files/"),
    "listing-json": raw_get("/files/", "Accept: application/json"),
    "hostile-listing": raw_get("/hostile/"),
    "hostile-json": raw_get("/hostile/", "Accept: application/json"),
    "listing-redirect": raw_get("/files/nested?x=1"),
}


def _ask(server: ServerProcess, case: str) -> Response:
    raw = CASES[case]
    return request(server.address, raw, head_only=raw.startswith(b"HEAD "))


@pytest.fixture(scope="module")
def reference(feature_root: Path) -> Iterator[dict[str, Response]]:
    server = start_server("http", REFERENCE_MODEL, root=feature_root, extra=LISTING)
    with stopped_cleanly(server):
        yield {case: _ask(server, case) for case in CASES}


@pytest.fixture(scope="module", params=impl_params("http"))
def featured_server(request: pytest.FixtureRequest, feature_root: Path) -> Iterator[ServerProcess]:
    server = request.param.start("http", root=feature_root, extra=LISTING)
    with stopped_cleanly(server):
        yield server


@pytest.mark.parametrize("case", list(CASES))
def test_identical_to_reference(
    featured_server: ServerProcess, reference: dict[str, Response], case: str
) -> None:
    ours = _ask(featured_server, case)
    model = featured_server.model
    assert comparable(model, ours) == comparable(model, reference[case])


def test_the_reference_answers_as_documented(reference: dict[str, Response]) -> None:
    assert reference["br"].header("Content-Encoding") == "br"
    assert reference["br"].body == b"pretend-brotli-bytes"
    assert reference["br"].header("Vary") == "Accept-Encoding"
    assert reference["br"].header("Content-Type") == "text/css; charset=utf-8"
    assert reference["br"].header("ETag") != reference["identity"].header("ETag")
    assert reference["q-values"].header("Content-Encoding") == "gzip"
    assert reference["refused-br"].header("Content-Encoding") is None
    assert reference["zstd"].header("Content-Encoding") == "zstd"
    assert reference["range-br"].status == 206 and reference["range-br"].body == b"etend-br"
    assert reference["listing-redirect"].header("Location") == "/files/nested/?x=1"
    page = reference["hostile-listing"].body.decode()
    assert "<script>" not in page and "new\nline" not in page and "%2500.txt" in page
    listing = reference["listing"].body
    assert b".hidden" not in listing and b"out-dir" not in listing and b"SECRET" not in listing


CLIENT_MODELS = ["modern.protocol", "classic.threads"]
CURL_COMPRESSED = ("curl", "-sS", "--compressed", "-H", "Accept-Encoding: gzip", "-D", "-")
WGET_MIRROR = ("wget", "-q", "-r", "-np", "-nH", "-e", "robots=off")


@pytest.fixture(scope="module", params=CLIENT_MODELS)
def client_server(request: pytest.FixtureRequest, feature_root: Path) -> Iterator[ServerProcess]:
    server = start_server("http", request.param, root=feature_root, extra=LISTING)
    with stopped_cleanly(server):
        yield server


def _url(server: ServerProcess, path: str) -> str:
    host, port = server.address
    return f"http://{host}:{port}{path}"


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_compressed_gets_the_original_bytes(client_server: ServerProcess) -> None:
    result = subprocess.run(
        [*CURL_COMPRESSED, _url(client_server, "/assets/style.css")],
        capture_output=True,
        timeout=30,
        check=True,
    )
    head, _, body = result.stdout.partition(b"\r\n\r\n")
    assert b"Content-Encoding: gzip" in head
    assert body == CSS


@pytest.mark.skipif(shutil.which("wget") is None, reason="wget is not installed")
def test_wget_mirrors_a_listed_directory(client_server: ServerProcess, tmp_path: Path) -> None:
    subprocess.run(
        [*WGET_MIRROR, "-P", str(tmp_path), _url(client_server, "/files/")],
        timeout=60,
        check=True,
    )
    assert (tmp_path / "files" / "a.txt").read_bytes() == b"a\n"
    assert (tmp_path / "files" / "nested" / "deep.txt").read_bytes() == b"deep\n"
    assert not (tmp_path / "files" / ".hidden").exists()
    assert not (tmp_path / "files" / "out").exists()
