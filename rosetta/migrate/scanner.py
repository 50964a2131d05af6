"""Find gevent and greenlet idioms in one file's source, without importing or running it.

Python's own parser (`ast`, in C) reads the file and `scopes` resolves every name to what it
was imported as, so `from gevent import spawn as go; go(f)` is found and a local
`def spawn()` is not. The
first pass (`bindings`) learns what names, parameters and attributes hold; the second
(`uses`) classifies every reference. Both run in one walk of the tree. What the file
tells the whole-program view (its imports, where it patches, its functions and what they
call) is collected on the way, as `ModuleFacts`, which is what the cache keeps.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Collection, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rosetta.migrate.bindings import Patch
from rosetta.migrate.positions import Positions
from rosetta.migrate.rules import RULES_BY_ID, Rule
from rosetta.migrate.scopes import IMPORT, LOCAL, children
from rosetta.migrate.uses import Hit, Uses

__all__ = ["Finding", "Hit", "ModuleFacts", "Unparsable", "analyse", "facts_of", "scan_source"]


@dataclass
class Skipped:
    path: str
    error: str


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    files: int = 0


class Unparsable(Exception):
    """The file is not Python that can be parsed (or not readable as text)."""


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    column: int  # 1-based, like compilers and linters print it
    rule: str
    name: str  # what was found: a resolved name ("gevent.sleep") or a method (".join")
    patched_by: str | None = None  # for a blocking call: where the process was patched

    @property
    def details(self) -> Rule:
        return RULES_BY_ID[self.rule]

    def as_json(self) -> dict[str, object]:
        rule = self.details
        document: dict[str, object] = {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "rule": self.rule,
            "name": self.name,
            "asyncio": rule.asyncio,
            "caveat": rule.caveat,
            "rewrite": rule.rewrite,
        }
        if self.patched_by is not None:
            document["patched_by"] = self.patched_by
        return document


@dataclass
class FunctionFacts:
    name: str  # qualified within the module: "Server.handle", "main.<locals>.job"
    line: int
    is_async: bool
    calls: list[str] = field(default_factory=list)  # "local:f", "import:pkg.mod.f"


@dataclass
class ModuleFacts:
    """What one file says, on its own; JSON-able, so that it can be cached by content."""

    hits: list[dict[str, object]] = field(default_factory=list)
    patches: list[dict[str, object]] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)  # ".sibling" for relative imports
    functions: list[FunctionFacts] = field(default_factory=list)
    main_guard: bool = False

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_json(cls, document: dict[str, object]) -> ModuleFacts:
        functions = [FunctionFacts(**item) for item in document["functions"]]  # type: ignore[attr-defined]
        return cls(
            list(document["hits"]),  # type: ignore[call-overload]
            list(document["patches"]),  # type: ignore[call-overload]
            list(document["imports"]),  # type: ignore[call-overload]
            functions,
            bool(document["main_guard"]),
        )

    def patch_list(self) -> list[Patch]:
        return [
            Patch(int(p["line"]), frozenset(p["categories"]), str(p["where"]))  # type: ignore[arg-type,call-overload]
            for p in self.patches
        ]


def decode(source: bytes | str) -> str:
    """The text of a file, as Python reads it (its coding cookie or BOM, else UTF-8)."""
    if isinstance(source, str):
        return source
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
        return source.decode(encoding)
    except (UnicodeDecodeError, LookupError, SyntaxError) as error:
        raise Unparsable(f"cannot parse: {error}") from None


def parse(text: str) -> ast.Module:
    try:
        return ast.parse(text)
    except SyntaxError as error:
        raise Unparsable(f"syntax error at line {error.lineno}: {error.msg}") from None
    except (ValueError, RecursionError, MemoryError) as error:
        raise Unparsable(f"cannot parse: {error}") from None


_LEAVE = ast.AST()  # on the walk's stack: leave the node under it
_BINDERS = (ast.Assign, ast.AnnAssign, ast.For, ast.AsyncFor, ast.comprehension, ast.NamedExpr)


class Analysis(Uses):
    """Both passes in one walk of the tree, and the facts the whole-program view needs."""

    def __init__(self, text: str) -> None:
        super().__init__(parse(text), Positions(text))
        self.imports: list[str] = []
        self.functions: list[FunctionFacts] = []
        self._open: list[FunctionFacts] = []
        self._walk()
        self.classify()

    def _walk(self) -> None:
        parents = self.parents
        leave = _LEAVE
        pending: list[ast.AST] = [self.tree]
        while pending:
            node = pending.pop()
            if node is leave:
                self._leave(pending.pop())
                continue
            kind = type(node)
            if kind is ast.Name or kind is ast.Attribute:
                self.visit_reference(node)  # type: ignore[arg-type]
            elif kind is ast.Call:
                self.visit_Call(node)  # type: ignore[arg-type]
            elif kind in _BINDERS:
                self.visit_binder(node)
            elif kind is ast.withitem:
                self.visit_withitem(node)  # type: ignore[arg-type]
            elif kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
                self.visit_FunctionDef(node)  # type: ignore[arg-type]
                pending += (node, leave)
            elif kind is ast.ClassDef:
                self.visit_ClassDef(node)  # type: ignore[arg-type]
            elif kind is ast.If:
                self.visit_If(node)  # type: ignore[arg-type]
                pending += (node, leave)
            elif kind is ast.Import:
                self.imports.extend(alias.name for alias in node.names)  # type: ignore[attr-defined]
                continue
            elif kind is ast.ImportFrom:
                self._import_from(node)  # type: ignore[arg-type]
                continue
            found = children(node)
            for child in found:
                parents[child] = node
            found.reverse()
            pending += found

    def _leave(self, node: ast.AST) -> None:
        if type(node) is ast.If:
            self.leave_If(node)  # type: ignore[arg-type]
        else:
            self.leave_FunctionDef(node)  # type: ignore[arg-type]

    def _import_from(self, node: ast.ImportFrom) -> None:
        base = "." * node.level + (node.module or "")
        self.imports.append(base)
        if not any(alias.name == "*" for alias in node.names):
            joiner = "" if base.endswith(".") else "."
            self.imports.extend(f"{base}{joiner}{alias.name}" for alias in node.names)
        self.visit_ImportFrom(node)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        super().visit_FunctionDef(node)
        line = self.positions.definition(node)[0]
        facts = FunctionFacts(
            self.function_name(node), line, isinstance(node, ast.AsyncFunctionDef)
        )
        self.functions.append(facts)
        self._open.append(facts)

    def leave_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        super().leave_FunctionDef(node)
        self._open.pop()

    def visit_Call(self, node: ast.Call) -> None:
        super().visit_Call(node)
        if self._open:
            self._open[-1].calls.extend(self._call_targets(node.func))

    def _call_targets(self, func: ast.expr) -> list[str]:
        targets = []
        for name in self.qualified(func):
            if name.source == IMPORT:
                targets.append(f"import:{name.name}")
            elif name.source == LOCAL and ".self." not in name.name:
                targets.append(f"local:{name.name}")
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            owner = self.owner(func.value)
            if isinstance(owner, ast.ClassDef):
                names = self.qualified(owner)
                for name in names:
                    targets.append(f"local:{name.name}.{func.attr}")
        return targets

    def facts(self) -> ModuleFacts:
        hits = [
            {
                "line": hit.line,
                "column": hit.column,
                "rule": hit.rule,
                "name": hit.name,
                "function": hit.function,
                "category": hit.category,
            }
            for hit in sorted(self.hits, key=_order)
        ]
        patches = [
            {"line": p.line, "categories": sorted(p.categories), "where": p.where}
            for p in self.patches
        ]
        return ModuleFacts(hits, patches, self.imports, self.functions, self.main_guard)


def _order(hit: Hit) -> tuple[int, int, str]:
    return (hit.line, hit.column, hit.rule)


def analyse(source: bytes | str) -> list[Hit]:
    """Every hit in the module, in source order, as the file alone shows it."""
    analysis = Analysis(decode(source))
    patched = analysis.patched
    return sorted(
        (hit for hit in analysis.hits if hit.category is None or hit.category in patched),
        key=_order,
    )


def facts_of(source: bytes | str) -> ModuleFacts:
    """What the file says, for the whole-program view; raises Unparsable."""
    # A file that never spells gevent or greenlet is analysed all the same: its blocking
    # calls, imports and functions matter when another module patches the process.
    return Analysis(decode(source)).facts()


def local_findings(facts: ModuleFacts, path: str) -> list[Finding]:
    patched = frozenset().union(*(patch.categories for patch in facts.patch_list()))
    return [
        Finding(path, int(hit["line"]), int(hit["column"]), str(hit["rule"]), str(hit["name"]))  # type: ignore[call-overload]
        for hit in facts.hits
        if hit["category"] is None or hit["category"] in patched
    ]


def scan_source(
    source: bytes | str, path: str = "<string>", select: Collection[str] | None = None
) -> list[Finding]:
    """The findings of one file's source, as the file alone shows them; raises Unparsable."""
    return [
        finding
        for finding in local_findings(facts_of(source), path)
        if select is None or finding.rule in select
    ]


_SKIPPED_DIRECTORIES = frozenset({"__pycache__", "node_modules", "site-packages"})


def python_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Each path given, or the *.py files under it, sorted; missing paths raise."""
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(path)
        if path.is_dir():
            yield from sorted(
                found
                for found in path.rglob("*.py")
                if found.is_file()
                and not any(
                    part.startswith(".") or part in _SKIPPED_DIRECTORIES
                    for part in found.relative_to(path).parts[:-1]
                )
            )
        else:
            yield path
