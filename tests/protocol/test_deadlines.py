"""The deadlines every model keeps, computed once: from accept for the first head, from the
first byte for later ones, a silent close when idle on keep-alive, 0 for off."""

from __future__ import annotations

from http import HTTPStatus

from rosetta.protocol.deadlines import IdleDeadline, Limits, ReadDeadline, remaining
from rosetta.protocol.http import HTTPConnection

LIMITS = Limits(header=10, keepalive=5, send=30, idle=300, grace=2)


def test_the_first_head_is_due_header_seconds_after_accept() -> None:
    deadline = ReadDeadline(LIMITS, now=100.0)
    assert deadline.until == 110.0
    assert deadline.expired() is not None
    assert deadline.expired().status == HTTPStatus.REQUEST_TIMEOUT


def test_bytes_of_the_same_head_never_move_its_deadline() -> None:
    conn = HTTPConnection()
    deadline = ReadDeadline(LIMITS, now=0.0)
    for second, byte in enumerate(b"GET / HTTP/1.1\r\nHost: x\r\n"):
        conn.receive_data(bytes([byte]))
        deadline.update(float(second), conn.in_message)
        assert deadline.until == 10.0


def test_after_an_answer_the_keep_alive_wait_is_silent_then_a_new_head_has_its_own() -> None:
    conn = HTTPConnection()
    deadline = ReadDeadline(LIMITS, now=0.0)
    conn.receive_data(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert len(list(conn.events())) == 1
    deadline.update(1.0, conn.in_message)
    assert deadline.until == 6.0
    assert deadline.expired() is None  # closed silently
    conn.receive_data(b"GET /next HTTP/1.1\r\n")
    deadline.update(4.0, conn.in_message)
    assert deadline.until == 14.0
    assert deadline.expired() is not None


def test_every_request_answered_restarts_the_keep_alive_wait() -> None:
    conn = HTTPConnection()
    deadline = ReadDeadline(LIMITS, now=0.0)
    for second in (1.0, 4.0, 8.0):  # never 5 seconds idle: never closed
        conn.receive_data(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert len(list(conn.events())) == 1
        deadline.update(second, conn.in_message)
        assert deadline.until == second + 5.0


def test_answered_restarts_the_keep_alive_wait_when_the_answer_is_out() -> None:
    deadline = ReadDeadline(LIMITS, now=0.0)
    deadline.update(1.0, in_message=False)
    deadline.answered(20.0)
    assert deadline.until == 25.0


def test_zero_turns_a_deadline_off() -> None:
    off = Limits(header=0, keepalive=0, send=0, idle=0)
    deadline = ReadDeadline(off, now=0.0)
    assert deadline.until is None
    deadline.update(1.0, in_message=False)
    assert deadline.until is None
    assert IdleDeadline(off, now=0.0).until is None
    assert off.send_timeout is None
    assert remaining(None, 5.0) is None


def test_echo_idle_moves_with_every_byte() -> None:
    idle = IdleDeadline(LIMITS, now=0.0)
    assert idle.until == 300.0
    idle.update(42.0)
    assert idle.until == 342.0
    assert remaining(idle.until, 400.0) == 0.0
