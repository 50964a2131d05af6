"""The download bench's server: static files, each answer held back by a delay in its path.

    python -m rosetta.bench.slowfiles ROOT

`GET /delay/50/f0001.bin` waits 50 ms, then answers ROOT/f0001.bin (keep-alive, aiohttp on
uvloop); `/delay/0/...` answers at once. One server for every latency, so every downloader
meets the same one. Prints `rosetta serve`'s ready line and serves until SIGTERM.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    import uvloop
    from aiohttp import web

    root = Path(argv[0]).resolve()
    files = {path.name: path.read_bytes() for path in root.iterdir() if path.is_file()}

    async def answer(request: web.Request) -> web.Response:
        body = files.get(request.match_info["name"])
        if body is None:
            raise web.HTTPNotFound()
        delay = int(request.match_info["ms"]) / 1000
        if delay:
            await asyncio.sleep(delay)
        return web.Response(body=body, content_type="application/octet-stream")

    app = web.Application()
    app.router.add_get("/delay/{ms:\\d+}/{name}", answer)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(4096)
    print(
        f"rosetta: listening on http://127.0.0.1:{sock.getsockname()[1]} "
        f"(model=slowfiles, pid={os.getpid()})",
        flush=True,
    )
    uvloop.install()
    web.run_app(app, sock=sock, print=None, access_log=None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
