"""What an expression holds, as far as one file shows: the kind inference of the scanner.

A name holds a kind when an assignment in scope gives it one (a spawn, a pool, a list of
greenlets...), when it is a parameter annotated with a gevent type or defaulting to a gevent
value, or when it is `self` in a class that subclasses a gevent class. An attribute
(`self.pool`, `server.jobs`, a class attribute) holds the kinds its assignments gave it,
looked up through the classes of the file it inherits from. Nothing is guessed from names.
"""

from __future__ import annotations

from collections import defaultdict

import libcst as cst
from libcst.metadata import (
    Assignment,
    ParentNodeProvider,
    PositionProvider,
    QualifiedName,
    QualifiedNameSource,
    ScopeProvider,
)

from rosetta.migrate.names import (
    ALIAS_PREFIX,
    CLASS_KINDS,
    CLASS_METHODS_MAKING,
    CLASS_PREFIX,
    GREENLET,
    GREENLET_MAP,
    GREENLETS,
    HUB_GETTERS,
    MAKER_KINDS,
    POOL,
    POOL_SPAWNERS,
    THREADPOOL,
    class_of,
)

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


def _last_name(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return None


def pick(kinds: set[str]) -> str | None:
    """One kind from several assignments (None, unknown calls... give none)."""
    return sorted(kinds)[0] if kinds else None


class Reader(cst.CSTVisitor):
    # Qualified names are looked up through the scopes, only for names whose root is bound
    # by an import: libcst's QualifiedNameProvider computes them for every node, which was
    # most of the scanner's time.
    METADATA_DEPENDENCIES = (ScopeProvider, PositionProvider, ParentNodeProvider)

    def __init__(self) -> None:
        super().__init__()
        # Assigned names, parameters, functions (what they return), classes ("class:...").
        self.kinds: dict[cst.CSTNode, str] = {}
        self.attributes: dict[tuple[Owner, str], set[str]] = defaultdict(set)
        self.self_class: dict[cst.Param, cst.ClassDef] = {}  # `self` / `cls` of each method
        self.local_bases: dict[cst.ClassDef, list[cst.ClassDef]] = {}
        self._qualified: dict[cst.CSTNode, set[QualifiedName]] = {}

    # --- names ---

    def imported(self, node: cst.CSTNode) -> set[str]:
        """The imported names `node` may stand for (its local definitions do not count)."""
        return {
            name.name for name in self.qualified(node) if name.source is QualifiedNameSource.IMPORT
        }

    def qualified(self, node: cst.CSTNode) -> set[QualifiedName]:
        known = self._qualified.get(node)
        if known is not None:
            return known
        found: set[QualifiedName] = set()
        root = node
        while isinstance(root, cst.Attribute):
            root = root.value
        if isinstance(root, cst.Name) or isinstance(node, cst.FunctionDef | cst.ClassDef):
            scope = self.get_metadata(ScopeProvider, node, None)
            if scope is not None:
                try:
                    found = set(scope.get_qualified_names_for(node))
                except Exception:  # a node libcst cannot place
                    found = set()
        self._qualified[node] = found
        return found

    def assignments(self, name: cst.Name) -> list[Assignment]:
        scope = self.get_metadata(ScopeProvider, name, None)
        if scope is None:
            return []
        try:
            found = scope[name.value]
        except Exception:  # a name libcst cannot place (rare: odd class scopes)
            return []
        return [item for item in found if isinstance(item, Assignment)]

    def class_kind(self, node: cst.BaseExpression) -> str | None:
        """The kind of instances of the class `node` names (gevent's or a subclass here)."""
        for name in self.imported(node):
            if name in CLASS_KINDS:
                return CLASS_KINDS[name]
        if isinstance(node, cst.Name):
            for assignment in self.assignments(node):
                kind = self.kinds.get(assignment.node, "")
                if isinstance(assignment.node, cst.ClassDef) and kind.startswith(CLASS_PREFIX):
                    return kind[len(CLASS_PREFIX) :]
        return None

    def local_class(self, node: cst.BaseExpression) -> cst.ClassDef | None:
        if isinstance(node, cst.Name):
            for assignment in self.assignments(node):
                if isinstance(assignment.node, cst.ClassDef):
                    return assignment.node
        return None

    # --- annotations ---

    def annotation_kind(self, annotation: cst.BaseExpression) -> str | None:
        """`gevent.Greenlet`, `Greenlet | None`, `list[Greenlet]`, `Pool`... as a kind."""
        if isinstance(annotation, cst.Name | cst.Attribute):
            return self.class_kind(annotation)
        if isinstance(annotation, cst.BinaryOperation):  # X | None
            return self.annotation_kind(annotation.left) or self.annotation_kind(annotation.right)
        if not isinstance(annotation, cst.Subscript):
            return None
        inner = [
            self.annotation_kind(element.slice.value)
            for element in annotation.slice
            if isinstance(element.slice, cst.Index)
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

    def owner(self, node: cst.BaseExpression) -> Owner | None:
        """What `node` in `node.attr` stands for, so that its attributes can be remembered."""
        if isinstance(node, cst.Attribute):
            inner = self.owner(node.value)
            return None if inner is None else (inner, node.attr.value)
        if not isinstance(node, cst.Name):
            return None
        assignments = self.assignments(node)
        for assignment in assignments:
            if isinstance(assignment.node, cst.Param) and assignment.node in self.self_class:
                return self.self_class[assignment.node]
            if isinstance(assignment.node, cst.ClassDef):
                return assignment.node
        if not assignments:
            return None
        return (assignments[0].scope, node.value)

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
            if isinstance(current, cst.ClassDef):
                pending.extend(self.local_bases.get(current, []))
        return None

    # --- expressions ---

    def name_kind(self, name: cst.Name) -> str | None:
        for imported in self.imported(name):
            if imported in CLASS_KINDS:
                return class_of(CLASS_KINDS[imported])
        found: set[str] = set()
        for assignment in self.assignments(name):
            node = assignment.node
            if isinstance(node, cst.FunctionDef):
                continue
            kind = self.kinds.get(node)
            if kind is None and isinstance(node, cst.Param) and node in self.self_class:
                class_kind = self.kinds.get(self.self_class[node], "")
                if class_kind.startswith(CLASS_PREFIX):
                    kind = class_kind[len(CLASS_PREFIX) :]
            if kind is not None:
                found.add(kind)
        return pick(found)

    def call_kind(self, call: cst.Call) -> str | None:
        func = call.func
        if isinstance(func, cst.Name):
            for assignment in self.assignments(func):
                if isinstance(assignment.node, cst.FunctionDef):
                    returned = self.kinds.get(assignment.node)
                    if returned is not None:
                        return returned
            if func.value in _COPIES and call.args and not self.imported(func):
                copied = self.kind_of(call.args[0].value)
                if copied == GREENLETS:
                    return GREENLETS
        made = self.class_kind(func)
        if made is not None:
            return made
        for name in self.imported(func):
            if name in MAKER_KINDS:
                return MAKER_KINDS[name]
        kind = self.kind_of(func) if isinstance(func, cst.Name) else None
        if kind is not None and kind.startswith(ALIAS_PREFIX):
            target = kind[len(ALIAS_PREFIX) :]
            return CLASS_KINDS.get(target) or MAKER_KINDS.get(target)
        if kind is not None and kind.startswith(CLASS_PREFIX):
            return kind[len(CLASS_PREFIX) :]
        if isinstance(func, cst.Attribute):
            return self._method_result(func)
        return None

    def _method_result(self, func: cst.Attribute) -> str | None:
        method = func.attr.value
        held = self.kind_of(func.value)
        if held == POOL and method in POOL_SPAWNERS:
            return GREENLET
        if held == GREENLETS:
            return _FROM_SEQUENCE.get(method)
        if held == GREENLET_MAP:
            return _FROM_MAPPING.get(method)
        if held is not None and held.startswith(CLASS_PREFIX):
            return CLASS_METHODS_MAKING.get(held[len(CLASS_PREFIX) :], {}).get(method)
        return None

    def kind_of(self, expr: cst.BaseExpression) -> str | None:
        if isinstance(expr, cst.Call):
            return self.call_kind(expr)
        if isinstance(expr, cst.Name):
            return self.name_kind(expr)
        if isinstance(expr, cst.Attribute):
            return self._attribute_expression_kind(expr)
        if isinstance(expr, cst.List | cst.Tuple | cst.Set):
            for element in expr.elements:
                inner = self.kind_of(element.value)
                if inner == GREENLET and isinstance(element, cst.Element):
                    return GREENLETS
                if inner == GREENLETS and isinstance(element, cst.StarredElement):
                    return GREENLETS
            return None
        if isinstance(expr, cst.ListComp | cst.SetComp | cst.GeneratorExp):
            return GREENLETS if self.kind_of(expr.elt) == GREENLET else None
        if isinstance(expr, cst.Dict):
            values = {
                self.kind_of(element.value)
                for element in expr.elements
                if isinstance(element, cst.DictElement)
            }
            return GREENLET_MAP if GREENLET in values else None
        if isinstance(expr, cst.DictComp):
            return GREENLET_MAP if self.kind_of(expr.value) == GREENLET else None
        if isinstance(expr, cst.Subscript):
            held = self.kind_of(expr.value)
            if held in (GREENLETS, GREENLET_MAP):
                sliced = any(isinstance(item.slice, cst.Slice) for item in expr.slice)
                return GREENLETS if sliced and held == GREENLETS else GREENLET
            return None
        if isinstance(expr, cst.BooleanOperation):
            return self.kind_of(expr.left) or self.kind_of(expr.right)
        if isinstance(expr, cst.IfExp):
            return self.kind_of(expr.body) or self.kind_of(expr.orelse)
        if isinstance(expr, cst.NamedExpr):
            return self.kind_of(expr.value)
        return None

    def _attribute_expression_kind(self, expr: cst.Attribute) -> str | None:
        made = self.class_kind(expr)
        if made is not None:
            return class_of(made)
        if (
            expr.attr.value == "threadpool"
            and isinstance(expr.value, cst.Call)
            and self.imported(expr.value.func) & HUB_GETTERS
        ):
            return THREADPOOL
        owner = self.owner(expr.value)
        if owner is None:
            return None
        return self.attribute_kind(owner, expr.attr.value)
