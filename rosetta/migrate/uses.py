"""The second pass of the scanner: every use of gevent or greenlet, each with its rule.

A use is a gevent or greenlet name (through any import), a method of an object whose kind the
first pass knows (`self.pool.spawn(...)`, a bound `g.kill` handed to `atexit.register`), a
`_run` of a Greenlet subclass, or a standard blocking call that monkey patching made
cooperative. Blocking calls are recorded with the category of patch they rely on; whether
the module runs patched is decided later, for the file alone or for the whole program.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from rosetta.migrate.bindings import FUNCTIONS, Bindings, is_false_literal
from rosetta.migrate.indirect import indirect_uses
from rosetta.migrate.names import (
    ALIAS_PREFIX,
    API_RULES,
    CLASS_KINDS,
    CLASS_METHOD_RULES,
    CLASS_PREFIX,
    GREENLET,
    HUB_GETTERS,
    KILL_METHODS,
    METHOD_RULES,
    PATCHED_NAMES,
    POOL,
    RAW_GREENLET,
    SESSION,
    SILENT_TIMEOUTS,
    SOCKET,
    THREADPOOL,
    TIMEOUT,
)
from rosetta.migrate.positions import Positions
from rosetta.migrate.reader import _first_argument
from rosetta.migrate.scopes import full_name


@dataclass(frozen=True)
class Hit:
    """A finding still attached to its syntax tree, for the rewrite.

    `node` and `call` are `ast` nodes; the rewrite puts libcst's nodes in their place.
    """

    rule: str
    name: str
    node: Any
    call: Any
    line: int
    column: int
    in_async: bool
    is_statement: bool
    function: str | None = None  # the enclosing function's qualified name
    category: str | None = None  # for blocking calls: the patch they relied on
    argument_kind: str | None = None  # for joinall: what the jobs are, if known
    # Where the node and the call are (line, column, end line, end column; columns from 0),
    # so that the rewrite can find them again in its own tree.
    span: tuple[int, int, int, int] = (0, 0, 0, 0)
    call_span: tuple[int, int, int, int] | None = None


def is_zero_literal(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float) and node.value == 0


def argument(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    for arg in call.keywords:
        if arg.arg == keyword:
            return arg.value
    positional = []
    for value in call.args:
        if isinstance(value, ast.Starred):  # what follows a *args is not known by position
            break
        positional.append(value)
    return positional[position] if position < len(positional) else None


def _has_star(call: ast.Call) -> bool:
    return any(isinstance(a, ast.Starred) for a in call.args) or any(
        k.arg is None for k in call.keywords
    )


_TASK_KINDS = frozenset({GREENLET, RAW_GREENLET, POOL, THREADPOOL, TIMEOUT})


def _class_method(name: str) -> str | None:
    """`gevent.Greenlet.kill` is the kill rule, not the class rule."""
    owner, _, method = name.rpartition(".")
    kind = CLASS_KINDS.get(owner)
    if kind not in _TASK_KINDS:  # `Semaphore.acquire` keeps the class's own rule
        return None
    return CLASS_METHOD_RULES.get(kind, {}).get(method) or METHOD_RULES.get(kind, {}).get(method)


class Uses(Bindings):
    def __init__(self, tree: ast.Module, positions: Positions) -> None:
        super().__init__(tree)
        self.positions = positions
        self.hits: list[Hit] = []
        self._references: list[tuple[ast.AST, str | None]] = []
        self._functions: list[str] = []
        # Calls whose first argument is a string naming a gevent module or attribute.
        self.strings: list[tuple[ast.Call, ast.Constant, str | None]] = []
        # Loops and `with` items: a loop over a queue gets, a `with` on a lock acquires.
        self.protocols: list[tuple[ast.AST, str | None]] = []

    # --- collection (during the traversal) ---

    def function_name(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
        names = self.qualified(node)
        return min((name.name for name in names), default=node.name)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        super().visit_FunctionDef(node)
        self._functions.append(self.function_name(node))
        self._references.append((node, self._current()))

    def leave_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        super().leave_FunctionDef(node)
        self._functions.pop()

    def _current(self) -> str | None:
        return self._functions[-1] if self._functions else None

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if any(alias.name == "*" for alias in node.names) and node.module is not None:
            module = node.module
            if module.split(".")[0] in ("gevent", "greenlet") and not node.level:
                self.record("other", f"{module}.*", node, None, self._current())

    def visit_binder(self, node: ast.AST) -> None:
        super().visit_binder(node)
        if isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
            self.protocols.append((node, self._current()))

    def visit_withitem(self, node: ast.withitem) -> None:
        super().visit_withitem(node)
        self.protocols.append((node, self._current()))

    def visit_reference(self, node: ast.Name | ast.Attribute) -> None:
        self._references.append((node, self._current()))

    def visit_Call(self, node: ast.Call) -> None:
        super().visit_Call(node)
        first = node.args[0] if node.args else None
        if (
            isinstance(first, ast.Constant)
            and isinstance(first.value, str)
            and first.value.split(".")[0] in ("gevent", "greenlet")
        ):
            self.strings.append((node, first, self._current()))

    # --- classification (after the bindings settled) ---

    def classify(self) -> None:
        self.settle()
        for node, function in self._references:
            if isinstance(node, FUNCTIONS):
                self._method_definition(node, function)
                continue
            assert isinstance(node, ast.Name | ast.Attribute)
            if self._outermost(node) and self._reference(node, function):
                continue
            if isinstance(node, ast.Attribute):
                self._method(node, function)
        indirect_uses(self)

    def record(
        self,
        rule: str,
        name: str,
        node: ast.AST,
        call: ast.Call | None,
        function: str | None,
        category: str | None = None,
        span: tuple[int, int, int, int] | None = None,
    ) -> None:
        span = span or self.positions.span(node)
        line, column = span[0], span[1]
        jobs = rule in ("joinall", "joinall-raise-error")
        statement = call is not None and isinstance(self.parents.get(call), ast.Expr)
        first = _first_argument(call) if jobs and call else None
        self.hits.append(
            Hit(
                rule,
                name,
                node,
                call,
                line,
                column + 1,
                self._in_async(node),
                statement,
                function,
                category,
                self.kind_of(first) if first is not None else None,
                span,
                self.positions.span(call) if call is not None else None,
            )
        )

    def _call_of(self, node: ast.AST) -> ast.Call | None:
        parent = self.parents.get(node)
        return parent if isinstance(parent, ast.Call) and parent.func is node else None

    def _in_async(self, node: ast.AST) -> bool:
        current: ast.AST | None = node
        while current is not None:
            current = self.parents.get(current)
            if isinstance(current, FUNCTIONS):
                return isinstance(current, ast.AsyncFunctionDef)
            if isinstance(current, ast.Lambda | ast.ClassDef):
                return False
        return False

    def _is_base_class(self, node: ast.AST) -> bool:
        parent = self.parents.get(node)
        return isinstance(parent, ast.ClassDef) and any(base is node for base in parent.bases)

    def _outermost(self, node: ast.Name | ast.Attribute) -> bool:
        """The whole of a dotted name: `a.b.c`, not `a.b` inside it nor `f().c` after a call."""
        if isinstance(self.parents.get(node), ast.Attribute):
            return False
        inner: ast.expr = node
        while isinstance(inner, ast.Attribute):
            inner = inner.value
        return isinstance(inner, ast.Name)

    def _reference(self, node: ast.Name | ast.Attribute, function: str | None) -> bool:
        call = self._call_of(node)
        for name in sorted(self.imported(node)):
            rule, category = self._rule_for(name, node, call)
            if rule is not None:
                self.record(rule, name, node, call, function, category)
                return True
        if self.aliases and isinstance(node, ast.Name) and call is not None:
            kind = self.name_kind(node) or ""
            if kind.startswith(ALIAS_PREFIX):  # `def run(timeout=Timeout)`: `timeout(5)`
                name = kind[len(ALIAS_PREFIX) :]
                rule, category = self._rule_for(name, node, call)
                if rule is not None:
                    self.record(rule, name, node, call, function, category)
                    return True
        return False

    def _method(self, node: ast.Attribute, function: str | None) -> None:
        # Once per chain (`hub.loop.io(fd)` once), and not after `get_hub()` (reported as such).
        whole = not isinstance(self.parents.get(node), ast.Attribute)
        if self.hub_objects and whole and not self._gets_hub(node) and self.is_hub(node.value):
            # `hub.loop.destroy()`, `watcher.start(cb)`: gevent's machinery, no asyncio twin.
            span = self.positions.attribute(node)
            self.record("other", f"hub.{node.attr}", node, self._call_of(node), function, span=span)
            return
        if node.attr not in _METHOD_NAMES:
            return
        if any(name.split(".")[0] in ("gevent", "greenlet") for name in self.imported(node)):
            return  # a gevent name of its own, reported as such
        kind = self.kind_of(node.value)
        if kind is None or (kind == THREADPOOL and _is_hub_pool(node.value)):
            return  # `get_hub().threadpool.spawn`: reported once, as hub-threadpool
        method = node.attr
        call = self._call_of(node)
        if kind.startswith(CLASS_PREFIX):
            instances = kind[len(CLASS_PREFIX) :]
            rule = CLASS_METHOD_RULES.get(instances, {}).get(method) or METHOD_RULES.get(
                instances, {}
            ).get(method)
            if rule is None:
                return
            name = f"{full_name(node.value) or '?'}.{method}"
        else:
            rule = METHOD_RULES.get(kind, {}).get(method)
            if rule is None:
                return
            name = f".{method}"
        if call is not None:
            rule = self._variant(rule, method, call)
        # A session's requests cooperated only because sockets were patched.
        category = SOCKET if kind == SESSION else None
        span = self.positions.attribute(node)
        self.record(rule, name, node, call, function, category, span=span)

    def _gets_hub(self, node: ast.expr) -> bool:
        while isinstance(node, ast.Attribute | ast.Call):
            if isinstance(node, ast.Call) and self.imported(node.func) & HUB_GETTERS:
                return True
            node = node.value if isinstance(node, ast.Attribute) else node.func
        return False

    def _method_definition(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, function: str | None
    ) -> None:
        if node.name != "_run":
            return
        above = self.parents.get(node)
        if isinstance(above, ast.ClassDef) and self.kinds.get(above) == CLASS_PREFIX + GREENLET:
            span = self.positions.definition(node)
            self.record("greenlet-run", f"{above.name}._run", node, None, function, span=span)

    def _variant(self, rule: str, method: str, call: ast.Call) -> str:
        """The rule a call's arguments make it: kill(exception), join(raise_error=True)."""
        if method in KILL_METHODS:
            position = 1 if method == "killone" else 0
            exception = argument(call, position, "exception")
            if exception is not None and not _is_greenlet_exit(exception):
                return "kill-exception"
        if rule == "pool-join":
            raise_error = argument(call, 1, "raise_error")
            if raise_error is not None and not is_false_literal(raise_error):
                return "pool-join-raise-error"
        return rule

    def _rule_for(
        self, name: str, node: ast.AST, call: ast.Call | None
    ) -> tuple[str | None, str | None]:
        patched = PATCHED_NAMES.get(name)
        if patched is not None:
            rule, category = patched
            # Only a call (or a class built on a patched class) runs the patched code;
            # `conn: socket.socket` or `Callable[[socket.socket], None]` only name a type.
            if call or self._is_base_class(node):
                return rule, category
            return None, None
        parts = name.split(".")
        if parts[0] not in ("gevent", "greenlet"):
            return None, None
        return self.gevent_rule(name, parts, call), None

    def gevent_rule(self, name: str, parts: list[str], call: ast.Call | None) -> str:
        if name in HUB_GETTERS and call is not None:
            above = self.parents.get(call)
            if isinstance(above, ast.Attribute) and above.attr == "threadpool":
                return "hub-threadpool"
        rule = API_RULES.get(name) or _class_method(name)
        if rule is None:
            rule = next(
                (
                    API_RULES[prefix]
                    for prefix in (".".join(parts[:size]) for size in range(len(parts), 0, -1))
                    if prefix in API_RULES
                ),
                "other",
            )
        if call is None:
            return rule
        if rule == "sleep":
            seconds = argument(call, 0, "seconds")
            if seconds is None and _has_star(call):
                return rule  # gevent.sleep(*delay): the delay is not known
            return "sleep-zero" if seconds is None or is_zero_literal(seconds) else rule
        if rule == "joinall":
            raise_error = argument(call, 2, "raise_error")
            if raise_error is not None and not is_false_literal(raise_error):
                return "joinall-raise-error"
        if rule in ("greenlet-kill", "killall"):
            exception = argument(call, 1, "exception")
            if exception is not None and not _is_greenlet_exit(exception):
                return "kill-exception"
        if rule == "timeout" and any(name.startswith(timeout) for timeout in SILENT_TIMEOUTS):
            exception = argument(call, 1, "exception")
            if isinstance(exception, ast.Constant) and exception.value is False:
                return "timeout-silent"
        return rule


_METHOD_NAMES = frozenset(
    name for table in (*METHOD_RULES.values(), *CLASS_METHOD_RULES.values()) for name in table
)


def _is_hub_pool(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "threadpool"
        and isinstance(node.value, ast.Call)
    )


def _is_greenlet_exit(node: ast.expr) -> bool:
    return (full_name(node) or "").endswith("GreenletExit")
