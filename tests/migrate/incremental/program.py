"""A gevent program halfway through its migration, run by the test suite.

`fetch_total` is migrated (an async def); `legacy_lookup` is not (it still sleeps with
gevent). The gevent side calls the migrated function through the bridge while another
greenlet keeps ticking; the migrated side calls the legacy function back.
"""

from __future__ import annotations

import asyncio
import sys

import gevent

from rosetta.migrate.bridge import AsyncioThread


async def fetch_total(values: list[int]) -> int:
    await asyncio.sleep(0.05)
    return sum(values)


def legacy_lookup(key: str) -> str:
    gevent.sleep(0.01)
    return key.upper()


async def migrated_caller(bridge: AsyncioThread) -> str:
    return await bridge.call_gevent(legacy_lookup, "abc")


async def failing() -> None:
    raise ValueError("raised on the loop")


def main() -> None:
    if "--patch" in sys.argv:
        from gevent import monkey

        monkey.patch_all()
    bridge = AsyncioThread().start()
    ticks: list[int] = []

    def ticker() -> None:
        for number in range(5):
            gevent.sleep(0.005)
            ticks.append(number)

    try:
        running = gevent.spawn(ticker)
        total = bridge.run(fetch_total([1, 2, 3]))
        ticked_meanwhile = len(ticks)
        name = bridge.run(migrated_caller(bridge))
        try:
            bridge.run(failing())
        except ValueError as error:
            failure = str(error)
        running.join()
        print(total, name, ticked_meanwhile, failure)
    finally:
        bridge.stop()


if __name__ == "__main__":
    main()
