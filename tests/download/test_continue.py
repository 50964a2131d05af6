"""The protocol's --continue, checksum and shard decisions on their own, and the options."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rosetta.download.files import LocalError, read_checksums
from rosetta.download.limits import RateLimit, host_of
from rosetta.download.settings import Settings, parse_rate, parse_shard
from rosetta.protocol import names
from rosetta.protocol.download import (
    Fetch,
    GiveUp,
    Job,
    Kind,
    NotModified,
    OnDisk,
    ReadBody,
    RetryPolicy,
    StartAgain,
    skipped,
)
from rosetta.usage import UsageError

JOB = Job(0, "http://h.test/a.bin", "a.bin")
ETAG = '"v1"'


def resuming(part_size: int = 400, validator: str = ETAG) -> Fetch:
    return Fetch(
        JOB._replace(on_disk=OnDisk(part_size=part_size, validator=validator)), RetryPolicy()
    )


def test_a_complete_file_is_skipped_without_a_request_only_under_continue() -> None:
    complete = OnDisk(complete=True, size=10, sha256="ab")
    assert skipped(JOB) is None
    result = skipped(JOB._replace(on_disk=complete))
    assert result is not None and result.ok
    assert (result.outcome, result.bytes, result.resumed_from, result.attempts) == (
        "skipped",
        10,
        10,
        0,
    )
    assert skipped(JOB._replace(on_disk=complete, check_remote=True)) is None
    assert skipped(JOB._replace(on_disk=complete, sha256="cd")) is None  # fetched again


def test_check_remote_asks_if_modified_since_and_skips_on_304() -> None:
    disk = OnDisk(complete=True, size=10, modified="Tue, 01 Dec 2026 12:00:00 GMT")
    fetch = Fetch(JOB._replace(on_disk=disk, check_remote=True), RetryPolicy())
    assert fetch.request_headers() == {"If-Modified-Since": disk.modified}
    assert fetch.on_response(304, None, None) == NotModified()
    assert fetch.result is not None and fetch.result.ok and fetch.result.outcome == "skipped"


def test_a_part_is_resumed_with_range_and_if_range() -> None:
    fetch = resuming()
    assert fetch.request_headers() == {"Range": "bytes=400-", "If-Range": ETAG}
    step = fetch.on_response(206, None, "600", content_range="bytes 400-999/1000", etag=ETAG)
    assert step == ReadBody(600, offset=400, validator=ETAG, keep_part=True)
    assert fetch.on_body_end(1000) is None
    fetch.on_saved(1000, "ff")
    assert fetch.result is not None
    assert (fetch.result.outcome, fetch.result.resumed_from, fetch.result.bytes) == (
        "resumed",
        400,
        1000,
    )


def test_a_200_to_a_range_request_starts_the_part_again_and_records_the_new_validator() -> None:
    fetch = resuming()
    step = fetch.on_response(200, None, "1000", etag='"v2"')
    assert step == ReadBody(1000, offset=0, validator='"v2"', keep_part=True)


@pytest.mark.parametrize(
    ("status", "content_range"), [(206, "bytes 300-999/1000"), (206, None), (416, "bytes */1000")]
)
def test_a_range_that_is_not_the_rest_of_the_part_starts_again(
    status: int, content_range: str | None
) -> None:
    fetch = resuming()
    assert fetch.on_response(status, None, "10", content_range=content_range) == StartAgain()
    assert fetch.request_headers() == {}
    assert fetch.result is None


def test_a_part_without_a_validator_and_a_weak_etag_are_not_resumed() -> None:
    assert resuming(validator="").request_headers() == {}
    fetch = Fetch(JOB._replace(on_disk=OnDisk()), RetryPolicy())
    step = fetch.on_response(
        200, None, "5", etag='W/"weak"', last_modified="Tue, 01 Dec 2026 12:00:00 GMT"
    )
    assert isinstance(step, ReadBody) and step.validator == "Tue, 01 Dec 2026 12:00:00 GMT"
    assert step.modified == 1796126400.0


def test_a_cut_body_under_continue_is_resumed_by_the_retry() -> None:
    fetch = Fetch(JOB._replace(on_disk=OnDisk()), RetryPolicy())
    fetch.on_response(200, None, "1000", etag=ETAG)
    fetch.body_failure(250, Kind.CONNECTION, "reset")
    assert fetch.request_headers() == {"Range": "bytes=250-", "If-Range": ETAG}


def test_a_206_never_asked_for_is_refused() -> None:
    assert isinstance(Fetch(JOB, RetryPolicy(retries=0)).on_response(206, None, "5"), GiveUp)


def test_a_checksum_mismatch_is_final_and_the_part_is_not_kept() -> None:
    fetch = Fetch(JOB._replace(sha256="aa", on_disk=OnDisk()), RetryPolicy(retries=3))
    fetch.on_response(200, None, "4", etag=ETAG)
    step = fetch.on_body_end(4, "bb")
    assert isinstance(step, GiveUp) and step.failure.kind == Kind.CHECKSUM
    assert not fetch.keeps_part
    match = Fetch(JOB._replace(sha256="aa"), RetryPolicy())
    match.on_response(200, None, "4")
    assert match.on_body_end(4, "aa") is None


@given(st.lists(st.text(alphabet="abc/.", max_size=8), max_size=40), st.integers(1, 6))
def test_shards_are_disjoint_and_cover_the_list_whatever_its_order(
    paths: list[str], count: int
) -> None:
    jobs = names.plan([f"http://h.test/{path}" for path in paths])
    shares = [names.shard(jobs, number, count) for number in range(1, count + 1)]
    assert sorted(job.index for share in shares for job in share) == list(range(len(jobs)))
    for job in jobs:
        assert names.shard_of(job.url, count) == names.shard_of(job.url, count)
    reordered = names.plan([f"http://h.test/{path}" for path in reversed(paths)])
    assert sorted(j.url for j in names.shard(reordered, 1, count)) == sorted(
        j.url for j in shares[0]
    )


def test_no_name_is_another_jobs_validator_file() -> None:
    jobs = names.plan(["http://h.test/a", "http://h.test/a.part.validator"])
    assert [job.name for job in jobs] == ["a", "a.part-1.validator"]


def test_rates_shards_and_check_remote_options() -> None:
    assert (parse_rate("500K"), parse_rate("10M"), parse_rate("1.5k"), parse_rate("7")) == (
        512000,
        10485760,
        1536,
        7,
    )
    assert parse_shard(" 2/ 5") == "2/5"
    for bad in ("0/3", "4/3", "1", "a/b"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_shard(bad)
    with pytest.raises(argparse.ArgumentTypeError):
        parse_rate("fast")
    parser = argparse.ArgumentParser()
    Settings.add_arguments(parser)
    with pytest.raises(UsageError, match="needs -c"):
        Settings.from_args(parser.parse_args(["--check-remote"]))
    settings = Settings.from_args(
        parser.parse_args(["-c", "--shard", "2/3", "--limit-rate", "1M", "--per-host", "2"])
    )
    assert Settings.from_args(parser.parse_args(settings.argv())) == settings
    assert (settings.shard_numbers, settings.host_limit, settings.limit_rate) == (
        (2, 3),
        2,
        1 << 20,
    )


def test_the_rate_limit_paces_to_its_rate() -> None:
    limit = RateLimit(1000, now=0.0)
    assert limit.take(500, 0.0) == pytest.approx(0.5)
    assert limit.take(500, 1.0) == pytest.approx(0.0)  # a second at 1000 B/s paid for it
    assert host_of("http://H.test:80/x") == "http://h.test:80"


def test_checksum_lists_in_sha256sum_format(tmp_path: Path) -> None:
    listing = tmp_path / "sums"
    listing.write_text(f"{'A' * 64}  a b.txt\n\n{'b' * 64} *c.bin\n")
    assert read_checksums(listing) == {"a b.txt": "a" * 64, "c.bin": "b" * 64}
    listing.write_text("nonsense\n")
    with pytest.raises(LocalError, match="not a sha256sum line"):
        read_checksums(listing)
