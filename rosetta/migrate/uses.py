"""The second pass of the scanner: every use of gevent or greenlet, each with its rule.

A use is a gevent or greenlet name (through any import), a method of an object whose kind the
first pass knows (`self.pool.spawn(...)`, a bound `g.kill` handed to `atexit.register`), a
`_run` of a Greenlet subclass, or a standard blocking call that monkey patching made
cooperative. Blocking calls are recorded with the category of patch they rely on; whether
the module runs patched is decided later, for the file alone or for the whole program.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import ParentNodeProvider, PositionProvider

from rosetta.migrate.bindings import Bindings, is_false_literal
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
    SILENT_TIMEOUTS,
    THREADPOOL,
)


@dataclass(frozen=True)
class Hit:
    """A finding still attached to its syntax tree, for the rewrite and the report."""

    rule: str
    name: str
    node: cst.CSTNode
    call: cst.Call | None
    line: int
    column: int
    in_async: bool
    is_statement: bool
    function: str | None = None  # the enclosing function's qualified name
    category: str | None = None  # for blocking calls: the patch they relied on
    argument_kind: str | None = None  # for joinall: what the jobs are, if known


def is_zero_literal(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.Integer | cst.Float):
        try:
            return float(node.value.replace("_", "")) == 0
        except ValueError:
            return False
    return False


def argument(call: cst.Call, position: int, keyword: str) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    positional = []
    for arg in call.args:
        if arg.star:  # what follows a *args is not known by position
            break
        if arg.keyword is None:
            positional.append(arg.value)
    return positional[position] if position < len(positional) else None


def _has_star(call: cst.Call) -> bool:
    return any(arg.star for arg in call.args)


def _class_method(name: str) -> str | None:
    """`gevent.Greenlet.kill` is the kill rule, not the class rule."""
    owner, _, method = name.rpartition(".")
    kind = CLASS_KINDS.get(owner)
    if kind is None:
        return None
    return CLASS_METHOD_RULES.get(kind, {}).get(method) or METHOD_RULES.get(kind, {}).get(method)


class Uses(Bindings):
    def __init__(self) -> None:
        super().__init__()
        self.hits: list[Hit] = []
        self._references: list[tuple[cst.CSTNode, str | None]] = []
        self._functions: list[str] = []

    # --- collection (during the traversal) ---

    def function_name(self, node: cst.FunctionDef) -> str:
        names = self.qualified(node)
        return min((name.name for name in names), default=node.name.value)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        super().visit_FunctionDef(node)
        self._functions.append(self.function_name(node))
        self._references.append((node, self._current()))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        super().leave_FunctionDef(original_node)
        self._functions.pop()

    def _current(self) -> str | None:
        return self._functions[-1] if self._functions else None

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        if isinstance(node.names, cst.ImportStar) and node.module is not None:
            module = get_full_name_for_node(node.module) or ""
            if module.split(".")[0] in ("gevent", "greenlet") and not node.relative:
                self._record("other", f"{module}.*", node, None, self._current())
        return False

    def visit_Name(self, node: cst.Name) -> None:
        self._references.append((node, self._current()))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._references.append((node, self._current()))

    # --- classification (after the bindings settled) ---

    def leave_Module(self, original_node: cst.Module) -> None:
        self.settle()
        for node, function in self._references:
            if isinstance(node, cst.FunctionDef):
                self._method_definition(node, function)
                continue
            assert isinstance(node, cst.Name | cst.Attribute)
            if self._outermost(node) and self._reference(node, function):
                continue
            if isinstance(node, cst.Attribute):
                self._method(node, function)

    def _record(
        self,
        rule: str,
        name: str,
        node: cst.CSTNode,
        call: cst.Call | None,
        function: str | None,
        category: str | None = None,
    ) -> None:
        start = self.get_metadata(PositionProvider, node).start
        jobs = rule in ("joinall", "joinall-raise-error")
        statement = call is not None and isinstance(
            self.get_metadata(ParentNodeProvider, call, None), cst.Expr
        )
        self.hits.append(
            Hit(
                rule,
                name,
                node,
                call,
                start.line,
                start.column + 1,
                self._in_async(node),
                statement,
                function,
                category,
                self.kind_of(call.args[0].value) if jobs and call and call.args else None,
            )
        )

    def _call_of(self, node: cst.CSTNode) -> cst.Call | None:
        parent = self.get_metadata(ParentNodeProvider, node, None)
        return parent if isinstance(parent, cst.Call) and parent.func is node else None

    def _in_async(self, node: cst.CSTNode) -> bool:
        current: cst.CSTNode | None = node
        while current is not None:
            current = self.get_metadata(ParentNodeProvider, current, None)
            if isinstance(current, cst.FunctionDef):
                return current.asynchronous is not None
            if isinstance(current, cst.Lambda | cst.ClassDef):
                return False
        return False

    def _is_base_class(self, node: cst.CSTNode) -> bool:
        parent = self.get_metadata(ParentNodeProvider, node, None)
        above = self.get_metadata(ParentNodeProvider, parent, None) if parent else None
        return (
            isinstance(parent, cst.Arg)
            and isinstance(above, cst.ClassDef)
            and any(base is parent for base in above.bases)
        )

    def _outermost(self, node: cst.Name | cst.Attribute) -> bool:
        """The whole of a dotted name: `a.b.c`, not `a.b` inside it nor `f().c` after a call."""
        parent = self.get_metadata(ParentNodeProvider, node, None)
        if isinstance(parent, cst.Attribute):
            return False
        inner: cst.BaseExpression = node
        while isinstance(inner, cst.Attribute):
            inner = inner.value
        return isinstance(inner, cst.Name)

    def _reference(self, node: cst.Name | cst.Attribute, function: str | None) -> bool:
        call = self._call_of(node)
        for name in sorted(self.imported(node)):
            rule, category = self._rule_for(name, node, call)
            if rule is not None:
                self._record(rule, name, node, call, function, category)
                return True
        if isinstance(node, cst.Name) and call is not None:
            kind = self.name_kind(node) or ""
            if kind.startswith(ALIAS_PREFIX):  # `def run(timeout=Timeout)`: `timeout(5)`
                name = kind[len(ALIAS_PREFIX) :]
                rule, category = self._rule_for(name, node, call)
                if rule is not None:
                    self._record(rule, name, node, call, function, category)
                    return True
        return False

    def _method(self, node: cst.Attribute, function: str | None) -> None:
        if node.attr.value not in _METHOD_NAMES:
            return
        if any(name.split(".")[0] in ("gevent", "greenlet") for name in self.imported(node)):
            return  # a gevent name of its own, reported as such
        kind = self.kind_of(node.value)
        if kind is None or (kind == THREADPOOL and _is_hub_pool(node.value)):
            return  # `get_hub().threadpool.spawn`: reported once, as hub-threadpool
        method = node.attr.value
        call = self._call_of(node)
        if kind.startswith(CLASS_PREFIX):
            instances = kind[len(CLASS_PREFIX) :]
            rule = CLASS_METHOD_RULES.get(instances, {}).get(method) or METHOD_RULES.get(
                instances, {}
            ).get(method)
            if rule is None:
                return
            name = f"{get_full_name_for_node(node.value) or '?'}.{method}"
        else:
            rule = METHOD_RULES.get(kind, {}).get(method)
            if rule is None:
                return
            name = f".{method}"
        if call is not None:
            rule = self._variant(rule, method, call)
        self._record(rule, name, node.attr, call, function)

    def _method_definition(self, node: cst.FunctionDef, function: str | None) -> None:
        if node.name.value != "_run":
            return
        parent = self.get_metadata(ParentNodeProvider, node, None)
        above = self.get_metadata(ParentNodeProvider, parent, None) if parent else None
        if isinstance(above, cst.ClassDef) and self.kinds.get(above) == CLASS_PREFIX + GREENLET:
            self._record("greenlet-run", f"{above.name.value}._run", node.name, None, function)

    def _variant(self, rule: str, method: str, call: cst.Call) -> str:
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
        self, name: str, node: cst.CSTNode, call: cst.Call | None
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
        return self._gevent_rule(name, parts, call), None

    def _gevent_rule(self, name: str, parts: list[str], call: cst.Call | None) -> str:
        if name in HUB_GETTERS and call is not None:
            above = self.get_metadata(ParentNodeProvider, call, None)
            if isinstance(above, cst.Attribute) and above.attr.value == "threadpool":
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
            if isinstance(exception, cst.Name) and exception.value == "False":
                return "timeout-silent"
        return rule


_METHOD_NAMES = frozenset(
    name for table in (*METHOD_RULES.values(), *CLASS_METHOD_RULES.values()) for name in table
)


def _is_hub_pool(node: cst.BaseExpression) -> bool:
    return (
        isinstance(node, cst.Attribute)
        and node.attr.value == "threadpool"
        and isinstance(node.value, cst.Call)
    )


def _is_greenlet_exit(node: cst.BaseExpression) -> bool:
    return (get_full_name_for_node(node) or "").endswith("GreenletExit")
