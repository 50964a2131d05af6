"""The benchmark instruments build from the package's C sources and measure a real exchange."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from rosetta import instruments, launch


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("instrument-cache")


def test_both_instruments_build_into_the_cache(cache: Path) -> None:
    for name in instruments.SOURCES:
        binary = instruments.build(name, cache=cache)
        assert binary.parent == cache and binary.name.startswith(f"{name}-")
        assert os.access(binary, os.X_OK)
        assert instruments.build(name, cache=cache) == binary  # built once, then reused
    assert not [path for path in cache.iterdir() if path.name.startswith(".")]


def test_a_changed_source_is_rebuilt_under_a_new_name(cache: Path, tmp_path: Path) -> None:
    source = tmp_path / "tiny.c"
    source.write_text("int main(void) { return 3; }\n")
    first = instruments.build("echo_ref", cache=cache, source=source)
    source.write_text("int main(void) { return 4; }\n")
    second = instruments.build("echo_ref", cache=cache, source=source)
    assert first != second
    assert subprocess.run([second]).returncode == 4


def test_a_broken_source_is_one_line_error(cache: Path, tmp_path: Path) -> None:
    source = tmp_path / "broken.c"
    source.write_text("int main(void) { return }\n")
    with pytest.raises(instruments.InstrumentError, match="could not build") as raised:
        instruments.build("echo_load", cache=cache, source=source)
    assert "\n" not in str(raised.value)


def test_no_compiler_is_a_clear_message() -> None:
    with pytest.raises(instruments.InstrumentError, match="install gcc"):
        instruments.find_compiler({"PATH": "/nonexistent"})
    with pytest.raises(instruments.InstrumentError, match=r"\$CC"):
        instruments.find_compiler({"PATH": "/nonexistent", "CC": "no-such-cc"})
    assert instruments.find_compiler({"PATH": os.defpath, "CC": "cc -m64"})[1:] == ["-m64"]


def test_cache_dir_follows_xdg() -> None:
    assert instruments.cache_dir({"XDG_CACHE_HOME": "/x"}) == Path("/x/rosetta")
    home = Path(os.path.expanduser("~"))
    assert instruments.cache_dir({}) == home / ".cache" / "rosetta"


def test_the_load_generator_measures_a_model_and_the_reference(cache: Path) -> None:
    reference = instruments.start_reference(cache=cache)
    try:
        on_reference = instruments.echo_load(
            reference.address, connections=2, size=100, seconds=0.3, cache=cache
        )
    finally:
        assert reference.stop() == 0
    assert on_reference.requests_per_second > 0 and on_reference.errors == 0

    with launch.running("echo", "classic.epoll_server", extra=["-q"]) as server:
        on_model = instruments.echo_load(
            server.address, connections=2, size=3000, seconds=0.3, cache=cache
        )
    assert on_model.requests_per_second > 0 and on_model.errors == 0


def test_a_wrong_echo_counts_as_an_error(cache: Path) -> None:
    """A server that answers with other bytes than it got is not an echo."""
    with launch.running("http", "classic.epoll_server", extra=["-q"]) as server:
        wrong = instruments.echo_load(
            server.address, connections=1, size=200, seconds=0.3, cache=cache
        )
    assert wrong.requests_per_second == 0 and wrong.errors >= 1


def test_the_reference_listens_on_ipv6(cache: Path) -> None:
    reference = instruments.start_reference("::1", cache=cache)
    try:
        assert reference.ready_line.startswith("rosetta: listening on tcp://[::1]:")
        figure = instruments.echo_load(
            reference.address, connections=1, size=10, seconds=0.2, cache=cache
        )
        assert figure.requests_per_second > 0 and figure.errors == 0
    finally:
        reference.stop()
