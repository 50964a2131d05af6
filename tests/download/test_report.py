"""rosetta.download.report: the summary, its lines, exit codes and JSON, the course's lines;
and the console's plain lines, written in batches."""

from __future__ import annotations

import io
import time

from rosetta.download import report
from rosetta.download.console import Reporter
from rosetta.download.report import Summary
from rosetta.protocol.download import Job, Kind, Result, not_started


def results_of_a_run() -> list[Result]:
    return [
        Result("http://h.test/a", "a", ok=True, bytes=1024),
        Result(
            "http://h.test/b", "b", ok=False, kind=Kind.CLIENT_ERROR, detail="HTTP 404 Not Found"
        ),
        Result("http://h.test/c", "c", ok=True, bytes=2048),
        Result("http://h.test/d", "d", ok=False, kind=Kind.TIMEOUT, detail="server silent for 1 s"),
    ]


def test_summary_counts_lists_failures_in_order_and_sets_the_exit_code() -> None:
    summary = Summary.of(results_of_a_run(), 2.0)
    assert (summary.files, summary.failed, summary.cancelled, summary.bytes) == (2, 2, 0, 3072)
    assert summary.exit_code == report.EXIT_FAILED
    assert summary.lines() == [
        "2 of 4 files downloaded, 3.0 KiB in 2.00 s (1.5 KiB/s); 2 failed:",
        "  http://h.test/b: http-error: HTTP 404 Not Found",
        "  http://h.test/d: timeout: server silent for 1 s",
    ]
    document = summary.as_json()
    assert document["failures"] == [
        {
            "url": "http://h.test/b",
            "kind": "http-error",
            "reason": "http-error: HTTP 404 Not Found",
        },
        {"url": "http://h.test/d", "kind": "timeout", "reason": "timeout: server silent for 1 s"},
    ]
    assert Summary.of(results_of_a_run()[::2], 1.0).exit_code == report.EXIT_OK


def test_summary_of_an_interrupted_run() -> None:
    results = [*results_of_a_run()[:1], not_started(Job(1, "http://h.test/z", "z"))]
    summary = Summary.of(results, 1.0)
    assert summary.cancelled == 1 and summary.failed == 0
    assert summary.exit_code == report.EXIT_INTERRUPTED
    assert summary.lines() == [
        "1 of 2 files downloaded, 1.0 KiB in 1.00 s (1.0 KiB/s); interrupted, 1 cancelled"
    ]


def test_json_document_has_every_record_in_input_order() -> None:
    results = results_of_a_run()
    document = report.report_json(results, Summary.of(results, 1.0), "modern.x")
    assert document["model"] == "modern.x"
    assert [record["url"] for record in document["results"]] == [r.url for r in results]  # type: ignore[union-attr]
    assert set(document["results"][0]) == {  # type: ignore[index]
        "url",
        "name",
        "ok",
        "status",
        "bytes",
        "attempts",
        "final_url",
        "kind",
        "detail",
        "sha256",
        "outcome",
        "resumed_from",
    }


def test_course_lines() -> None:
    assert report.course_get_line("http://h.test/a") == "GET: http://h.test/a"
    assert report.course_received_line(12, "http://h.test/a") == (
        "12 bytes received from http://h.test/a."
    )


class CountingStream(io.StringIO):
    """A pipe's stand-in: counts the writes that reach it."""

    writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)

    def isatty(self) -> bool:
        return False


def saved_result(number: int) -> Result:
    name = f"f{number}.bin"
    return Result(f"http://h.test/{name}", name, True, 200, 10, 1, outcome="saved")


def test_plain_lines_come_in_batches_all_in_order_before_the_end() -> None:
    stream = CountingStream()
    with Reporter(100, verbose=False, as_json=False, stream=stream) as reporter:
        for number in range(100):
            reporter.finished(saved_result(number))
    lines = stream.getvalue().splitlines()
    assert lines == [f"saved f{n}.bin (10 B) from http://h.test/f{n}.bin" for n in range(100)]
    assert stream.writes < 10  # not one write a line


def test_a_lone_line_is_written_soon_without_waiting_for_the_next() -> None:
    stream = CountingStream()
    with Reporter(2, verbose=False, as_json=False, stream=stream) as reporter:
        reporter.finished(saved_result(0))
        reporter.finished(saved_result(1))
        deadline = time.monotonic() + 5
        while "f1.bin" not in stream.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert "f1.bin" in stream.getvalue()  # still in the run: the timer wrote it
