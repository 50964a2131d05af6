"""Uses of gevent that are not a gevent name in the code: a string, a loop, a `with`.

- a dotted string that names gevent where Python resolves it (`mock.patch("gevent.socket.
  socket")`, `monkeypatch.setattr("gevent.sleep", ...)`, `importlib.import_module(...)`): the
  test or the loader must follow the migration;
- a loop over a followed gevent queue (a blocking get() per item: asyncio.Queue is not
  iterable);
- a `with` on a followed gevent lock or semaphore (it becomes `async with`).
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from rosetta.migrate.names import QUEUE, SEMAPHORE

if TYPE_CHECKING:
    from rosetta.migrate.uses import Uses

# Functions whose first argument names a module or an attribute by its dotted path.
_STRING_TARGETS = frozenset(
    {
        "mock.patch",
        "unittest.mock.patch",
        "mock.patch.dict",
        "unittest.mock.patch.dict",
        "importlib.import_module",
        "importlib.__import__",
        "pkgutil.resolve_name",
    }
)


def indirect_uses(uses: Uses) -> None:
    for call, string, function in uses.strings:
        _string_target(uses, call, string, function)
    for node, function in uses.protocols:
        if isinstance(node, ast.withitem):
            if uses.kind_of(node.context_expr) == SEMAPHORE:
                uses.record("semaphore", "with lock", node.context_expr, None, function)
        elif uses.kind_of(node.iter) == QUEUE:
            uses.record("queue", "for ... in queue", node.iter, None, function)


def _string_target(uses: Uses, call: ast.Call, string: ast.Constant, function: str | None) -> None:
    """`mock.patch("gevent.socket.socket")`, `import_module("gevent.monkey")`: real uses."""
    func = call.func
    named = uses.imported(func) & _STRING_TARGETS
    if not named and isinstance(func, ast.Name) and func.id == "__import__":
        named = {"__import__"}
    if not named and isinstance(func, ast.Attribute) and func.attr in ("setattr", "delattr"):
        named = {"monkeypatch"}  # pytest's monkeypatch: setattr takes an object otherwise
    if not named:
        return
    name = string.value
    if not all(part.isidentifier() for part in name.split(".")):
        return
    rule = uses.gevent_rule(name, name.split("."), None)
    uses.record(rule, name, string, None, function)
