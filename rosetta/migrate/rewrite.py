"""The rewrites that are mechanical once the code around them is `async def`.

Only three idioms qualify: a sleep (`gevent.sleep(x)`, and `time.sleep(x)` in a module that
patched time) becomes `await asyncio.sleep(x)`, and a `gevent.joinall(jobs)` statement becomes
`await asyncio.gather(*jobs, return_exceptions=True)` (joinall never raised the greenlets'
errors; with `raise_error=True` it becomes a plain gather, which raises the first one, as
joinall did). Each is applied only to a whole statement inside an `async def`, where `await` is
legal, and only where `safety` finds nothing that would make the result behave differently
(a gevent timeout around a sleep, greenlets given to gather, a shadowed `asyncio`, a bare
`except` around the new await); everything else is left for a person, with the reason.
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

_SLEEPS = frozenset({"gevent.sleep", "gevent.hub.sleep", "time.sleep"})
_NO_SPACE = cst.SimpleWhitespace("")


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


def plan_for(hit: Hit) -> cst.Await | str:
    """The replacement for the hit's call, or why there is none."""
    if hit.rule not in REWRITABLE or hit.call is None:
        return "no mechanical rewrite"
    if not hit.in_async:
        return "not inside async def (make the function async first)"
    if not hit.is_statement:
        return "not a statement of its own"
    if hit.rule in ("joinall", "joinall-raise-error"):
        return _joinall(hit, hit.call)
    return _sleep(hit, hit.call)


class _Replace(cst.CSTTransformer):
    def __init__(self, replacements: dict[cst.Call, cst.Await]) -> None:
        super().__init__()
        self.replacements = replacements

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        return self.replacements.get(original_node, updated_node)


class _Migrate(CodemodCommand):
    def __init__(self, context: CodemodContext) -> None:
        super().__init__(context)
        self.applied: list[Hit] = []
        self.left: list[tuple[Hit, str]] = []

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        wrapper = self.context.wrapper
        assert wrapper is not None  # set by Codemod.transform_module
        replacements: dict[cst.Call, cst.Await] = {}
        hits = _in_tree(wrapper, analyse(tree.code))
        safety = Safety(wrapper, hits)
        for hit in hits:
            if hit.rule not in REWRITABLE:
                continue
            plan = plan_for(hit)
            if not isinstance(plan, str):
                plan = safety.refusal(hit) or plan
            if isinstance(plan, str):
                self.left.append((hit, plan))
                continue
            assert hit.call is not None
            replacements[hit.call] = plan
            self.applied.append(hit)
            # A relative import it cannot resolve raises ValueError: leave imports alone then.
            with contextlib.suppress(ValueError):
                RemoveImportsVisitor.remove_unused_import_by_node(self.context, hit.call)
        if not replacements:
            return tree
        AddImportsVisitor.add_needed_import(self.context, "asyncio")
        return tree.visit(_Replace(replacements))


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
