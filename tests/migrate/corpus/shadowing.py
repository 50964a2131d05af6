"""A gevent import shadowed by a parameter, a local and a comprehension variable."""

from gevent import sleep, spawn

sleep(1)  # expect: sleep


def uses_parameter(sleep: object, spawn: object) -> None:
    print(sleep, spawn)


def uses_local() -> None:
    spawn = print
    spawn("local")


def uses_comprehension(items: list) -> list:
    return [sleep for sleep in items]


def still_gevent() -> None:
    spawn(print)  # expect: spawn
