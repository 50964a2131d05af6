"""`send_plan`, how the blocking family sends an answer: a file that changed since it was
chosen ends the connection (FileChanged, which the conversation takes for the client going),
never with a head whose body cannot follow, never with a traceback."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from classic._conversation import send_plan
from rosetta.protocol.files import FileChanged, FileSlice
from rosetta.protocol.response import ResponsePlan

HEAD = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"


def _plan(path: Path, length: int = 10) -> ResponsePlan:
    return ResponsePlan(200, (), FileSlice(str(path), 0, length), True, HEAD)


def _sent(server: socket.socket, client: socket.socket) -> bytes:
    server.close()
    return client.recv(1 << 16)


def test_a_file_removed_before_its_body_ends_the_connection_with_nothing_sent(
    tmp_path: Path,
) -> None:
    server, client = socket.socketpair()
    with client:
        with pytest.raises(FileChanged):
            send_plan(server, _plan(tmp_path / "gone.bin"))
        assert _sent(server, client) == b""


def test_a_file_shorter_than_promised_ends_after_its_bytes(tmp_path: Path) -> None:
    (tmp_path / "short.bin").write_bytes(b"12345")
    server, client = socket.socketpair()
    with client:
        with pytest.raises(FileChanged):
            send_plan(server, _plan(tmp_path / "short.bin"))
        assert _sent(server, client) == HEAD + b"12345"


def test_a_whole_file_is_sent_after_its_head(tmp_path: Path) -> None:
    (tmp_path / "whole.bin").write_bytes(b"0123456789")
    server, client = socket.socketpair()
    with client:
        send_plan(server, _plan(tmp_path / "whole.bin"))
        assert _sent(server, client) == HEAD + b"0123456789"
