"""rosetta.download.settings: the options of a run, to argv and back; the URL list."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rosetta.download.settings import MAX_JOBS, MAX_RETRIES, Settings, gather_urls
from rosetta.protocol.download import RetryPolicy
from rosetta.usage import UsageError


def parse(argv: list[str]) -> Settings:
    parser = argparse.ArgumentParser()
    Settings.add_arguments(parser)
    return Settings.from_args(parser.parse_args(argv))


def test_defaults_are_the_documented_ones() -> None:
    settings = parse([])
    assert settings == Settings()
    assert (settings.output, settings.limit, settings.timeout) == (Path("."), 16, 30.0)
    assert settings.policy == RetryPolicy(retries=3, backoff=0.5)
    assert not settings.as_json and not settings.verbose
    assert settings.argv() == [
        "--output=.",
        "--jobs=16",
        "--timeout=30.0",
        "--retries=3",
        "--backoff=0.5",
    ]


@given(
    output=st.sampled_from([".", "out", "/tmp/a b", "dir/with-dash", "--looks-like-a-flag"]),
    limit=st.integers(1, MAX_JOBS),
    timeout=st.floats(0.001, 3600),
    retries=st.integers(0, MAX_RETRIES),
    backoff=st.floats(0, 60),
    as_json=st.booleans(),
    verbose=st.booleans(),
)
def test_argv_parses_back_into_the_same_settings(
    output: str,
    limit: int,
    timeout: float,
    retries: int,
    backoff: float,
    as_json: bool,
    verbose: bool,
) -> None:
    settings = Settings(Path(output), limit, timeout, retries, backoff, as_json, verbose)
    assert parse(settings.argv()) == settings
    assert parse(settings.argv()).policy == settings.policy


def test_short_flags_set_the_same_fields() -> None:
    assert parse(["-o", "x", "-j", "4", "-v"]) == Settings(Path("x"), limit=4, verbose=True)
    assert parse(["-o", "~/x"]).output == Path("~/x").expanduser()


def test_urls_from_arguments_then_the_list(tmp_path: Path) -> None:
    listing = tmp_path / "urls.txt"
    listing.write_text("# a list\n\nhttp://h.test/b\n")
    assert gather_urls(["http://h.test/a"], listing) == ["http://h.test/a", "http://h.test/b"]
    with pytest.raises(UsageError, match="no URLs given"):
        gather_urls([], None)
    with pytest.raises(UsageError, match="unsupported URL scheme"):
        gather_urls(["ftp://h.test/a"], None)
    with pytest.raises(UsageError, match="input file not found"):
        gather_urls([], tmp_path / "missing.txt")
