"""rosetta.download.files: NAME.part, the length check, the rename, and nothing partial left.

`finish` below is what every driver does at the clean end of a body: the protocol decides
whether it is complete, the part file is committed, and the fetch records the result.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from rosetta.download import files
from rosetta.download.files import LocalError, PartFile, prepare_directory
from rosetta.protocol.download import Fetch, GiveUp, Job, Kind, RetryPolicy, Step

NO_RETRY = RetryPolicy(retries=0)


def fetch_for(name: str, content_length: str | None) -> Fetch:
    fetch = Fetch(Job(0, f"http://h.test/{name}", name), NO_RETRY)
    fetch.on_response(200, None, content_length)
    return fetch


def part_for(directory: Path, fetch: Fetch) -> PartFile:
    return PartFile(directory, fetch.job)


def finish(fetch: Fetch, part: PartFile) -> Step | None:
    step = fetch.on_body_end(part.received)
    if step is not None:
        return step  # short of Content-Length: never committed
    try:
        saved = part.commit()
    except LocalError as error:
        return fetch.on_error(Kind.LOCAL, str(error))
    fetch.on_saved(*saved)
    return None


def test_a_complete_body_is_renamed_into_place(tmp_path: Path) -> None:
    fetch = fetch_for("a.bin", "6")
    with part_for(tmp_path, fetch) as part:
        part.write(b"abc")
        assert (tmp_path / "a.bin.part").read_bytes() == b"abc"
        assert not (tmp_path / "a.bin").exists()
        part.write(b"def")
        assert finish(fetch, part) is None
    assert [path.name for path in tmp_path.iterdir()] == ["a.bin"]
    assert (tmp_path / "a.bin").read_bytes() == b"abcdef"
    assert fetch.result is not None and fetch.result.ok
    assert fetch.result.sha256 == hashlib.sha256(b"abcdef").hexdigest()


def test_without_digests_nothing_is_hashed_and_the_bytes_are_the_same(tmp_path: Path) -> None:
    fetch = fetch_for("a.bin", "6")
    with PartFile(tmp_path, fetch.job, sha256=False) as part:
        part.write(b"abc")
        part.write(memoryview(b"xdefx")[1:4])
        assert part.sha256 == ""
        assert part.finish(fetch) is None
    assert (tmp_path / "a.bin").read_bytes() == b"abcdef"
    assert fetch.result is not None and fetch.result.ok and fetch.result.sha256 == ""


def test_a_short_body_leaves_neither_file_nor_part(tmp_path: Path) -> None:
    fetch = fetch_for("a.bin", "10")
    with part_for(tmp_path, fetch) as part:
        part.write(b"abc")
        assert isinstance(finish(fetch, part), GiveUp)
    assert list(tmp_path.iterdir()) == []
    assert fetch.result is not None and fetch.result.kind == Kind.INCOMPLETE


@pytest.mark.parametrize("error", [ConnectionResetError, KeyboardInterrupt, SystemExit])
def test_any_way_out_removes_the_part(tmp_path: Path, error: type[BaseException]) -> None:
    with pytest.raises(error), part_for(tmp_path, fetch_for("a.bin", None)) as part:
        part.write(b"abc")
        raise error
    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_is_never_replaced_by_a_partial_one(tmp_path: Path) -> None:
    (tmp_path / "a.bin").write_bytes(b"the old, complete file")
    fetch = fetch_for("a.bin", "100")
    with part_for(tmp_path, fetch) as part:
        part.write(b"half")
        finish(fetch, part)
    assert (tmp_path / "a.bin").read_bytes() == b"the old, complete file"
    with pytest.raises(ConnectionError), part_for(tmp_path, fetch_for("a.bin", None)) as part:
        part.write(b"half")
        raise ConnectionError
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a.bin"]
    assert (tmp_path / "a.bin").read_bytes() == b"the old, complete file"


def test_an_existing_file_is_replaced_by_a_complete_one(tmp_path: Path) -> None:
    (tmp_path / "a.bin").write_bytes(b"old")
    fetch = fetch_for("a.bin", "3")
    with part_for(tmp_path, fetch) as part:
        part.write(b"new")
        assert finish(fetch, part) is None
    assert (tmp_path / "a.bin").read_bytes() == b"new"


def test_a_stale_part_or_a_planted_symlink_is_replaced_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"keep me")
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.bin.part").symlink_to(victim)
    (out / "b.bin.part").write_bytes(b"left by a killed run")
    for name in ("a.bin", "b.bin"):
        fetch = fetch_for(name, "3")
        with part_for(out, fetch) as part:
            part.write(b"new")
            assert finish(fetch, part) is None
        assert (out / name).read_bytes() == b"new"
        assert not (out / name).is_symlink()
    assert victim.read_bytes() == b"keep me"
    assert sorted(path.name for path in out.iterdir()) == ["a.bin", "b.bin"]


def test_a_directory_in_the_way_is_a_local_failure(tmp_path: Path) -> None:
    (tmp_path / "a.bin").mkdir()
    fetch = fetch_for("a.bin", "3")
    with part_for(tmp_path, fetch) as part:
        part.write(b"abc")
        assert isinstance(finish(fetch, part), GiveUp)
    assert fetch.result is not None and fetch.result.kind == Kind.LOCAL
    assert "cannot rename to a.bin" in fetch.result.detail
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a.bin"]


def test_discard_all_removes_parts_still_open(tmp_path: Path) -> None:
    fetch = fetch_for("a.bin", None)
    part = part_for(tmp_path, fetch)
    part.__enter__()
    part.write(b"abc")
    assert files.discard_all() == [tmp_path / "a.bin.part"]
    assert list(tmp_path.iterdir()) == []
    assert finish(fetch, part) is not None  # the rename finds nothing: a local failure, no file
    part.__exit__(None, None, None)
    assert list(tmp_path.iterdir()) == []


def test_prepare_directory(tmp_path: Path) -> None:
    assert prepare_directory(tmp_path / "x" / "y") == tmp_path / "x" / "y"
    assert (tmp_path / "x" / "y").is_dir()
    (tmp_path / "file").write_text("")
    with pytest.raises(LocalError):
        prepare_directory(tmp_path / "file")
