"""The rewrites that are mechanical once the code around them is `async def`.

Three idioms qualify statement by statement: a sleep (`gevent.sleep(x)`, and `time.sleep(x)`
in a module that patched time) becomes `await asyncio.sleep(x)`, and a `gevent.joinall(jobs)`
statement becomes `await asyncio.gather(*jobs, return_exceptions=True)` (joinall never raised
the greenlets' errors; with `raise_error=True` it becomes a plain gather, which raises the
first one, as joinall did). Each is applied only to a whole statement inside an `async def`,
where `await` is legal, and only where `safety` finds nothing that would make the result
behave differently (a gevent timeout around a sleep, greenlets given to gather, a shadowed
`asyncio`, a bare `except` around the new await). Two more are rewritten in one shape each
(`shapes`): a greenlet that is only joined becomes a task, its function `async def`; a
`with gevent.Timeout` caught right around it becomes `asyncio.timeout`. `_Plan` keeps those
whose surroundings are all rewritten, dropping one at a time until the rest hold together.
Everything else is left for a person, with the reason.
libcst keeps the rest of the file, comments and formatting included, byte for byte;
`import asyncio` is added when needed and imports the rewrite left unused are removed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
from dataclasses import dataclass, field

import libcst as cst
from libcst.codemod import CodemodCommand, CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
from libcst.metadata import PositionProvider

from rosetta.migrate.rules import REWRITABLE
from rosetta.migrate.safety import Safety
from rosetta.migrate.scanner import Hit, Unparsable, analyse
from rosetta.migrate.shapes import Replace, Shapes, Spawn, Timed

_SLEEPS = frozenset({"gevent.sleep", "gevent.hub.sleep", "time.sleep"})
_NO_SPACE = cst.SimpleWhitespace("")
_STARTS = frozenset(
    {"spawn", "spawn-later", "spawn-raw", "greenlet-start", "pool-spawn", "pool-map"}
    | {"pool-imap-unordered"}
)
_WAITS = frozenset({"greenlet-join", "greenlet-get"})


@dataclass
class Rewrite:
    path: str
    before: str
    after: str
    encoding: str
    applied: list[Hit] = field(default_factory=list)
    left: list[tuple[Hit, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def diff(self) -> str:
        return "".join(
            difflib.unified_diff(
                self.before.splitlines(keepends=True),
                self.after.splitlines(keepends=True),
                fromfile=f"a/{self.path}",
                tofile=f"b/{self.path}",
            )
        )


def _keyword(name: str, value: cst.BaseExpression) -> cst.Arg:
    return cst.Arg(
        keyword=cst.Name(name),
        value=value,
        equal=cst.AssignEqual(whitespace_before=_NO_SPACE, whitespace_after=_NO_SPACE),
    )


def _asyncio(attribute: str, args: list[cst.Arg]) -> cst.Await:
    return cst.Await(
        expression=cst.Call(
            func=cst.Attribute(value=cst.Name("asyncio"), attr=cst.Name(attribute)),
            args=args,
        )
    )


def _plain_args(call: cst.Call) -> tuple[list[cst.Arg], dict[str, cst.Arg]] | None:
    """Positional and keyword arguments, or None if *args / **kwargs make them unknowable."""
    positional = [arg for arg in call.args if arg.keyword is None]
    if any(arg.star for arg in call.args):
        return None
    keywords = {arg.keyword.value: arg for arg in call.args if arg.keyword is not None}
    return positional, keywords


def _last_without_comma(args: list[cst.Arg]) -> list[cst.Arg]:
    if not args:
        return args
    return [*args[:-1], args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)]


def _sleep(hit: Hit, call: cst.Call) -> cst.Await | str:
    if hit.name not in _SLEEPS:
        return f"{hit.name} has no mechanical rewrite"
    parts = _plain_args(call)
    if parts is None:
        return "*args or **kwargs in the call"
    positional, keywords = parts
    if set(keywords) - {"seconds"}:
        return "keyword arguments other than seconds (ref= has no asyncio meaning)"
    if "seconds" in keywords:
        seconds = keywords["seconds"]
        positional = [seconds.with_changes(keyword=None, equal=cst.MaybeSentinel.DEFAULT)]
    if not positional:
        positional = [cst.Arg(value=cst.Integer("0"))]
    return _asyncio("sleep", _last_without_comma(positional[:1]))


def _joinall(hit: Hit, call: cst.Call) -> cst.Await | str:
    parts = _plain_args(call)
    if parts is None:
        return "*args or **kwargs in the call"
    positional, keywords = parts
    named = dict(zip(("greenlets", "timeout", "raise_error", "count"), positional, strict=False))
    named.update(keywords)
    if set(named) - {"greenlets", "timeout", "raise_error"} or "greenlets" not in named:
        return "count= (or unknown arguments): use asyncio.wait with return_when"
    timeout = named.get("timeout")
    if timeout is not None and not (
        isinstance(timeout.value, cst.Name) and timeout.value.value == "None"
    ):
        return "a timeout: use asyncio.wait(tasks, timeout=...), which does not cancel"
    jobs = named["greenlets"].value
    if isinstance(jobs, cst.List | cst.Tuple) and all(
        isinstance(element, cst.Element) for element in jobs.elements
    ):
        args = [cst.Arg(value=element.value) for element in jobs.elements]
    else:
        args = [cst.Arg(value=jobs, star="*")]
    if hit.rule == "joinall":
        args.append(_keyword("return_exceptions", cst.Name("True")))
    return _asyncio("gather", _last_without_comma(args))


def plan_for(hit: Hit, in_async: bool | None = None) -> cst.Await | str:
    """The replacement for the hit's call, or why there is none."""
    if hit.rule not in REWRITABLE or hit.call is None:
        return "no mechanical rewrite"
    if not (hit.in_async if in_async is None else in_async):
        return "not inside async def (make the function async first)"
    if not hit.is_statement:
        return "not a statement of its own"
    if hit.rule in ("joinall", "joinall-raise-error"):
        return _joinall(hit, hit.call)
    return _sleep(hit, hit.call)


class _Replace(cst.CSTTransformer):
    def __init__(self, replacements: dict[cst.CSTNode, Replace]) -> None:
        super().__init__()
        self.replacements = replacements

    def on_leave(
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode | cst.RemovalSentinel | cst.FlattenSentinel[cst.CSTNode]:
        build = self.replacements.get(original_node)
        return updated_node if build is None else build(updated_node)


def _fixed(node: cst.CSTNode) -> Replace:
    return lambda _: node


class _Migrate(CodemodCommand):
    def __init__(self, context: CodemodContext) -> None:
        super().__init__(context)
        self.applied: list[Hit] = []
        self.left: list[tuple[Hit, str]] = []

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        wrapper = self.context.wrapper
        assert wrapper is not None  # set by Codemod.transform_module
        hits = _in_tree(wrapper, analyse(tree.code))
        plan = _Plan(hits, Safety(wrapper, hits), Shapes(wrapper, hits))
        plan.settle()
        replacements: dict[cst.CSTNode, Replace] = {}
        touched: list[cst.CSTNode] = []
        for hit, result in plan.plans:
            if isinstance(result, str):
                self.left.append((hit, result))
                continue
            assert hit.call is not None
            replacements[hit.call] = _fixed(result)
            touched.append(hit.call.func)
            self.applied.append(hit)
        for spawn in plan.spawns.values():
            replacements.update(plan.shapes.spawn_replacements(spawn))
            touched.append(spawn.hit.call.func)
            self.applied.append(spawn.hit)
        for timed in plan.timed.values():
            replacements.update(plan.shapes.timed_replacements(timed))
            touched += [timed.hit.call.func, timed.handler.type]
            self.applied.append(timed.hit)
        self.left += plan.notes()
        self.left.sort(key=lambda note: (note[0].line, note[0].column))
        self.applied.sort(key=lambda hit: (hit.line, hit.column))
        if not replacements:
            return tree
        # One look-up per distinct name replaced: each look-up walks the whole module.
        for node in {tree.code_for_node(node): node for node in touched}.values():
            # A relative import it cannot resolve raises ValueError: leave imports alone then.
            with contextlib.suppress(ValueError):
                RemoveImportsVisitor.remove_unused_import_by_node(self.context, node)
        AddImportsVisitor.add_needed_import(self.context, "asyncio")
        return tree.visit(_Replace(replacements))


class _Plan:
    """Which rewrites hold together: each spawn and timeout kept needs its surroundings done."""

    def __init__(self, hits: list[Hit], safety: Safety, shapes: Shapes) -> None:
        self.hits, self.safety, self.shapes = hits, safety, shapes
        self.where = {id(hit): shapes.function_of(hit.call or hit.node) for hit in hits}
        self.holders = {id(self.where[id(hit)]) for hit in hits if self.where[id(hit)]}
        self.waits = {id(hit.call): hit for hit in hits if hit.rule in _WAITS and hit.call}
        self.by_function: dict[int, list[Hit]] = {}
        for hit in hits:
            self.by_function.setdefault(id(self.where[id(hit)]), []).append(hit)
        self.converted: set[int] = set()
        self.applied_calls: set[int] = set()
        self.refused: dict[int, tuple[Hit, str]] = {}
        self.spawns: dict[int, Spawn] = {}
        self.timed: dict[int, Timed] = {}
        for hit in hits:
            shape: Spawn | Timed | str | None = None
            if hit.rule == "spawn":
                shape = shapes.spawn(hit)
            elif hit.rule == "timeout" and hit.call is not None:
                shape = shapes.timed(hit)
            if isinstance(shape, Spawn):
                self.spawns[id(hit)] = shape
            elif isinstance(shape, Timed):
                self.timed[id(hit)] = shape
            elif shape is not None:
                self.refused[id(hit)] = (hit, shape)
        self.plans: list[tuple[Hit, cst.Await | str]] = []

    def in_async(self, hit: Hit) -> bool:
        function = self.where[id(hit)]
        return hit.in_async or (function is not None and id(function) in self.converted)

    def settle(self) -> None:
        while True:
            self._plan()
            done = {id(hit.node) for hit, result in self.plans if not isinstance(result, str)}
            for spawn in self.spawns.values():
                done.add(id(spawn.hit.node))
                waits = (self.waits.get(id(call)) for call in spawn.waits())
                done.update(id(wait.node) for wait in waits if wait is not None)
            for timed in self.timed.values():
                done.update((id(timed.hit.node), id(timed.handler.type)))
            dropped = False
            for table, check in ((self.spawns, self._spawn), (self.timed, self._timed)):
                for key, shape in list(table.items()):
                    reason = check(shape, done)  # type: ignore[operator]
                    if reason:
                        del table[key]
                        self.refused[key] = (shape.hit, reason)
                        dropped = True
            if not dropped:
                return

    def _plan(self) -> None:
        self.converted = {id(spawn.function) for spawn in self.spawns.values()}
        self.safety.exempt = {id(t.statement) for t in self.timed.values()}
        self.safety.exempt |= {id(t.attempt) for t in self.timed.values()}
        joined: dict[int, int] = {}
        for spawn in self.spawns.values():
            for call in spawn.joinalls:
                joined[id(call)] = joined.get(id(call), 0) + 1
        self.safety.task_joinalls = {
            key for key, count in joined.items() if count == _jobs(self.shapes, key)
        }
        self.plans = []
        for hit in self.hits:
            if hit.rule not in REWRITABLE:
                continue
            result = plan_for(hit, self.in_async(hit))
            if not isinstance(result, str):
                result = self.safety.refusal(hit) or self._greenlets_beside(hit) or result
            self.plans.append((hit, result))
        self.applied_calls = {
            id(hit.call) for hit, result in self.plans if isinstance(result, cst.Await)
        }

    def _greenlets_beside(self, hit: Hit) -> str | None:
        """A greenlet started in the same function would not run while the new await waits."""
        function = self.where[id(hit)]
        if function is None:
            return None
        for other in self.by_function[id(function)]:
            if other.rule in _STARTS and id(other) not in self.spawns:
                return (
                    f"a greenlet started at line {other.line} in this function stays one: "
                    "it would not run while the new await waits"
                )
        return None

    def _stays(self, block: cst.CSTNode, done: set[int], whole: bool) -> str | None:
        function = block if whole else self.shapes.function_of(block)
        for hit in self.by_function.get(id(function), []):
            if (whole or self.shapes.within(hit.node, block)) and id(hit.node) not in done:
                return f"{hit.name} at line {hit.line} stays gevent: it would block the event loop"
        return self.shapes.calls_gevent(block, self.holders)

    def _spawn(self, spawn: Spawn, done: set[int]) -> str | None:
        if not self.in_async(spawn.hit):
            return "not inside async def (make the function async first)"
        name = spawn.function.name.value
        if sum(other.function is spawn.function for other in self.spawns.values()) < spawn.uses:
            return f"{name} is also spawned where the greenlet stays: it must stay a plain function"
        for call in spawn.joinalls:
            if id(call) not in self.safety.task_joinalls or id(call) not in self.applied_calls:
                return f"the joinall that waits for {spawn.handle} stays as it is"
        for call in spawn.waits():
            cancels = call in spawn.gets
            reason = self.safety.await_refusal(call, True, spawn.hit.function, cancels)
            if reason:
                return f"{spawn.handle} is waited for {reason}"
        return (
            self.safety.shadowed(spawn.hit.call)
            or self.shapes.awaits_after(spawn.spawner.body, spawn.hit.call)
            or self._stays(spawn.function, done, whole=True)
            or self._stays(spawn.spawner, done, whole=True)
        )

    def _timed(self, timed: Timed, done: set[int]) -> str | None:
        if not self.in_async(timed.hit):
            return "not inside async def (make the function async first)"
        return (
            self.safety.await_refusal(timed.statement, True, timed.hit.function)
            or self.shapes.awaits_after(timed.statement.body, timed.statement)
            or self._stays(timed.statement.body, done, whole=False)
        )

    def notes(self) -> list[tuple[Hit, str]]:
        return [(hit, reason) for hit, reason in self.refused.values() if self.in_async(hit)]


def _jobs(shapes: Shapes, call_id: int) -> int:
    hit = shapes.joinall_calls[call_id]
    jobs = hit.call.args[0].value if hit.call is not None and hit.call.args else None
    return len(jobs.elements) if isinstance(jobs, cst.List | cst.Tuple) else -1


def _in_tree(wrapper: cst.MetadataWrapper, hits: list[Hit]) -> list[Hit]:
    """The scanner's hits (found in Python's own tree), on the nodes of libcst's tree."""
    nodes: dict[tuple[int, int, int, int], list[cst.CSTNode]] = {}
    for node, place in wrapper.resolve(PositionProvider).items():
        if isinstance(node, cst.Name | cst.Attribute | cst.Call | cst.FunctionDef):
            span = (place.start.line, place.start.column, place.end.line, place.end.column)
            nodes.setdefault(span, []).append(node)

    def find(span: tuple[int, int, int, int] | None, kind: type) -> cst.CSTNode | None:
        return next((node for node in nodes.get(span, []) if isinstance(node, kind)), None)  # type: ignore[arg-type]

    placed = []
    for hit in hits:
        call = find(hit.call_span, cst.Call)
        node = find(hit.span, cst.Name | cst.Attribute) or hit.node  # type: ignore[arg-type]
        placed.append(dataclasses.replace(hit, node=node, call=call))
    return placed


def parse(source: bytes | str) -> cst.Module:
    try:
        return cst.parse_module(source)
    except cst.ParserSyntaxError as error:
        raise Unparsable(f"syntax error at line {error.raw_line}: {error.message}") from None
    except (UnicodeDecodeError, LookupError, SyntaxError, ValueError, RecursionError) as error:
        raise Unparsable(f"cannot parse: {error}") from None


def rewrite_source(source: bytes | str, path: str = "<string>") -> Rewrite:
    """The rewritten text of one file; raises scanner.Unparsable."""
    module = parse(source)
    migrate = _Migrate(CodemodContext(filename=path))
    result = migrate.transform_module(module)
    return Rewrite(path, module.code, result.code, module.encoding, migrate.applied, migrate.left)
