"""A bare aiohttp downloader, the yardstick of `rosetta bench download`: what aiohttp alone
costs, with none of the model's promises (no checks, no .part files, no retries, no summary).

    python -m rosetta.bench.bare_download URLS_FILE OUT_DIR JOBS
"""

from __future__ import annotations

import asyncio
import os
import sys


async def download(urls: list[str], out: str, jobs: int) -> None:
    import aiohttp

    limit = asyncio.Semaphore(jobs)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=jobs)) as session:

        async def fetch(url: str) -> None:
            async with limit, session.get(url) as response:
                body = await response.read()
            with open(os.path.join(out, url.rsplit("/", 1)[1]), "wb") as file:
                file.write(body)

        await asyncio.gather(*(fetch(url) for url in urls))


def main(argv: list[str]) -> int:
    import uvloop

    with open(argv[0]) as listed:
        urls = listed.read().split()
    uvloop.run(download(urls, argv[1], int(argv[2])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
