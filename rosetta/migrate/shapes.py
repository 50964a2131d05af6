"""The two rewrites that change more than one statement, and the shapes they need.

- A greenlet that is only joined becomes a task: `g = gevent.spawn(f, x)` becomes
  `g = asyncio.create_task(f(x))`, `g.join()` becomes `await asyncio.wait([g])` (join never
  raised the greenlet's error; neither does wait), `g.get()` becomes `await g` (both raise
  it), and `g` may be listed in a `gevent.joinall([...])`, which becomes a gather. `f` must be
  a plain function of this file used nowhere else (it becomes `async def`), the spawn a
  statement of an `async def` outside any loop, and the handle used for nothing else: a
  greenlet that is stored, passed, killed or linked has no task equivalent to write for it.
- A timeout that is caught where it stands becomes `asyncio.timeout`: in
  `try: with gevent.Timeout(s): ... except gevent.Timeout: ...`, where the `try` holds
  nothing but that `with`, the `with` becomes `async with asyncio.timeout(s):` and the
  handler `except TimeoutError:`. A Timeout with an exception of its own, bound with `as`,
  caught under a name, caught further up, or near a handler that would also catch a
  TimeoutError, keeps its gevent form.

Here a candidate is a place of the right shape; `rewrite` keeps the candidates whose
surroundings are rewritten too (every other use of gevent in the converted function, in the
timed block and in the spawning function), and drops the rest with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import (
    Assignment,
    MetadataWrapper,
    ParentNodeProvider,
    PositionProvider,
    ScopeProvider,
)

from rosetta.migrate.safety import dotted_name, exception_names
from rosetta.migrate.uses import Hit

Replace = Callable[[cst.CSTNode], cst.CSTNode]
_TIMEOUT_CLASSES = frozenset({"gevent.Timeout", "gevent.timeout.Timeout"})
# Handlers that would also catch the TimeoutError that asyncio.timeout raises.
_CATCH_TIMEOUT_ERROR = frozenset(
    {"BaseException", "Exception", "OSError", "EnvironmentError", "IOError", "TimeoutError"}
)
_NO_SPACE = cst.SimpleWhitespace("")
_BARE_AWAIT_PARENTS = (cst.Expr, cst.Assign, cst.AnnAssign, cst.Return, cst.Arg, cst.Element)


def asyncio_call(attribute: str, args: list[cst.Arg]) -> cst.Call:
    return cst.Call(
        func=cst.Attribute(value=cst.Name("asyncio"), attr=cst.Name(attribute)), args=args
    )


@dataclass
class Spawn:
    """`handle = gevent.spawn(function, ...)`: the greenlet and every place it is joined."""

    hit: Hit
    handle: str
    function: cst.FunctionDef
    spawner: cst.FunctionDef
    uses: int  # how many times the function is named in the file (each one a spawn)
    joins: list[cst.Call] = field(default_factory=list)  # g.join() statements
    gets: list[cst.Call] = field(default_factory=list)  # g.get() expressions
    joinalls: list[cst.Call] = field(default_factory=list)  # gevent.joinall([..., g, ...])

    def waits(self) -> list[cst.Call]:
        return [*self.joins, *self.gets]


@dataclass
class Timed:
    """`try: with gevent.Timeout(s): ... except gevent.Timeout: ...`."""

    hit: Hit  # the Timeout of the with
    statement: cst.With
    handler: cst.ExceptHandler
    attempt: cst.Try


class Shapes:
    def __init__(self, wrapper: MetadataWrapper, hits: list[Hit]) -> None:
        self.parents: Mapping[cst.CSTNode, cst.CSTNode] = wrapper.resolve(ParentNodeProvider)
        self.scopes = wrapper.resolve(ScopeProvider)
        self.positions = wrapper.resolve(PositionProvider)
        self.hits = hits
        self.timeout_nodes = {id(hit.node) for hit in hits if hit.rule == "timeout"}
        self.joinall_calls = {
            id(hit.call): hit for hit in hits if hit.rule in ("joinall", "joinall-raise-error")
        }

    # --- where things are ---

    def function_of(self, node: cst.CSTNode | None) -> cst.FunctionDef | None:
        current = self.parents.get(node) if node is not None else None
        while current is not None:
            if isinstance(current, cst.FunctionDef):
                return current
            if isinstance(current, cst.Lambda | cst.ClassDef):
                return None
            current = self.parents.get(current)
        return None

    def within(self, node: cst.CSTNode | None, block: cst.CSTNode) -> bool:
        """Whether the node runs as part of block (not in a function defined inside it)."""
        current = self.parents.get(node) if node is not None else None
        while current is not None and not isinstance(current, cst.FunctionDef | cst.Lambda):
            if current is block:
                return True
            current = self.parents.get(current)
        return False

    def _statement(self, node: cst.CSTNode) -> cst.BaseSmallStatement | None:
        """The small statement that is exactly this expression's parent, if alone on its line."""
        parent = self.parents.get(node)
        line = self.parents.get(parent) if parent is not None else None
        if isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1:
            return parent  # type: ignore[return-value]
        return None

    def _in_loop(self, node: cst.CSTNode) -> bool:
        current = self.parents.get(node)
        while current is not None and not isinstance(current, cst.FunctionDef):
            if isinstance(current, cst.For | cst.While):
                return True
            current = self.parents.get(current)
        return False

    # --- spawn ---

    def spawn(self, hit: Hit) -> Spawn | str:
        call = hit.call
        if hit.name != "gevent.spawn" or call is None or call.func is not hit.node:
            return "only a direct gevent.spawn(function, ...) becomes a task"
        statement = self._statement(call)
        if not (
            isinstance(statement, cst.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0].target, cst.Name)
        ):
            return "the greenlet is not assigned to a name of its own (handle = gevent.spawn(...))"
        spawner = self.function_of(call)
        if spawner is None:
            return "not inside async def (make the function async first)"
        if self._in_loop(call):
            return "a spawn in a loop makes several greenlets under one name"
        if not call.args or call.args[0].keyword or call.args[0].star:
            return "the function to run is not the first argument"
        function = self._plain_function(call.args[0].value)
        if isinstance(function, str):
            return function
        handle = statement.targets[0].target.value
        found = Spawn(hit, handle, function, spawner, self._references(function))
        reason = self._uses_of_handle(statement.targets[0].target, found)
        return reason or found

    def _plain_function(self, target: cst.BaseExpression) -> cst.FunctionDef | str:
        name = target.value if isinstance(target, cst.Name) else None
        scope = self.scopes.get(target)
        if name is None or scope is None:
            return "the function to run is not a name defined in this file"
        assignments = list(scope[name])
        only = assignments[0] if len(assignments) == 1 else None
        definition = only.node if isinstance(only, Assignment) else None
        if only is None or not isinstance(definition, cst.FunctionDef):
            return f"{name} is not a function defined once in this file"
        if definition.asynchronous is not None:
            return f"{name} is already async def: gevent.spawn never ran its body"
        if definition.decorators or _Inside(definition.body).yields:
            return f"{name} is decorated or a generator: it cannot simply become async def"
        for access in only.references:
            argument = self.parents.get(access.node)
            call = self.parents.get(argument) if argument is not None else None
            if not (
                isinstance(call, cst.Call)
                and call.args
                and call.args[0] is argument
                and dotted_name(call.func).endswith("spawn")
            ):
                line = self._line(access.node)
                return f"{name} is also used at line {line}: it must stay a plain function"
        return definition

    def _references(self, function: cst.FunctionDef) -> int:
        scope = self.scopes.get(function)
        assignments = scope[function.name.value] if scope is not None else set()
        return sum(len(assignment.references) for assignment in assignments)

    def _uses_of_handle(self, target: cst.Name, found: Spawn) -> str | None:
        scope = self.scopes.get(target)
        assignments = list(scope[found.handle]) if scope is not None else []
        if len(assignments) != 1:
            return f"{found.handle} is assigned more than once"
        for access in assignments[0].references:
            use = self._wait(access.node, found) if access.scope is scope else None
            if use is None:
                line = self._line(access.node)
                return (
                    f"the greenlet {found.handle} is used at line {line} other than by join(), "
                    "get() or joinall([...]): a task behaves differently there"
                )
        if not (found.joins or found.gets or found.joinalls):
            return f"the greenlet {found.handle} is never joined"
        return None

    def _wait(self, name: cst.CSTNode, found: Spawn) -> cst.Call | None:
        parent = self.parents.get(name)
        if isinstance(parent, cst.Attribute) and parent.value is name:
            call = self.parents.get(parent)
            if not isinstance(call, cst.Call) or call.func is not parent or call.args:
                return None
            if parent.attr.value == "join" and isinstance(self._statement(call), cst.Expr):
                found.joins.append(call)
                return call
            if parent.attr.value == "get":
                found.gets.append(call)
                return call
            return None
        if isinstance(parent, cst.Element):
            jobs = self.parents.get(parent)
            argument = self.parents.get(jobs) if jobs is not None else None
            call = self.parents.get(argument) if argument is not None else None
            if isinstance(jobs, cst.List | cst.Tuple) and id(call) in self.joinall_calls:
                found.joinalls.append(call)  # type: ignore[arg-type]
                return call  # type: ignore[return-value]
        return None

    def spawn_replacements(self, found: Spawn) -> dict[cst.CSTNode, Replace]:
        def task(updated: cst.CSTNode) -> cst.CSTNode:
            assert isinstance(updated, cst.Call)
            function, *rest = updated.args
            inner = cst.Call(func=function.value, args=_last_without_comma(rest))
            return asyncio_call("create_task", [cst.Arg(value=inner)])

        def joined(updated: cst.CSTNode) -> cst.CSTNode:
            listed = cst.List([cst.Element(value=cst.Name(found.handle))])
            return cst.Await(expression=asyncio_call("wait", [cst.Arg(value=listed)]))

        def awaited(updated: cst.CSTNode) -> cst.CSTNode:
            return cst.Await(expression=cst.Name(found.handle))

        replacements: dict[cst.CSTNode, Replace] = {found.hit.call: task}
        replacements[found.function] = _made_async
        replacements.update(dict.fromkeys(found.joins, joined))
        for call in found.gets:
            bare = isinstance(self.parents.get(call), _BARE_AWAIT_PARENTS)
            replacements[call] = awaited if bare else _parenthesised(awaited)
        return replacements

    # --- timeout ---

    def timed(self, hit: Hit) -> Timed | str:
        call = hit.call
        item = self.parents.get(call) if call is not None else None
        statement = self.parents.get(item) if item is not None else None
        if not (isinstance(item, cst.WithItem) and isinstance(statement, cst.With)):
            return "only `with gevent.Timeout(seconds):` becomes asyncio.timeout"
        assert call is not None
        if hit.name not in _TIMEOUT_CLASSES or call.func is not hit.node:
            return "only `with gevent.Timeout(seconds):` becomes asyncio.timeout"
        if len(statement.items) != 1 or item.asname is not None:
            return "the Timeout is bound with `as`, or shares its with: it is used as an object"
        if len(call.args) != 1 or call.args[0].keyword or call.args[0].star:
            return "a Timeout with an exception, ref= or keywords has no asyncio.timeout form"
        block = self.parents.get(statement)
        attempt = self.parents.get(block) if block is not None else None
        if not (
            isinstance(attempt, cst.Try) and attempt.body is block and len(attempt.body.body) == 1
        ):
            return (
                "the Timeout is not caught by an `except gevent.Timeout` around this with "
                "alone: asyncio.timeout raises TimeoutError instead"
            )
        handlers = [h for h in attempt.handlers if h.type is not None and self._catches(h.type)]
        if len(handlers) != 1:
            return (
                "the Timeout is not caught by an `except gevent.Timeout` around this with "
                "alone: asyncio.timeout raises TimeoutError instead"
            )
        handler = handlers[0]
        if handler.name is not None:
            return (
                "the caught gevent.Timeout is named: a TimeoutError has none of its "
                "attributes (seconds, exception) and is not a gevent.Timeout"
            )
        for other in attempt.handlers:
            if other is not handler and (
                other.type is None or exception_names(other.type) & _CATCH_TIMEOUT_ERROR
            ):
                return "another handler of this try would also catch the TimeoutError"
        return Timed(hit, statement, handler, attempt)

    def _catches(self, node: cst.BaseExpression) -> bool:
        return id(node) in self.timeout_nodes

    def timed_replacements(self, found: Timed) -> dict[cst.CSTNode, Replace]:
        def timer(updated: cst.CSTNode) -> cst.CSTNode:
            assert isinstance(updated, cst.Call)
            return asyncio_call("timeout", _last_without_comma(list(updated.args)))

        def block(updated: cst.CSTNode) -> cst.CSTNode:
            assert isinstance(updated, cst.With)
            return updated.with_changes(asynchronous=cst.Asynchronous())

        def handler(updated: cst.CSTNode) -> cst.CSTNode:
            assert isinstance(updated, cst.ExceptHandler)
            return updated.with_changes(type=cst.Name("TimeoutError"))

        assert found.hit.call is not None
        return {found.hit.call: timer, found.statement: block, found.handler: handler}

    def _line(self, node: cst.CSTNode) -> int:
        return self.positions[node].start.line

    def awaits_after(self, block: cst.CSTNode, node: cst.CSTNode) -> str | None:
        """An await already in block, after node: there a task runs, and a greenlet did not."""
        start = self.positions[node].start
        for found in _Inside(block).awaits:
            place = self.positions[found].start
            if (place.line, place.column) > (start.line, start.column):
                return (
                    f"an await at line {place.line} runs asyncio code under gevent's hub: "
                    "a task would run there, where the greenlet (or gevent's timer) did not"
                )
        return None

    def calls_gevent(self, block: cst.CSTNode, holders: set[int]) -> str | None:
        """A call, in block, of a function of this file that still uses gevent."""
        for call in _Inside(block).calls:
            scope = self.scopes.get(call)
            assert isinstance(call.func, cst.Name)
            for assignment in scope[call.func.value] if scope is not None else ():
                if isinstance(assignment, Assignment) and id(assignment.node) in holders:
                    return (
                        f"{call.func.value}() at line {self._line(call)} still uses gevent: "
                        "it would block the event loop"
                    )
        return None


def _made_async(updated: cst.CSTNode) -> cst.CSTNode:
    assert isinstance(updated, cst.FunctionDef)
    return updated.with_changes(asynchronous=cst.Asynchronous())


def _parenthesised(build: Replace) -> Replace:
    def wrapped(updated: cst.CSTNode) -> cst.CSTNode:
        node = build(updated)
        assert isinstance(node, cst.Await)
        return node.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])

    return wrapped


def _last_without_comma(args: list[cst.Arg]) -> list[cst.Arg]:
    if not args:
        return args
    return [*args[:-1], args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)]


class _Inside(cst.CSTVisitor):
    """What a block does itself (not the functions defined in it): calls, awaits, yields."""

    def __init__(self, block: cst.CSTNode) -> None:
        self.calls: list[cst.Call] = []  # of a plain name
        self.awaits: list[cst.CSTNode] = []  # await, async with, async for
        self.yields = False
        block.visit(self)

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name):
            self.calls.append(node)

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.Await) or getattr(node, "asynchronous", None) is not None:
            self.awaits.append(node)
        self.yields = self.yields or isinstance(node, cst.Yield)
        if isinstance(node, cst.FunctionDef | cst.Lambda):
            return False
        return super().on_visit(node)
