"""The first pass of the scanner: what each name, parameter and attribute holds.

The traversal only collects the statements that bind something; `settle` then replays them
until nothing changes (a binding may depend on one later in the file: a method that reads
`self.pool` comes before the `start()` that assigns it). It also records where the file
monkey-patches, and whether that happens on import, in a function, or under
`if __name__ == "__main__":`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from rosetta.migrate.names import (
    ALIAS_PREFIX,
    ALL_CATEGORIES,
    API_RULES,
    CLASS_KINDS,
    CLASS_PREFIX,
    GREENLET,
    GREENLET_MAP,
    GREENLETS,
    HUB_GETTERS,
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
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


@dataclass(frozen=True)
class Patch:
    line: int
    categories: frozenset[str]
    where: str  # "import" (module level), "main" (under the __main__ guard), "function"


def is_false_literal(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and (node.value is False or node.value is None)


def is_main_guard(node: ast.If) -> bool:
    test = node.test
    if not isinstance(test, ast.Compare) or len(test.comparators) != 1:
        return False
    sides = [test.left, test.comparators[0]]
    names = {side.id for side in sides if isinstance(side, ast.Name)}
    strings = {
        side.value for side in sides if isinstance(side, ast.Constant) and type(side.value) is str
    }
    return names == {"__name__"} and strings == {"__main__"}


class Bindings(Reader):
    def __init__(self, tree: ast.Module) -> None:
        super().__init__(tree)
        self.patches: list[Patch] = []
        self.main_guard = False
        self.aliases = False  # a parameter defaults to a gevent name (`timeout=Timeout`)
        self._binders: list[ast.AST] = []
        self._local_calls: list[ast.Call] = []  # f(...) calls: they may hand objects to f
        self._depth = 0  # functions we are inside
        self._guards = 0  # __main__ guards we are inside

    # --- collection ---

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._binders.append(node)
        pending = list(node.body)
        while pending:  # methods, also those defined under an `if` or a `try` of the body
            statement = pending.pop()
            if isinstance(statement, ast.If | ast.Try | ast.With):
                pending.extend(_blocks(statement))
            elif isinstance(statement, FUNCTIONS) and statement.args.args:
                decorators = {_name(d) for d in statement.decorator_list}
                if "staticmethod" not in decorators:
                    self.self_class[statement.args.args[0]] = node

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._depth += 1
        self._binders.append(node)
        arguments = node.args
        self._binders.extend(arguments.args)
        self._binders.extend(arguments.kwonlyargs)
        self._binders.extend(arguments.posonlyargs)

    def leave_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._depth -= 1

    def visit_If(self, node: ast.If) -> None:
        if is_main_guard(node):
            self.main_guard = True
            self._guards += 1

    def leave_If(self, node: ast.If) -> None:
        if is_main_guard(node):
            self._guards -= 1

    def visit_binder(self, node: ast.AST) -> None:
        self._binders.append(node)

    def visit_withitem(self, node: ast.withitem) -> None:
        if node.optional_vars is not None:
            self._binders.append(node)

    def visit_Call(self, node: ast.Call) -> None:
        if (
            isinstance(node.func, ast.Attribute)
            and (node.args or node.keywords)
            and (node.func.attr in _ADDERS or node.func.attr in _EXTENDERS)
        ):
            self._binders.append(node)
        elif (node.args or node.keywords) and (
            isinstance(node.func, ast.Name)
            or (isinstance(node.func, ast.Attribute) and node.func.attr == "start")
        ):
            self._local_calls.append(node)
        for name in self.imported(node.func):
            self._note_patch(name, node)
            self.hub_objects = self.hub_objects or name in HUB_GETTERS

    def _note_patch(self, name: str, call: ast.Call) -> None:
        categories = PATCH_CATEGORIES.get(name, frozenset())
        if name == PATCH_ALL:
            switched_off = {
                PATCH_ALL_KEYWORDS[arg.arg]
                for arg in call.keywords
                if arg.arg in PATCH_ALL_KEYWORDS and is_false_literal(arg.value)
            }
            categories = ALL_CATEGORIES - switched_off
        if not categories:
            return
        where = "main" if self._guards else "function" if self._depth else "import"
        self.patches.append(Patch(call.lineno, frozenset(categories), where))

    @property
    def patched(self) -> frozenset[str]:
        return frozenset().union(*(patch.categories for patch in self.patches))

    # --- settling ---

    def settle(self) -> None:
        for _ in range(_ROUNDS):
            before = (len(self.kinds), sum(map(len, self.attributes.values())))
            for node in self._binders:
                self._bind_node(node)
            for call in self._local_calls:
                self._bind_arguments(call)
            if (len(self.kinds), sum(map(len, self.attributes.values()))) == before:
                break

    def _bind_node(self, node: ast.AST) -> None:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                self.bind(target, node.value)
        elif isinstance(node, ast.AnnAssign):
            declared = self.annotation_kind(node.annotation)
            if declared is not None:
                self.bind_kind(node.target, declared)
            elif node.value is not None:
                self.bind(node.target, node.value)
        elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
            if self.kind_of(node.iter) in (GREENLETS, POOL):  # a Group iterates its members
                self.bind_kind(node.target, GREENLET)
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            self.bind(node.optional_vars, node.context_expr)
        elif isinstance(node, ast.NamedExpr):
            self.bind(node.target, node.value)
        elif isinstance(node, ast.arg):
            self._bind_param(node)
        elif isinstance(node, FUNCTIONS):
            if node.returns is not None:
                kind = self.annotation_kind(node.returns)
                if kind is not None:
                    self.kinds[node] = kind
        elif isinstance(node, ast.ClassDef):
            self._bind_class(node)
        elif isinstance(node, ast.Call):
            self._bind_collection_call(node)

    def _bind_param(self, node: ast.arg) -> None:
        kind = None
        if node.annotation is not None:
            kind = self.annotation_kind(node.annotation)
        default = self.scopes.defaults.get(node)
        if kind is None and default is not None:
            kind = self.kind_of(default)
            if kind is not None and kind.startswith(CLASS_PREFIX):
                kind = None  # a class default is remembered by name, below
            names = sorted(name for name in self.imported(default) if name in API_RULES)
            if kind is None and names:
                kind = ALIAS_PREFIX + names[0]
                self.aliases = True
        if kind is not None:
            self.kinds[node] = kind

    def _bind_arguments(self, call: ast.Call) -> None:
        """`send(r, pool)` with `def send(r, pool=None)` in the file: `pool` holds a Pool."""
        func = call.func
        if isinstance(func, ast.Attribute):
            self._bind_watcher_callback(call, func)
            return
        assert isinstance(func, ast.Name)
        functions = [b.node for b in self.assignments(func) if isinstance(b.node, FUNCTIONS)]
        if len(functions) == 1:
            self._bind_call(call.args, call.keywords, functions[0], 0)

    def _bind_watcher_callback(self, call: ast.Call, func: ast.Attribute) -> None:
        """`watcher.start(self._on_event, watcher)`: the callback gets the watcher."""
        if func.attr != "start" or not call.args or not self.hub_objects:
            return
        callback = call.args[0]
        if not isinstance(callback, ast.Attribute) or not self.is_hub(func.value):
            return
        owner = self.owner(callback.value)
        if not isinstance(owner, ast.ClassDef):
            return
        for statement in ast.walk(owner):
            if isinstance(statement, FUNCTIONS) and statement.name == callback.attr:
                self._bind_call(call.args[1:], [], statement, 1)  # after `self`
                return

    def _bind_call(
        self,
        args: list[ast.expr],
        keywords: list[ast.keyword],
        function: ast.FunctionDef | ast.AsyncFunctionDef,
        skip: int,
    ) -> None:
        arguments = function.args
        positional = [*arguments.posonlyargs, *arguments.args][skip:]
        by_name = {arg.arg: arg for arg in [*arguments.args, *arguments.kwonlyargs]}
        pairs = []
        for value, param in zip(args, positional, strict=False):
            if isinstance(value, ast.Starred):
                break
            pairs.append((param, value))
        pairs += [(by_name[k.arg], k.value) for k in keywords if k.arg in by_name]
        for param, value in pairs:
            if param in self.kinds:
                continue
            kind = self.kind_of(value)
            if kind is not None and not kind.startswith((CLASS_PREFIX, ALIAS_PREFIX)):
                self.kinds[param] = kind

    def _bind_class(self, node: ast.ClassDef) -> None:
        bases = []
        for base in node.bases:
            made = self.class_kind(base)
            if made is not None and node not in self.kinds:
                self.kinds[node] = class_of(made)
            local = self.local_class(base)
            if local is not None:
                bases.append(local)
        self.local_bases[node] = bases

    def _bind_collection_call(self, node: ast.Call) -> None:
        func = node.func
        assert isinstance(func, ast.Attribute)
        method = func.attr
        wanted = _ADDERS.get(method) or _EXTENDERS.get(method)
        if wanted is None or self.kind_of(func.value) in _NOT_COLLECTIONS:
            return
        last = node.keywords[-1].value if node.keywords else node.args[-1]
        if isinstance(last, ast.Starred):
            last = last.value
        if self.kind_of(last) == wanted:
            self.bind_kind(func.value, GREENLETS)

    # --- binding ---

    def bind(self, target: ast.expr, value: ast.expr) -> None:
        if isinstance(target, ast.Tuple | ast.List):
            if isinstance(value, ast.Tuple | ast.List) and len(target.elts) == len(value.elts):
                for target_element, value_element in zip(target.elts, value.elts, strict=True):
                    if not isinstance(target_element, ast.Starred) and not isinstance(
                        value_element, ast.Starred
                    ):
                        self.bind(target_element, value_element)
            return
        kind = self.kind_of(value)
        if kind is not None:
            self.bind_kind(target, kind)
        elif isinstance(target, ast.Name) and isinstance(value, ast.Name | ast.Attribute):
            self._bind_alias(target, value)

    def _bind_alias(self, target: ast.Name, value: ast.Name | ast.Attribute) -> None:
        """`_read = gevent.os.nb_read` at module level: `_read(fd, n)` calls gevent."""
        scope = self.scopes.scope_of.get(target)
        if scope is None or scope.kind != "module" or target in self.kinds:
            return
        names = sorted(
            name
            for name in self.imported(value)
            if name.split(".")[0] in ("gevent", "greenlet")
            and not any(name == c or name.startswith(c + ".") for c in CLASS_KINDS)
        )
        if names:
            self.kinds[target] = ALIAS_PREFIX + names[0]
            self.aliases = True

    def bind_kind(self, target: ast.expr, kind: str) -> None:
        if isinstance(target, ast.Name):
            assignments = self.assignments(target)
            if kind == GREENLETS and self.kinds.get(target) is None:
                for assignment in assignments:  # `jobs = []` ... `jobs.append(spawn())`
                    if isinstance(assignment.node, ast.Name):
                        self.kinds[assignment.node] = kind
            self.kinds[target] = kind
            scope = self.scopes.scope_of.get(target)
            if scope is not None and scope.kind == "class":
                self.attributes[(scope.node, target.id)].add(kind)
        elif isinstance(target, ast.Attribute):
            owner = self.owner(target.value)
            if owner is not None:
                self.attributes[(owner, target.attr)].add(kind)
        elif (
            isinstance(target, ast.Subscript)
            and kind == GREENLET
            and self.kind_of(target.value) not in (GREENLETS, GREENLET_MAP)
        ):
            # `jobs[key] = gevent.spawn(...)`: a dict (or list) of greenlets.
            self.bind_kind(target.value, GREENLET_MAP)


def _blocks(statement: ast.If | ast.Try | ast.With) -> list[ast.stmt]:
    found = [*statement.body, *getattr(statement, "orelse", [])]
    found += getattr(statement, "finalbody", [])
    for handler in getattr(statement, "handlers", []):
        found += handler.body
    return found


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""
