"""Scopes and bindings as Python resolves names, for `scopes`: the data and the look-ups.

A binding made in a scope lands where `global` / `nonlocal` send it; a name is looked up in
its own scope, then in the enclosing function and module scopes (class scopes are not seen
from the functions inside them). An imported binding gives the imported dotted name
(`from a import b as c`: `c.d` is `a.b.d`); any other gives a local qualified name, in the
style of `__qualname__` (`f.<locals>.x`, `<comprehension>` for comprehensions).
"""

from __future__ import annotations

import ast
from typing import NamedTuple

IMPORT, LOCAL = "import", "local"
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


# Fields that never hold a node worth walking into (names, operators, load/store markers).
_LEAVES = frozenset(
    {"ctx", "op", "ops", "type_comment", "id", "attr", "arg", "kind", "module", "level"}
    | {"conversion", "is_async", "simple", "tag", "name", "names", "lineno"}
)
_FIELDS: dict[type, tuple[str, ...]] = {}


def children(node: ast.AST) -> list[ast.AST]:
    """The child nodes of `node` in field order, faster than `ast.iter_child_nodes`."""
    kind = type(node)
    fields = _FIELDS.get(kind)
    if fields is None:
        leaf = kind is ast.Constant or kind in (ast.Load, ast.Store, ast.Del)
        fields = _FIELDS[kind] = () if leaf else tuple(f for f in kind._fields if f not in _LEAVES)
    found: list[ast.AST] = []
    for field in fields:
        value = getattr(node, field, None)
        if type(value) is list:
            found.extend(item for item in value if isinstance(item, ast.AST))
        elif isinstance(value, ast.AST):
            found.append(value)
    return found


class QualifiedName(NamedTuple):
    name: str
    source: str  # IMPORT or LOCAL


class Scope:
    __slots__ = ("count", "kind", "names", "node", "overwrites", "parent", "prefix")

    def __init__(self, kind: str, parent: Scope | None, node: ast.AST, name: str | None) -> None:
        self.kind = kind  # "module", "class", "function", "comprehension"
        self.parent = parent
        self.node = node
        self.names: dict[str, list[Binding]] = {}
        self.overwrites: dict[str, Scope] = {}  # global / nonlocal declarations
        self.count = 0  # bindings made so far: orders references against them
        above = parent.prefix if parent is not None else ""
        parts = {
            "module": [],
            "class": [above, name],
            "function": [above, name, "<locals>"],
            "comprehension": [above, "<comprehension>"],
        }[kind]
        self.prefix = ".".join(part for part in parts if part)


class Binding:
    __slots__ = ("imported", "index", "node", "scope")

    def __init__(self, node: ast.AST, scope: Scope, index: int, imported: bool) -> None:
        self.node = node  # a Name (stored), arg, FunctionDef, ClassDef, Import, ExceptHandler
        self.scope = scope
        self.index = index
        self.imported = imported


def dotted(node: ast.AST) -> str | None:
    """`a.b.c` for a chain of attributes on a name, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = dotted(node.value)
        return None if inner is None else f"{inner}.{node.attr}"
    return None


def full_name(node: ast.AST) -> str | None:
    """The dotted name of a reference, through calls and subscripts: `a.b()[0].c` is a.b.c."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{full_name(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return full_name(node.func)
    if isinstance(node, ast.Subscript):
        return full_name(node.value)
    if isinstance(node, (*FUNCTIONS, ast.ClassDef)):
        return node.name
    return None


def _visible_parent(scope: Scope) -> Scope | None:
    parent = scope.parent
    while parent is not None and parent.kind == "class":
        parent = parent.parent
    return parent


def landing(scope: Scope, name: str) -> Scope:
    """The scope a binding of `name` made in `scope` lands in."""
    while name in scope.overwrites:
        declared = scope.overwrites[name]
        if declared.kind == "class":
            declared = _visible_parent(declared) or declared
        if declared is scope:
            break
        scope = declared
    return scope


def resolve(scope: Scope | None, name: str) -> list[Binding]:
    """All the bindings of `name` that `scope` sees, in the nearest scope that has some."""
    while scope is not None:
        if name in scope.overwrites and scope.kind != "module":
            declared = scope.overwrites[name]
            scope = declared if declared.kind != "class" else _visible_parent(declared)
            continue
        found = scope.names.get(name)
        if found:
            return found
        scope = _visible_parent(scope)
    return []


def contains(scope: Scope | None, name: str) -> bool:
    return bool(resolve(scope, name))


def _import_names(binding: Binding, full: str) -> set[QualifiedName]:
    statement = binding.node
    module = ""
    if isinstance(statement, ast.ImportFrom):
        module = "." * statement.level + (statement.module or "")
    assert isinstance(statement, ast.Import | ast.ImportFrom)
    results = set()
    for alias in statement.names:
        parts = alias.name.split(".")
        for size in range(len(parts), 0, -1):
            real = as_name = ".".join(parts[:size])
            if module.endswith("."):
                real = f"{module}{real}"
            elif module:
                real = f"{module}.{real}"
            if alias.asname:
                as_name = alias.asname
            if full.startswith(as_name):
                rest = full.split(as_name, 1)[1]
                if rest and not rest.startswith("."):
                    continue
                rest = rest.lstrip(".")
                results.add(QualifiedName(f"{real}.{rest}" if rest else real, IMPORT))
                break
    return results


def names_of(binding: Binding, full: str) -> set[QualifiedName]:
    if binding.imported:
        return _import_names(binding, full)
    prefix = binding.scope.prefix
    return {QualifiedName(f"{prefix}.{full}" if prefix else full, LOCAL)}
