"""rosetta.protocol.download on its own: URLs, names, the plan, retries, redirects."""

from __future__ import annotations

import string

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from rosetta.download.settings import read_url_list
from rosetta.protocol import download as protocol
from rosetta.protocol import names
from rosetta.protocol.download import (
    Fetch,
    FollowRedirect,
    GiveUp,
    Job,
    Kind,
    ReadBody,
    Result,
    RetryAfter,
    RetryPolicy,
)
from rosetta.protocol.names import BadURL


@pytest.mark.parametrize(
    "url",
    [
        "http://example.test/a.bin",
        "https://example.test:8443/dir/",
        "HTTP://EXAMPLE.test/x",
        "http://127.0.0.1:7890/",
        "http://[::1]:7890/x",
    ],
)
def test_fetchable_urls_pass(url: str) -> None:
    assert names.check_url(url) == url


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://example.test/a", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("example.test/a", "scheme"),
        ("javascript:alert(1)", "scheme"),
        ("http:///nohost", "no host"),
        ("http://example.test:99999/", "not a valid URL"),
        ("http://example.test:0/", "port 0"),
        ("http://example.test/a b", "spaces"),
        ("http://example.test/a\x00b", "control"),
        ("", "empty"),
    ],
)
def test_unfetchable_urls_are_refused_with_a_reason(url: str, why: str) -> None:
    with pytest.raises(BadURL, match=why):
        names.check_url(url)


def test_non_ascii_urls_are_made_wire_safe() -> None:
    assert names.check_url("http://bücher.test/café") == "http://xn--bcher-kva.test/caf%C3%A9"
    assert names.check_url("http://h.test/caf%C3%A9") == "http://h.test/caf%C3%A9"


URL_PIECES = st.text(alphabet="aZ09.-_~%:/?#@[]&=+", max_size=12)


@given(
    scheme=st.sampled_from(["http", "https", "HTTP", "Https", "ftp", "http:", ""]),
    authority=URL_PIECES,
    tail=URL_PIECES,
)
def test_the_quick_url_split_agrees_with_urlsplit(scheme: str, authority: str, tail: str) -> None:
    from urllib.parse import urlsplit

    url = f"{scheme}://{authority}{tail}"
    quick = names.split_url(url)
    if quick is None:
        return  # left to urlsplit itself
    parts = urlsplit(url)
    assert quick == (parts.scheme, parts.hostname or "", parts.port, parts.path, parts.query)


@given(
    scheme=st.sampled_from(["http", "https", "HTTP", "Https"]),
    authority=st.text(alphabet="aZ09.-_%:/?#@[]é", max_size=12),
    tail=st.text(alphabet="aZ09.-_%:/?#@ \t\x7fé", max_size=12),
)
@example(scheme="http", authority="h", tail="/a?b/c")
@example(scheme="http", authority="h", tail="?q/x")
@example(scheme="http", authority="h", tail="/a#b/c")
@example(scheme="http", authority="h#f", tail="/x")
@example(scheme="http", authority="h", tail="")
@example(scheme="http", authority="h", tail="/caf\u00e9/x y")
def test_the_last_path_segment_is_the_one_urlsplit_reads(
    scheme: str, authority: str, tail: str
) -> None:
    from urllib.parse import urlsplit

    try:
        url = names.check_url(f"{scheme}://{authority}{tail}")
    except BadURL:
        return  # never named
    assert names._last_segment(url) == urlsplit(url).path.rsplit("/", 1)[-1], url


def test_the_quick_url_split_leaves_the_unusual_to_urlsplit() -> None:
    for url in ("http://[::1]:80/", "http://u@h/", "http://h:99999/", "http://h:x/", "ftp://h/"):
        assert names.split_url(url) is None, url
    assert names.split_url("HTTP://H.test:81/a/b?q=1#f") == ("http", "h.test", 81, "/a/b", "q=1")


def test_url_list_skips_comments_and_blanks_and_names_the_bad_line() -> None:
    text = "# a list\n\nhttp://h.test/a\n   \n  http://h.test/b  \n"
    assert read_url_list(text) == ["http://h.test/a", "http://h.test/b"]
    with pytest.raises(BadURL, match=r"^urls.txt:3: unsupported URL scheme"):
        read_url_list("http://h.test/a\n# fine\nftp://h.test/b\n", "urls.txt")


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("http://h.test/a.bin", "a.bin"),
        ("http://h.test/dir/file.tar.gz?x=1#frag", "file.tar.gz"),
        ("http://h.test/", "index.html"),
        ("http://h.test", "index.html"),
        ("http://h.test/..", "index.html"),
        ("http://h.test/%2e%2e", "index.html"),
        ("http://h.test/x/..%2F..%2Fetc%2Fpasswd", "_.._etc_passwd"),
        ("http://h.test/%2Fetc%2Fpasswd", "_etc_passwd"),
        ("http://h.test/a%5Cb", "a_b"),
        ("http://h.test/caf%C3%A9.txt", "café.txt"),
        ("http://h.test/.bashrc", "bashrc"),
        ("http://h.test/a%0Ab%1B%7F.txt", "a_b__.txt"),
        ("http://h.test/%E2%80%AEtxt.exe", "_txt.exe"),  # right-to-left override
        ("http://h.test/%FF.bin", "\ufffd.bin"),
    ],
)
def test_names_from_urls_are_sanitised(url: str, name: str) -> None:
    assert names.name_from_url(url) == name


def test_long_names_are_shortened_keeping_the_extension() -> None:
    name = names.name_from_url("http://h.test/" + "é" * 300 + ".txt")
    assert len(name.encode()) <= names.MAX_NAME_BYTES
    assert name.endswith(".txt")
    assert name.startswith("é")


def test_plan_de_duplicates_names_and_parts() -> None:
    jobs = protocol.plan(
        [
            "http://h.test/a.txt",
            "http://h.test/b/a.txt",
            "http://h.test/a.txt",
            "http://h.test/a.txt.part",
            "http://h.test/c",
            "http://h.test/c.part",
        ]
    )
    assert [job.name for job in jobs] == [
        "a.txt",
        "a-1.txt",
        "a-2.txt",
        "a.txt-1.part",
        "c",
        "c-1.part",
    ]
    assert [job.index for job in jobs] == list(range(6))
    assert jobs[0].part_name == "a.txt.part"


segments = st.text(
    alphabet=st.sampled_from(string.ascii_letters + "./%\\ \x00\x1f\u202e.é"), max_size=20
)


@given(st.lists(segments, max_size=30))
def test_planned_names_are_always_safe_and_distinct(paths: list[str]) -> None:
    jobs = protocol.plan(["http://h.test/" + path for path in paths])
    names = [job.name for job in jobs]
    everything = names + [job.part_name for job in jobs]
    assert len(set(everything)) == len(everything)
    for name in names:
        assert name not in ("", ".", "..")
        assert not name.startswith(".")
        assert "/" not in name and "\\" not in name
        assert all(char.isprintable() for char in name), name


def test_retry_policy_schedule_and_kinds() -> None:
    policy = RetryPolicy(retries=6, backoff=0.5, max_backoff=8)
    assert policy.schedule() == [0.5, 1, 2, 4, 8, 8]
    for kind in (Kind.CONNECTION, Kind.TIMEOUT, Kind.INCOMPLETE, Kind.SERVER_ERROR):
        assert policy.retryable(kind)
    for kind in (
        Kind.CLIENT_ERROR,
        Kind.TLS,
        Kind.TOO_MANY_REDIRECTS,
        Kind.BAD_REDIRECT,
        Kind.LOCAL,
        Kind.CANCELLED,
    ):
        assert not policy.retryable(kind)


JOB = Job(0, "http://h.test/dir/a.bin", "a.bin")


def test_a_clean_response_is_read_and_saved() -> None:
    fetch = Fetch(JOB, RetryPolicy())
    assert fetch.on_response(200, None, "10") == ReadBody(10)
    assert fetch.on_body_end(10) is None
    fetch.on_saved(10, "ab")
    assert fetch.result == Result(
        url=JOB.url,
        name="a.bin",
        ok=True,
        status=200,
        bytes=10,
        attempts=1,
        final_url=JOB.url,
        sha256="ab",
        outcome="saved",
    )


def test_without_content_length_any_length_is_complete() -> None:
    fetch = Fetch(JOB, RetryPolicy())
    assert fetch.on_response(200, None, None) == ReadBody(None)
    assert fetch.on_body_end(12345) is None
    assert Fetch(JOB, RetryPolicy()).on_response(200, None, "-5") == ReadBody(None)


def test_4xx_is_final_at_once() -> None:
    fetch = Fetch(JOB, RetryPolicy(retries=3))
    step = fetch.on_response(404, None, "9")
    assert isinstance(step, GiveUp)
    assert fetch.result is not None
    assert (fetch.result.ok, fetch.result.kind, fetch.result.attempts) == (
        False,
        Kind.CLIENT_ERROR,
        1,
    )
    assert fetch.result.detail == "HTTP 404 Not Found"


def test_5xx_is_retried_with_backoff_then_given_up() -> None:
    fetch = Fetch(JOB, RetryPolicy(retries=2, backoff=0.25))
    waits = []
    for _ in range(3):
        step = fetch.on_response(503, None, None)
        if isinstance(step, RetryAfter):
            waits.append(step.seconds)
    assert waits == [0.25, 0.5]
    assert isinstance(step, GiveUp)
    assert fetch.result is not None and fetch.result.attempts == 3
    assert fetch.result.reason == "server-error: HTTP 503 Service Unavailable"


def test_short_body_is_incomplete_and_retried() -> None:
    fetch = Fetch(JOB, RetryPolicy(retries=1, backoff=0))
    fetch.on_response(200, None, "100")
    assert isinstance(fetch.on_body_end(40), RetryAfter)
    fetch.on_response(200, None, "100")
    assert isinstance(fetch.on_body_end(40), GiveUp)
    assert fetch.result is not None
    assert fetch.result.kind == Kind.INCOMPLETE
    assert fetch.result.detail == "40 of 100 bytes (connection closed)"


def test_errors_during_the_body_are_incomplete_but_a_timeout_stays_a_timeout() -> None:
    fetch = Fetch(JOB, RetryPolicy(retries=0))
    fetch.on_response(200, None, "100")
    fetch.body_failure(10, Kind.CONNECTION, "Connection reset by peer")
    assert fetch.result is not None
    assert (fetch.result.kind, fetch.result.detail) == (
        Kind.INCOMPLETE,
        "10 of 100 bytes (Connection reset by peer)",
    )
    fetch = Fetch(JOB, RetryPolicy(retries=0))
    fetch.on_response(200, None, None)
    fetch.body_failure(10, Kind.TIMEOUT, "server silent for 1 s")
    assert fetch.result is not None and fetch.result.kind == Kind.TIMEOUT


def test_redirects_are_resolved_counted_and_bounded() -> None:
    fetch = Fetch(JOB, RetryPolicy())
    assert fetch.on_response(301, "../b.bin", None) == FollowRedirect("http://h.test/b.bin")
    assert fetch.on_response(307, "http://other.test/c", None) == FollowRedirect(
        "http://other.test/c"
    )
    for _ in range(protocol.MAX_REDIRECTS - 2):
        assert isinstance(fetch.on_response(302, "/again", None), FollowRedirect)
    step = fetch.on_response(302, "/again", None)
    assert isinstance(step, GiveUp)
    assert step.failure.kind == Kind.TOO_MANY_REDIRECTS


@pytest.mark.parametrize("location", [None, "", "ftp://h.test/x", "file:///etc/passwd"])
def test_bad_redirects_are_refused(location: str | None) -> None:
    fetch = Fetch(JOB, RetryPolicy())
    assert isinstance(fetch.on_response(302, location, None), GiveUp)
    assert fetch.result is not None and fetch.result.kind == Kind.BAD_REDIRECT


def test_304_and_other_3xx_without_redirect_meaning_fail() -> None:
    fetch = Fetch(JOB, RetryPolicy())
    assert isinstance(fetch.on_response(304, "/x", None), GiveUp)
    assert fetch.result is not None and fetch.result.kind == Kind.CLIENT_ERROR


def test_a_retry_starts_again_from_the_given_url() -> None:
    fetch = Fetch(JOB, RetryPolicy(retries=1, backoff=0))
    fetch.on_response(302, "/elsewhere", None)
    assert fetch.url == "http://h.test/elsewhere"
    assert isinstance(fetch.on_response(500, None, None), RetryAfter)
    assert fetch.url == JOB.url and fetch.redirects == 0 and fetch.attempts == 2


def test_cancel_records_a_cancelled_result_once() -> None:
    fetch = Fetch(JOB, RetryPolicy())
    fetch.cancel()
    assert fetch.result is not None and fetch.result.kind == Kind.CANCELLED
    done = Fetch(JOB, RetryPolicy())
    done.on_response(200, None, "1")
    done.on_saved(1)
    done.cancel()
    assert done.result is not None and done.result.ok
