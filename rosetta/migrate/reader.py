"""What an expression holds, as far as one file shows: the kind inference of the scanner.

A name holds a kind when an assignment in scope gives it one (a spawn, a pool, a list of
greenlets...), when it is a parameter annotated with a gevent type or defaulting to a gevent
value, or when it is `self` in a class that subclasses a gevent class. An attribute
(`self.pool`, `server.jobs`, a class attribute) holds the kinds its assignments gave it,
looked up through the classes of the file it inherits from. Nothing is guessed from names.
The tree is Python's own (`ast`); `scopes` says what each name is bound to.
"""

from __future__ import annotations

import ast
from collections import defaultdict

from rosetta.migrate.names import (
    ALIAS_PREFIX,
    CLASS_KINDS,
    CLASS_METHODS_MAKING,
    CLASS_PREFIX,
    GREENLET,
    GREENLET_MAP,
    GREENLETS,
    HUB,
    HUB_GETTERS,
    MAKER_KINDS,
    POOL,
    POOL_SPAWNERS,
    THREADPOOL,
    class_of,
)
from rosetta.migrate.scopes import IMPORT, Binding, QualifiedName, Scopes

_SEQUENCES = frozenset(
    {
        "list",
        "set",
        "frozenset",
        "tuple",
        "List",
        "Set",
        "FrozenSet",
        "Tuple",
        "Sequence",
        "MutableSequence",
        "Iterable",
        "Iterator",
        "Collection",
        "MutableSet",
        "AbstractSet",
        "deque",
    }
)
_MAPPINGS = frozenset({"dict", "Dict", "Mapping", "MutableMapping", "defaultdict", "OrderedDict"})
_COPIES = frozenset({"list", "tuple", "set", "frozenset", "sorted", "reversed"})
# What a method of a collection of greenlets hands back.
_FROM_SEQUENCE = {"pop": GREENLET, "popleft": GREENLET, "copy": GREENLETS}
_FROM_MAPPING = {
    "get": GREENLET,
    "pop": GREENLET,
    "setdefault": GREENLET,
    "values": GREENLETS,
    "copy": GREENLET_MAP,
}

Owner = object  # a ClassDef, or (scope, name) for any other object


def _last_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _elements(node: ast.expr) -> list[ast.expr]:
    """The items of a subscript: `x[a, b]` has two, `x[a]` one."""
    return list(node.elts) if isinstance(node, ast.Tuple) else [node]


def pick(kinds: set[str]) -> str | None:
    """One kind from several assignments (None, unknown calls... give none)."""
    return sorted(kinds)[0] if kinds else None


class Reader:
    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self.scopes = Scopes(tree)
        self.parents: dict[ast.AST, ast.AST] = {}
        # Assigned names, parameters, functions (what they return), classes ("class:...").
        self.kinds: dict[ast.AST, str] = {}
        self.attributes: dict[tuple[Owner, str], set[str]] = defaultdict(set)
        self.self_class: dict[ast.arg, ast.ClassDef] = {}  # `self` / `cls` of each method
        self.local_bases: dict[ast.ClassDef, list[ast.ClassDef]] = {}
        self._qualified: dict[ast.AST, set[QualifiedName]] = {}
        self.hub_objects = False  # set by the first pass when the file gets gevent's hub

    # --- names ---

    def imported(self, node: ast.AST) -> set[str]:
        """The imported names `node` may stand for (its local definitions do not count)."""
        root = node
        while isinstance(root, ast.Attribute):
            root = root.value
        if not isinstance(root, ast.Name) or root.id not in self.scopes.imported_names:
            return set()  # most names: nothing of that name is imported anywhere in the file
        return {name.name for name in self.qualified(node) if name.source == IMPORT}

    def qualified(self, node: ast.AST) -> set[QualifiedName]:
        known = self._qualified.get(node)
        if known is None:
            known = self._qualified[node] = self.scopes.qualified(node, self.parents.get(node))
        return known

    def assignments(self, name: ast.Name) -> list[Binding]:
        return self.scopes.bindings(name)

    def class_kind(self, node: ast.expr) -> str | None:
        """The kind of instances of the class `node` names (gevent's or a subclass here)."""
        for name in self.imported(node):
            if name in CLASS_KINDS:
                return CLASS_KINDS[name]
        if isinstance(node, ast.Name):
            for assignment in self.assignments(node):
                kind = self.kinds.get(assignment.node, "")
                if isinstance(assignment.node, ast.ClassDef) and kind.startswith(CLASS_PREFIX):
                    return kind[len(CLASS_PREFIX) :]
        return None

    def local_class(self, node: ast.expr) -> ast.ClassDef | None:
        if isinstance(node, ast.Name):
            for assignment in self.assignments(node):
                if isinstance(assignment.node, ast.ClassDef):
                    return assignment.node
        return None

    # --- annotations ---

    def annotation_kind(self, annotation: ast.expr) -> str | None:
        """`gevent.Greenlet`, `Greenlet | None`, `list[Greenlet]`, `Pool`... as a kind."""
        if isinstance(annotation, ast.Name | ast.Attribute):
            return self.class_kind(annotation)
        if isinstance(annotation, ast.BinOp):  # X | None
            return self.annotation_kind(annotation.left) or self.annotation_kind(annotation.right)
        if not isinstance(annotation, ast.Subscript):
            return None
        inner = [
            self.annotation_kind(element)
            for element in _elements(annotation.slice)
            if not isinstance(element, ast.Slice)
        ]
        wrapper = _last_name(annotation.value) or ""
        if wrapper == "Optional" and inner:
            return inner[0]
        if wrapper == "type" and inner and inner[0] and "-" not in inner[0]:
            return class_of(inner[0])
        if GREENLET not in inner:
            return None
        if wrapper in _MAPPINGS and inner[-1] == GREENLET and inner[0] != GREENLET:
            return GREENLET_MAP
        if wrapper in _SEQUENCES or wrapper in _MAPPINGS:
            return GREENLETS  # a mapping keyed by greenlets iterates over greenlets
        return None

    # --- owners of attributes ---

    def owner(self, node: ast.expr) -> Owner | None:
        """What `node` in `node.attr` stands for, so that its attributes can be remembered."""
        if isinstance(node, ast.Attribute):
            inner = self.owner(node.value)
            return None if inner is None else (inner, node.attr)
        if not isinstance(node, ast.Name):
            return None
        assignments = self.assignments(node)
        for assignment in assignments:
            if isinstance(assignment.node, ast.arg) and assignment.node in self.self_class:
                return self.self_class[assignment.node]
            if isinstance(assignment.node, ast.ClassDef):
                return assignment.node
        if not assignments:
            return None
        return (assignments[0].scope, node.id)

    def attribute_kind(self, owner: Owner, attribute: str) -> str | None:
        seen: set[int] = set()
        pending = [owner]
        while pending:
            current = pending.pop()
            if id(current) in seen:
                continue
            seen.add(id(current))
            kinds = self.attributes.get((current, attribute))
            if kinds:
                return pick(kinds)
            if isinstance(current, ast.ClassDef):
                pending.extend(self.local_bases.get(current, []))
        return None

    # --- expressions ---

    def name_kind(self, name: ast.Name) -> str | None:
        for imported in self.imported(name):
            if imported in CLASS_KINDS:
                return class_of(CLASS_KINDS[imported])
        found: set[str] = set()
        for assignment in self.assignments(name):
            node = assignment.node
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            kind = self.kinds.get(node)
            if kind is None and isinstance(node, ast.arg) and node in self.self_class:
                class_kind = self.kinds.get(self.self_class[node], "")
                if class_kind.startswith(CLASS_PREFIX):
                    kind = class_kind[len(CLASS_PREFIX) :]
            if kind is not None:
                found.add(kind)
        return pick(found)

    def call_kind(self, call: ast.Call) -> str | None:
        func = call.func
        if isinstance(func, ast.Name):
            for assignment in self.assignments(func):
                if isinstance(assignment.node, ast.FunctionDef | ast.AsyncFunctionDef):
                    returned = self.kinds.get(assignment.node)
                    if returned is not None:
                        return returned
            first = _first_argument(call)
            if func.id in _COPIES and first is not None and not self.imported(func):
                copied = self.kind_of(first)
                if copied == GREENLETS:
                    return GREENLETS
        made = self.class_kind(func)
        if made is not None:
            return made
        for name in self.imported(func):
            if name in MAKER_KINDS:
                return MAKER_KINDS[name]
        kind = self.kind_of(func) if isinstance(func, ast.Name) else None
        if kind is not None and kind.startswith(ALIAS_PREFIX):
            target = kind[len(ALIAS_PREFIX) :]
            return CLASS_KINDS.get(target) or MAKER_KINDS.get(target)
        if kind is not None and kind.startswith(CLASS_PREFIX):
            return kind[len(CLASS_PREFIX) :]
        if isinstance(func, ast.Attribute):
            return self._method_result(func)
        return None

    def _method_result(self, func: ast.Attribute) -> str | None:
        method = func.attr
        held = self.kind_of(func.value)
        if held == POOL and method in POOL_SPAWNERS:
            return GREENLET
        if held == HUB:
            return HUB  # hub.loop.child(pid): a watcher of the hub's loop
        if held == GREENLETS:
            return _FROM_SEQUENCE.get(method)
        if held == GREENLET_MAP:
            return _FROM_MAPPING.get(method)
        if held is not None and held.startswith(CLASS_PREFIX):
            return CLASS_METHODS_MAKING.get(held[len(CLASS_PREFIX) :], {}).get(method)
        return None

    def kind_of(self, expr: ast.expr) -> str | None:
        if isinstance(expr, ast.Call):
            return self.call_kind(expr)
        if isinstance(expr, ast.Name):
            return self.name_kind(expr)
        if isinstance(expr, ast.Attribute):
            return self._attribute_expression_kind(expr)
        if isinstance(expr, ast.List | ast.Tuple | ast.Set):
            for element in expr.elts:
                starred = isinstance(element, ast.Starred)
                inner = self.kind_of(element.value if starred else element)  # type: ignore[attr-defined]
                if inner == GREENLET and not starred:
                    return GREENLETS
                if inner == GREENLETS and starred:
                    return GREENLETS
            return None
        if isinstance(expr, ast.ListComp | ast.SetComp | ast.GeneratorExp):
            return GREENLETS if self.kind_of(expr.elt) == GREENLET else None
        if isinstance(expr, ast.Dict):
            values = {
                self.kind_of(value)
                for key, value in zip(expr.keys, expr.values, strict=True)
                if key is not None
            }
            return GREENLET_MAP if GREENLET in values else None
        if isinstance(expr, ast.DictComp):
            return GREENLET_MAP if self.kind_of(expr.value) == GREENLET else None
        if isinstance(expr, ast.Subscript):
            held = self.kind_of(expr.value)
            if held in (GREENLETS, GREENLET_MAP):
                sliced = any(isinstance(item, ast.Slice) for item in _elements(expr.slice))
                return GREENLETS if sliced and held == GREENLETS else GREENLET
            return None
        if isinstance(expr, ast.BoolOp):
            for value in expr.values:
                kind = self.kind_of(value)
                if kind:
                    return kind
            return None
        if isinstance(expr, ast.IfExp):
            return self.kind_of(expr.body) or self.kind_of(expr.orelse)
        if isinstance(expr, ast.NamedExpr):
            return self.kind_of(expr.value)
        return None

    def is_hub(self, expr: ast.expr) -> bool:
        """The hub, its loop or a watcher; a name only if every binding of it says so."""
        if isinstance(expr, ast.Name):
            bindings = self.assignments(expr)
            return bool(bindings) and all(self.kinds.get(b.node) == HUB for b in bindings)
        return isinstance(expr, ast.Call | ast.Attribute) and self.kind_of(expr) == HUB

    def _attribute_expression_kind(self, expr: ast.Attribute) -> str | None:
        made = self.class_kind(expr)
        if made is not None:
            return class_of(made)
        if (
            expr.attr == "threadpool"
            and isinstance(expr.value, ast.Call)
            and self.imported(expr.value.func) & HUB_GETTERS
        ):
            return THREADPOOL
        if self.hub_objects and self.is_hub(expr.value):
            return THREADPOOL if expr.attr == "threadpool" else HUB
        owner = self.owner(expr.value)
        if owner is None:
            return None
        return self.attribute_kind(owner, expr.attr)


def _first_argument(call: ast.Call) -> ast.expr | None:
    """The first argument as written (`*jobs` stands for itself, as `jobs`)."""
    if call.args:
        first = call.args[0]
        return first.value if isinstance(first, ast.Starred) else first
    if call.keywords:
        return call.keywords[0].value
    return None
