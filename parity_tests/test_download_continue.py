"""Parity of the download models beyond one clean run: `--continue` (skip, resume, start
again), `--checksums` / `--write-checksums` and `--shard`, each model against the local
fixture server, whose own record (`sent`, `ranges`, `requests`) says what went on the wire.
"""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
from pathlib import Path

import pytest

from parity_tests.test_download import RUN_TIMEOUT, download_server, interrupted_run
from parity_tests.test_download import rosetta_download as rosetta_download
from rosetta import registry
from rosetta.download.report import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK
from rosetta.protocol.download import Kind
from tests.download.fixture_server import LAST_MODIFIED
from tests.download.server_process import FixtureServer, content

__all__ = ["download_server"]  # the module-scoped fixture server, shared with test_download

MODELS = [model.name for model in registry.serving("download")]
BIG = 2_000_000


def run(model: str, directory: Path, urls: list[str], *extra: str) -> tuple[int, dict]:
    done = subprocess.run(
        rosetta_download(model, directory, urls, "--json", *extra),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


def plant_part(directory: Path, name: str, data: bytes, validator: str) -> None:
    """What an interrupted --continue run leaves: NAME.part and its validator beside it."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}.part").write_bytes(data)
    (directory / f"{name}.part.validator").write_text(validator + "\n")


@pytest.mark.parametrize("model", MODELS)
def test_an_interrupted_download_continues_with_only_the_missing_bytes(
    model: str, download_server: FixtureServer, tmp_path: Path
) -> None:
    path = f"/slow/big.bin?size={BIG}&pieces=100&delay=0.03"
    url = download_server.url(path)
    directory = tmp_path / "out"
    part = directory / "big.bin.part"

    def halfway() -> bool:
        return part.exists() and part.stat().st_size >= BIG // 5

    download_server.reset()
    code, _, stderr = interrupted_run(
        rosetta_download(model, directory, [url], "-c", "--json"), halfway, signal.SIGINT
    )
    assert code == EXIT_INTERRUPTED, stderr
    kept = part.stat().st_size  # Ctrl-C under -c keeps the part, and its validator
    assert 0 < kept < BIG
    assert (directory / "big.bin.part.validator").read_text().strip() == f'"big.bin-{BIG}-1"'
    assert not (directory / "big.bin").exists()

    download_server.reset()
    code, document = run(model, directory, [url], "-c")
    stats = download_server.stats()
    assert code == EXIT_OK
    assert (directory / "big.bin").read_bytes() == content("big.bin", BIG)
    assert stats["ranges"] == {"/slow/big.bin": [f"bytes={kept}-"]}
    assert stats["sent"] == {"/slow/big.bin": BIG - kept}  # only the missing bytes
    (result,) = document["results"]
    assert (result["outcome"], result["resumed_from"], result["bytes"]) == ("resumed", kept, BIG)
    assert result["sha256"] == hashlib.sha256(content("big.bin", BIG)).hexdigest()
    assert document["summary"]["resumed"] == 1
    assert document["summary"]["bytes"] == BIG - kept
    assert sorted(p.name for p in directory.iterdir()) == ["big.bin"]

    # Once complete, a rerun skips it without a request, and that is a success.
    download_server.reset()
    code, document = run(model, directory, [url], "-c")
    assert code == EXIT_OK
    assert download_server.stats()["count"] == 0
    assert document["results"][0]["outcome"] == "skipped"
    assert document["summary"]["skipped"] == 1


@pytest.mark.parametrize("model", MODELS)
def test_check_remote_asks_and_skips_what_is_unchanged(
    model: str, download_server: FixtureServer, tmp_path: Path
) -> None:
    url = download_server.url("/files/same.bin?size=5000")
    directory = tmp_path / "out"
    # Saved under -c, its time is the server's Last-Modified, which --check-remote asks with.
    assert run(model, directory, [url], "-c")[0] == EXIT_OK
    download_server.reset()
    code, document = run(model, directory, [url], "-c", "--check-remote")
    stats = download_server.stats()
    assert code == EXIT_OK
    assert stats["requests"] == {"/files/same.bin": 1}
    assert stats["sent"] == {"/files/same.bin": 0}  # 304
    assert document["results"][0]["outcome"] == "skipped"
    assert (directory / "same.bin").read_bytes() == content("same.bin", 5000)


@pytest.mark.parametrize(
    ("query", "why"),
    [("&version=2", "validator no longer matches"), ("&ranges=no", "no ranges")],
    ids=["changed", "no-ranges"],
)
@pytest.mark.parametrize("model", MODELS)
def test_a_part_that_cannot_be_resumed_starts_again(
    model: str, query: str, why: str, download_server: FixtureServer, tmp_path: Path
) -> None:
    size = 300_000
    directory = tmp_path / "out"
    wrong_start = b"x" * 1000  # what a resume would keep; starting again must not
    plant_part(directory, "again.bin", wrong_start, f'"again.bin-{size}-1"')
    download_server.reset()
    code, document = run(
        model, directory, [download_server.url(f"/files/again.bin?size={size}{query}")], "-c"
    )
    assert code == EXIT_OK, why
    assert download_server.stats()["sent"] == {"/files/again.bin": size}
    assert (directory / "again.bin").read_bytes() == content("again.bin", size)
    assert document["results"][0]["outcome"] == "saved"
    assert sorted(p.name for p in directory.iterdir()) == ["again.bin"]


@pytest.mark.parametrize("model", MODELS)
def test_a_planted_part_is_resumed_to_the_same_bytes_as_a_fresh_download(
    model: str, download_server: FixtureServer, tmp_path: Path
) -> None:
    size = 300_000
    data = content("planted.bin", size)
    for validator in (f'"planted.bin-{size}-1"', LAST_MODIFIED):
        directory = tmp_path / validator[:3].strip('"')
        plant_part(directory, "planted.bin", data[:123_456], validator)
        download_server.reset()
        assert (
            run(model, directory, [download_server.url(f"/files/planted.bin?size={size}")], "-c")[0]
            == EXIT_OK
        )
        assert download_server.stats()["sent"] == {"/files/planted.bin": size - 123_456}
        assert (directory / "planted.bin").read_bytes() == data


@pytest.mark.parametrize("model", MODELS)
def test_checksums_are_checked_before_a_file_is_put_in_place(
    model: str, download_server: FixtureServer, tmp_path: Path
) -> None:
    directory = tmp_path / "out"
    sizes = {"good.bin": 1000, "bad.bin": 2000, "unlisted.bin": 3000}
    urls = [download_server.url(f"/files/{name}?size={size}") for name, size in sizes.items()]
    listing = tmp_path / "SHA256SUMS"
    good = hashlib.sha256(content("good.bin", 1000)).hexdigest()
    listing.write_text(f"{good}  good.bin\n{'0' * 64} *bad.bin\n")
    written = tmp_path / "written.sha256"
    code, document = run(
        model, directory, urls, "--checksums", str(listing), "--write-checksums", str(written)
    )
    assert code == EXIT_FAILED
    by_name = {result["name"]: result for result in document["results"]}
    assert by_name["bad.bin"]["kind"] == Kind.CHECKSUM
    assert by_name["bad.bin"]["attempts"] == 1
    assert sorted(p.name for p in directory.iterdir()) == ["good.bin", "unlisted.bin"]
    assert written.read_text().splitlines() == [
        f"{hashlib.sha256(content(name, sizes[name])).hexdigest()}  {name}"
        for name in ("good.bin", "unlisted.bin")
    ]


@pytest.mark.parametrize("model", MODELS)
def test_shards_are_disjoint_cover_the_list_and_name_files_as_the_whole_run(
    model: str, download_server: FixtureServer, tmp_path: Path
) -> None:
    urls = [download_server.url(f"/files/f{n % 7}.bin?size={100 + n}") for n in range(20)]
    whole = run(model, tmp_path / "whole", urls)[1]["results"]
    names: list[str] = []
    for number in (1, 2, 3):
        code, document = run(model, tmp_path / "shards", urls, "--shard", f"{number}/3")
        assert code == EXIT_OK
        names += [result["name"] for result in document["results"]]
    assert sorted(names) == sorted(result["name"] for result in whole)
    assert len(set(names)) == len(urls)
    for result in whole:
        saved = (tmp_path / "shards" / result["name"]).read_bytes()
        assert saved == (tmp_path / "whole" / result["name"]).read_bytes()
