"""What is said on the wire, once, for every model: sans-I/O (bytes in, events and bytes out).

No socket, selector, event loop or thread is used in this package; the models in `classic/` and
`modern/` are only drivers that move bytes between a socket and these objects.

    echo.py          EchoSession: the echo's one rule
    http.py          HTTPConnection: request bytes in, Request / ProtocolError events out;
                     the head limits (`head_refusal`) every model and adapter shares
    response.py      ResponsePlan: status, header pairs, body; the head rendered once
    static.py        StaticSite: a request event -> a ResponsePlan for a file of the root
    files.py         FileSlice, media types, a file's identity
    conditional.py   304 and Range decisions
    known_files.py   remembered 200 answers, proven still true before each reuse
    download.py      the downloader's plan, fetch steps and retry policy
"""

from __future__ import annotations

# Imported on first use (PEP 562), so that a model needing one module (the downloader's
# `download.py`) does not pay for the HTTP server's.
_HOMES = {
    "EchoSession": "echo",
    "FileChanged": "files",
    "FileSlice": "files",
    "iter_file_slice": "files",
    "HTTPConnection": "http",
    "ProtocolError": "http",
    "Request": "http",
    "head_refusal": "http",
    "ResponsePlan": "response",
    "StaticSite": "static",
}

__all__ = [
    "EchoSession",
    "FileChanged",
    "FileSlice",
    "HTTPConnection",
    "ProtocolError",
    "Request",
    "ResponsePlan",
    "StaticSite",
    "head_refusal",
    "iter_file_slice",
]


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
