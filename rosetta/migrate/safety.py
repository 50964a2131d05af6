"""When a mechanical rewrite would change what the code does: the rewrite refuses, and says why.

- a sleep under a gevent timeout (`with gevent.Timeout(...)`, a started Timeout in the same
  function, an `except gevent.Timeout` around it): gevent's timer cannot interrupt
  `await asyncio.sleep`, so the timeout would silently never fire;
- a joinall over greenlets made by gevent.spawn: gather cannot await a greenlet (TypeError);
- a name `asyncio` in scope that is not the asyncio module: the inserted call would use it;
- a bare `except:` (or `except BaseException`) around the new await: it would now swallow the
  task's cancellation, which asyncio.timeout, TaskGroup and shutdown rely on.
"""

from __future__ import annotations

from collections.abc import Mapping

import libcst as cst
from libcst.metadata import Assignment, MetadataWrapper, ParentNodeProvider, ScopeProvider

from rosetta.migrate.names import GREENLET, GREENLETS
from rosetta.migrate.uses import Hit

_TIMEOUT_RULES = frozenset({"timeout", "timeout-silent", "timeout-start"})
_SLEEP_RULES = frozenset({"sleep", "sleep-zero", "patched-time-sleep"})


class Safety:
    def __init__(self, wrapper: MetadataWrapper, hits: list[Hit]) -> None:
        self.parents: Mapping[cst.CSTNode, cst.CSTNode] = wrapper.resolve(ParentNodeProvider)
        self.scopes = wrapper.resolve(ScopeProvider)
        self.timeout_nodes = {id(hit.node) for hit in hits if hit.rule in _TIMEOUT_RULES}
        self.timed_functions = {
            hit.function for hit in hits if hit.rule == "timeout-start" and hit.function
        }
        # Set by the rewrite: the `with gevent.Timeout` blocks (and their try) that become
        # asyncio.timeout, and the joinall calls whose jobs all become tasks.
        self.exempt: set[int] = set()
        self.task_joinalls: set[int] = set()

    def _ancestors(self, node: cst.CSTNode) -> list[cst.CSTNode]:
        """From the node up to (and including) its function."""
        found = []
        current = self.parents.get(node)
        while current is not None:
            found.append(current)
            if isinstance(current, cst.FunctionDef | cst.Lambda | cst.ClassDef):
                break
            current = self.parents.get(current)
        return found

    def _holds_timeout(self, node: cst.CSTNode | None) -> bool:
        while isinstance(node, cst.Call | cst.Attribute):
            if id(node) in self.timeout_nodes:
                return True
            node = node.func if isinstance(node, cst.Call) else node.value
        return node is not None and id(node) in self.timeout_nodes

    def _line(self, hit: Hit) -> str:
        return f"line {hit.line}"

    def refusal(self, hit: Hit) -> str | None:
        assert hit.call is not None
        joinall = hit.rule in ("joinall", "joinall-raise-error")
        if (
            joinall
            and hit.argument_kind in (GREENLET, GREENLETS)
            and id(hit.call) not in self.task_joinalls
        ):
            return "the jobs are greenlets (gevent.spawn): gather cannot await them"
        waits = hit.rule in _SLEEP_RULES or joinall
        return self.await_refusal(hit.call, waits, hit.function, cancels=joinall)

    def await_refusal(
        self, node: cst.CSTNode, waits: bool, function: str | None, cancels: bool = False
    ) -> str | None:
        """Why a new await (that waits, or only yields) at node could behave differently.

        `cancels`: cancelling the await cancels the tasks it waits for (gather, `await task`).
        """
        chain = self._ancestors(node)
        previous: cst.CSTNode = node
        for ancestor in chain:
            if cancels and isinstance(ancestor, cst.With) and id(ancestor) in self.exempt:
                return (
                    "under a timeout: asyncio.timeout would cancel the tasks it waits for, "
                    "where gevent's timeout left the greenlets running"
                )
            if waits and id(ancestor) not in self.exempt:
                reason = self._timeout_around(ancestor)
                if reason:
                    return reason
            if isinstance(ancestor, cst.Try) and _in_body(ancestor, previous):
                for handler in ancestor.handlers:
                    if handler.type is None or exception_names(handler.type) & {"BaseException"}:
                        return (
                            "a bare except (or except BaseException) around it would swallow "
                            "the task's cancellation"
                        )
            previous = ancestor
        if waits and function in self.timed_functions:
            return "a gevent.Timeout is started in this function: it cannot interrupt an await"
        return self.shadowed(node)

    def _timeout_around(self, ancestor: cst.CSTNode) -> str | None:
        if isinstance(ancestor, cst.With) and any(
            self._holds_timeout(item.item) for item in ancestor.items
        ):
            return "under a gevent.Timeout, which cannot interrupt an await (it would never fire)"
        if isinstance(ancestor, cst.Try) and any(
            handler.type is not None and self._holds_timeout(handler.type)
            for handler in ancestor.handlers
        ):
            return "inside a try that catches gevent.Timeout, which cannot interrupt an await"
        return None

    def shadowed(self, call: cst.CSTNode) -> str | None:
        scope = self.scopes.get(call)
        if scope is None:
            return None
        for assignment in scope["asyncio"]:
            if not isinstance(assignment, Assignment):
                continue
            node = assignment.node
            if isinstance(node, cst.Import) and any(
                alias.asname is None and dotted_name(alias.name) == "asyncio"
                for alias in node.names
            ):
                continue
            return "a name asyncio in scope is not the asyncio module: the new call would use it"
        return None


def _in_body(statement: cst.Try, child: cst.CSTNode) -> bool:
    return child is statement.body


def dotted_name(node: cst.BaseExpression) -> str:
    """`a.b.c` for a name or an attribute chain, "" for anything else."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{dotted_name(node.value)}.{node.attr.value}"
    return ""


def exception_names(node: cst.BaseExpression) -> set[str]:
    """The last part of each name an `except` clause lists (`Timeout` of `gevent.Timeout`)."""
    if isinstance(node, cst.Tuple):
        return {dotted_name(element.value).rsplit(".", 1)[-1] for element in node.elements}
    return {dotted_name(node).rsplit(".", 1)[-1]}
