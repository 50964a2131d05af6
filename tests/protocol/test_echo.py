from __future__ import annotations

import pytest

from rosetta.protocol.echo import EchoSession


@pytest.mark.parametrize("chunks", [[b"a"], [b"abc", b"", b"def"], [bytes(range(256)) * 40]])
def test_echo_returns_exactly_what_it_got(chunks: list[bytes]) -> None:
    session = EchoSession()
    replies = []
    for chunk in chunks:
        replies.append(session.receive_data(chunk))
        if session.peer_closed:
            break
    sent = b"".join(chunks[: len(replies)])
    assert b"".join(replies) == sent
    assert session.bytes_echoed == len(sent)


def test_empty_data_means_the_peer_closed() -> None:
    session = EchoSession()
    assert session.receive_data(b"") == b""
    assert session.peer_closed
