"""The first pass of the scanner: what each name, parameter and attribute holds.

The traversal only collects the statements that bind something; `settle` then replays them
until nothing changes (a binding may depend on one later in the file: a method that reads
`self.pool` comes before the `start()` that assigns it). It also records where the file
monkey-patches, and whether that happens on import, in a function, or under
`if __name__ == "__main__":`.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst
from libcst.metadata import ClassScope, PositionProvider, ScopeProvider

from rosetta.migrate.names import (
    ALIAS_PREFIX,
    ALL_CATEGORIES,
    API_RULES,
    CLASS_PREFIX,
    GREENLET,
    GREENLET_MAP,
    GREENLETS,
    PATCH_ALL,
    PATCH_ALL_KEYWORDS,
    PATCH_CATEGORIES,
    POOL,
    RAW_GREENLET,
    TIMEOUT,
    class_of,
)
from rosetta.migrate.reader import Reader

_ADDERS = {"append": GREENLET, "add": GREENLET, "appendleft": GREENLET, "insert": GREENLET}
_EXTENDERS = {"extend": GREENLETS, "update": GREENLETS}
# Holders that are not collections: adding to them is not adding to a list.
_NOT_COLLECTIONS = frozenset({POOL, GREENLET, RAW_GREENLET, TIMEOUT})
_ROUNDS = 6


@dataclass(frozen=True)
class Patch:
    line: int
    categories: frozenset[str]
    where: str  # "import" (module level), "main" (under the __main__ guard), "function"


def is_false_literal(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value in ("False", "None")


def _is_main_guard(node: cst.If) -> bool:
    test = node.test
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    sides = [test.left, test.comparisons[0].comparator]
    names = {side.value for side in sides if isinstance(side, cst.Name)}
    strings = {side.evaluated_value for side in sides if isinstance(side, cst.SimpleString)}
    return names == {"__name__"} and strings == {"__main__"}


class Bindings(Reader):
    def __init__(self) -> None:
        super().__init__()
        self.patches: list[Patch] = []
        self.main_guard = False
        self._binders: list[cst.CSTNode] = []
        self._depth = 0  # functions we are inside
        self._guards = 0  # __main__ guards we are inside

    # --- collection ---

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._binders.append(node)
        for statement in node.body.body:
            if isinstance(statement, cst.FunctionDef) and statement.params.params:
                decorators = {_name(d.decorator) for d in statement.decorators}
                if "staticmethod" not in decorators:
                    self.self_class[statement.params.params[0]] = node

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._depth += 1
        self._binders.append(node)
        self._binders.extend(node.params.params)
        self._binders.extend(node.params.kwonly_params)
        self._binders.extend(node.params.posonly_params)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._depth -= 1

    def visit_If(self, node: cst.If) -> None:
        if _is_main_guard(node):
            self.main_guard = True
            self._guards += 1

    def leave_If(self, original_node: cst.If) -> None:
        if _is_main_guard(original_node):
            self._guards -= 1

    def visit_Assign(self, node: cst.Assign) -> None:
        self._binders.append(node)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._binders.append(node)

    def visit_For(self, node: cst.For) -> None:
        self._binders.append(node)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._binders.append(node)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._binders.append(node)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._binders.append(node)

    def visit_Call(self, node: cst.Call) -> None:
        if (
            isinstance(node.func, cst.Attribute)
            and node.args
            and (node.func.attr.value in _ADDERS or node.func.attr.value in _EXTENDERS)
        ):
            self._binders.append(node)
        for name in self.imported(node.func):
            self._note_patch(name, node)

    def _note_patch(self, name: str, call: cst.Call) -> None:
        categories = PATCH_CATEGORIES.get(name, frozenset())
        if name == PATCH_ALL:
            switched_off = {
                PATCH_ALL_KEYWORDS[arg.keyword.value]
                for arg in call.args
                if arg.keyword is not None
                and arg.keyword.value in PATCH_ALL_KEYWORDS
                and is_false_literal(arg.value)
            }
            categories = ALL_CATEGORIES - switched_off
        if not categories:
            return
        where = "main" if self._guards else "function" if self._depth else "import"
        line = self.get_metadata(PositionProvider, call).start.line
        self.patches.append(Patch(line, frozenset(categories), where))

    @property
    def patched(self) -> frozenset[str]:
        return frozenset().union(*(patch.categories for patch in self.patches))

    # --- settling ---

    def settle(self) -> None:
        for _ in range(_ROUNDS):
            before = (len(self.kinds), sum(map(len, self.attributes.values())))
            for node in self._binders:
                self._bind_node(node)
            if (len(self.kinds), sum(map(len, self.attributes.values()))) == before:
                break

    def _bind_node(self, node: cst.CSTNode) -> None:
        if isinstance(node, cst.Assign):
            for target in node.targets:
                self.bind(target.target, node.value)
        elif isinstance(node, cst.AnnAssign):
            declared = self.annotation_kind(node.annotation.annotation)
            if declared is not None:
                self.bind_kind(node.target, declared)
            elif node.value is not None:
                self.bind(node.target, node.value)
        elif isinstance(node, cst.For | cst.CompFor):
            if self.kind_of(node.iter) in (GREENLETS, POOL):  # a Group iterates its members
                self.bind_kind(node.target, GREENLET)
        elif isinstance(node, cst.WithItem) and node.asname is not None:
            self.bind(node.asname.name, node.item)
        elif isinstance(node, cst.NamedExpr):
            self.bind(node.target, node.value)
        elif isinstance(node, cst.Param):
            self._bind_param(node)
        elif isinstance(node, cst.FunctionDef):
            if node.returns is not None:
                kind = self.annotation_kind(node.returns.annotation)
                if kind is not None:
                    self.kinds[node] = kind
        elif isinstance(node, cst.ClassDef):
            self._bind_class(node)
        elif isinstance(node, cst.Call):
            self._bind_collection_call(node)

    def _bind_param(self, node: cst.Param) -> None:
        kind = None
        if node.annotation is not None:
            kind = self.annotation_kind(node.annotation.annotation)
        if kind is None and node.default is not None:
            kind = self.kind_of(node.default)
            if kind is not None and kind.startswith(CLASS_PREFIX):
                kind = None  # a class default is remembered by name, below
            names = sorted(name for name in self.imported(node.default) if name in API_RULES)
            if kind is None and names:
                kind = ALIAS_PREFIX + names[0]
        if kind is not None:
            self.kinds[node] = kind

    def _bind_class(self, node: cst.ClassDef) -> None:
        bases = []
        for base in node.bases:
            made = self.class_kind(base.value)
            if made is not None and node not in self.kinds:
                self.kinds[node] = class_of(made)
            local = self.local_class(base.value)
            if local is not None:
                bases.append(local)
        self.local_bases[node] = bases

    def _bind_collection_call(self, node: cst.Call) -> None:
        func = node.func
        assert isinstance(func, cst.Attribute)
        method = func.attr.value
        wanted = _ADDERS.get(method) or _EXTENDERS.get(method)
        if wanted is None or self.kind_of(func.value) in _NOT_COLLECTIONS:
            return
        if self.kind_of(node.args[-1].value) == wanted:
            self.bind_kind(func.value, GREENLETS)

    # --- binding ---

    def bind(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if isinstance(target, cst.Tuple | cst.List):
            if isinstance(value, cst.Tuple | cst.List) and len(target.elements) == len(
                value.elements
            ):
                for target_element, value_element in zip(
                    target.elements, value.elements, strict=True
                ):
                    if isinstance(target_element, cst.Element) and isinstance(
                        value_element, cst.Element
                    ):
                        self.bind(target_element.value, value_element.value)
            return
        kind = self.kind_of(value)
        if kind is not None:
            self.bind_kind(target, kind)

    def bind_kind(self, target: cst.BaseExpression, kind: str) -> None:
        if isinstance(target, cst.Name):
            assignments = self.assignments(target)
            if kind == GREENLETS and self.kinds.get(target) is None:
                for assignment in assignments:  # `jobs = []` ... `jobs.append(spawn())`
                    if isinstance(assignment.node, cst.Name):
                        self.kinds[assignment.node] = kind
            self.kinds[target] = kind
            scope = self.get_metadata(ScopeProvider, target, None)
            if isinstance(scope, ClassScope) and isinstance(scope.node, cst.ClassDef):
                self.attributes[(scope.node, target.value)].add(kind)
        elif isinstance(target, cst.Attribute):
            owner = self.owner(target.value)
            if owner is not None:
                self.attributes[(owner, target.attr.value)].add(kind)
        elif (
            isinstance(target, cst.Subscript)
            and kind == GREENLET
            and self.kind_of(target.value) not in (GREENLETS, GREENLET_MAP)
        ):
            # `jobs[key] = gevent.spawn(...)`: a dict (or list) of greenlets.
            self.bind_kind(target.value, GREENLET_MAP)


def _name(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return ""
