"""Scopes of a module parsed by `ast`: what each name is bound to, and its qualified names.

Python's own parser (in C) is what makes a whole tree fast to scan; this module adds what the
scanner needs on top of the bare tree, in one walk: for every scope (module, class, function,
lambda, comprehension) the bindings of each name (imports, assignments, parameters, `def`,
`class`), in the order they happen, with `global` and `nonlocal` honoured and class scopes
hidden from the functions inside them, as Python resolves names. A reference resolves to the
bindings it can see: those of its own scope made before it (or, failing those, the
enclosing scope's), and all the bindings of an enclosing scope. A qualified name is what a
reference stands for: `gevent.sleep` for `from gevent import sleep as nap; nap`, or a local
name such as `Server.handle.<locals>.job`. Nothing is imported or run.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from rosetta.migrate.resolution import (
    FUNCTIONS,
    IMPORT,
    LOCAL,
    Binding,
    QualifiedName,
    Scope,
    children,
    contains,
    dotted,
    full_name,
    landing,
    names_of,
    resolve,
)

__all__ = ["IMPORT", "LOCAL", "Binding", "QualifiedName", "Scopes", "children", "full_name"]


_HANDLERS: dict[type, Callable[[Scopes, Any], None]] = {}


class Scopes:
    """One walk over the module: the scope of every name, and every binding in order."""

    def __init__(self, tree: ast.Module) -> None:
        self.module = Scope("module", None, tree, None)
        self.scope = self.module
        self.scope_of: dict[ast.AST, Scope] = {}  # names, functions, classes, comprehensions
        self.index_of: dict[ast.Name, int] = {}  # a loaded name: bindings made before it
        self.defaults: dict[ast.arg, ast.expr] = {}
        self.imported_names: set[str] = set()  # first parts of the names imports bind
        self.visit(tree)

    def visit(self, node: ast.AST) -> None:
        handler = _HANDLERS.get(type(node))
        if handler is None:
            name = "visit_" + type(node).__name__
            handler = _HANDLERS[type(node)] = getattr(Scopes, name, Scopes.generic_visit)
        handler(self, node)

    def generic_visit(self, node: ast.AST) -> None:
        for child in children(node):
            self.visit(child)

    # --- recording ---

    def bind(self, name: str, node: ast.AST, imported: bool = False) -> None:
        target = landing(self.scope, name)
        if imported:
            self.imported_names.add(name.partition(".")[0])
        target.names.setdefault(name, []).append(Binding(node, target, target.count, imported))

    def _enter(self, kind: str, node: ast.AST, name: str | None) -> Scope:
        outer = self.scope
        self.scope = Scope(kind, outer, node, name)
        return outer

    def visit_Name(self, node: ast.Name) -> None:
        self.scope_of[node] = self.scope
        if isinstance(node.ctx, ast.Store):
            self.bind(node.id, node)
        else:
            self.index_of[node] = self.scope.count

    def _statement(self, node: ast.AST) -> None:
        self.generic_visit(node)
        self.scope.count += 1

    visit_Assign = visit_AugAssign = visit_AnnAssign = visit_NamedExpr = _statement

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name == "*":
                continue
            if alias.asname:
                self.bind(alias.asname, node, imported=True)
                continue
            parts = alias.name.split(".")
            for size in range(len(parts), 0, -1):
                self.bind(".".join(parts[:size]), node, imported=True)
        self.scope.count += 1

    visit_ImportFrom = visit_Import

    def visit_Global(self, node: ast.Global | ast.Nonlocal) -> None:
        for name in node.names:
            if self.scope.kind != "module":
                declared = self.module if isinstance(node, ast.Global) else self.scope.parent
                self.scope.overwrites[name] = declared or self.module
        self.scope.count += 1

    visit_Nonlocal = visit_Global

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.type is not None:
            self.visit(node.type)
        if node.name:
            self.bind(node.name, node)
            self.scope.count += 1
        for statement in node.body:
            self.visit(statement)

    def visit_withitem(self, node: ast.withitem) -> None:
        self.generic_visit(node)
        self.scope.count += 1 + (node.optional_vars is not None)

    def _arguments(self, arguments: ast.arguments, inner: Scope) -> None:
        """Defaults and annotations are evaluated outside the function; the names inside."""
        positional = [*arguments.posonlyargs, *arguments.args]
        for arg, default in zip(positional[::-1], arguments.defaults[::-1], strict=False):
            self.defaults[arg] = default
        for arg, default in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True):
            if default is not None:
                self.defaults[arg] = default
        every = [*positional, arguments.vararg, *arguments.kwonlyargs, arguments.kwarg]
        for arg in every:
            if arg is None:
                continue
            for value in (self.defaults.get(arg), arg.annotation):
                if value is not None:
                    self.visit(value)
        outer = self.scope
        self.scope = inner
        for arg in every:
            if arg is not None:
                self.bind(arg.arg, arg)
        self.scope.count += 1
        self.scope = outer

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.scope_of[node] = self.scope
        self.bind(node.name, node)
        inner = Scope("function", self.scope, node, node.name)
        self._arguments(node.args, inner)
        outer = self.scope
        self.scope = inner
        for statement in node.body:
            self.visit(statement)
        self.scope = outer
        for decorator in node.decorator_list:
            self.visit(decorator)
        if node.returns is not None:
            self.visit(node.returns)
        self.scope.count += 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        inner = Scope("function", self.scope, node, None)
        self._arguments(node.args, inner)
        outer = self.scope
        self.scope = inner
        self.visit(node.body)
        self.scope = outer

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.scope_of[node] = self.scope
        self.bind(node.name, node)
        for child in (*node.decorator_list, *node.bases, *node.keywords):
            self.visit(child)
        outer = self._enter("class", node, node.name)
        for statement in node.body:
            self.visit(statement)
        self.scope = outer
        self.scope.count += 1

    def _comprehension(self, node: ast.ListComp | ast.SetComp | ast.DictComp) -> None:
        first, *others = node.generators  # type: ignore[attr-defined]
        self.visit(first.iter)
        outer = self._enter("comprehension", node, None)
        self.scope_of[node] = self.scope
        self.visit(first.target)
        self.scope.count += 1
        for condition in first.ifs:
            self.visit(condition)
        for generator in others:
            self.visit(generator.target)
            self.visit(generator.iter)
            for condition in generator.ifs:
                self.visit(condition)
        self.scope.count += len(others)
        if isinstance(node, ast.DictComp):
            self.visit(node.key)
            self.visit(node.value)
        else:
            self.visit(node.elt)
        self.scope = outer
        self.scope.count += 1

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comprehension

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.target)
        self.scope.count += 1
        for child in (node.iter, *node.body, *node.orelse):
            self.visit(child)

    visit_AsyncFor = visit_For

    # --- looking up ---

    def scope_for(self, node: ast.AST) -> Scope | None:
        root = node
        while isinstance(root, ast.Attribute):
            root = root.value
        return self.scope_of.get(root)

    def bindings(self, name: ast.Name) -> list[Binding]:
        return resolve(self.scope_of.get(name), name.id)

    def qualified(self, node: ast.AST, parent: ast.AST | None = None) -> set[QualifiedName]:
        """What a name, a dotted name, a `def` or a `class` stands for (`parent`: its parent)."""
        if isinstance(node, (*FUNCTIONS, ast.ClassDef)):
            scope = self.scope_of.get(node)
            if scope is None:
                return set()
            prefix = landing(scope, node.name).prefix
            return {QualifiedName(f"{prefix}.{node.name}" if prefix else node.name, LOCAL)}
        full = dotted(node)
        scope = self.scope_for(node)
        if full is None or scope is None:
            return set()
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            target = landing(scope, node.id)
            return {QualifiedName(f"{target.prefix}.{full}" if target.prefix else full, LOCAL)}
        prefix: str | None = full
        found: list[Binding] = []
        while prefix:
            found = resolve(scope, prefix)
            if found:
                break
            cut = prefix.rfind(".")
            prefix = None if cut == -1 else prefix[:cut]
        if not found:
            return set()
        if prefix == full and not (
            isinstance(parent, ast.Attribute) and contains(scope, f"{full}.{parent.attr}")
        ):
            found = self._before(node, scope, full, found)
        results: set[QualifiedName] = set()
        for binding in found:
            results |= names_of(binding, full)
        return results

    def _before(
        self, node: ast.AST, scope: Scope, name: str, found: list[Binding]
    ) -> list[Binding]:
        """A reference sees its own scope's bindings made before it, else the enclosing ones."""
        root = node
        while isinstance(root, ast.Attribute):
            root = root.value
        index = self.index_of.get(root)  # type: ignore[arg-type]
        if index is None:
            return found
        earlier = [b for b in found if b.scope is not scope or b.index < index]
        if not earlier and scope.parent is not None:
            earlier = resolve(scope.parent, name)
        return earlier
