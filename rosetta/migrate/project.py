"""The whole program: its modules, their import graph, and which of them run patched.

Monkey patching acts on the process, not on the module that calls it, so a blocking call is a
migration finding in every module of a process that patches. A module runs patched when:
it patches itself; it is imported, directly or not, by a module that patches (an entry point's
`main()`, a `__main__` block); or it shares a process with a module that patches on import
(a package `__init__` that patches patches every module of the package, and every module that
imports it). `--assume-patched` says the process is patched from outside (gunicorn's gevent
worker, a launcher script that is not scanned). Each blocking finding says where the patch is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rosetta.migrate.bindings import Patch
from rosetta.migrate.cache import analyse_files
from rosetta.migrate.names import ALL_CATEGORIES
from rosetta.migrate.scanner import Finding, ModuleFacts, Report, Skipped, python_files

ASSUMED = "--assume-patched"


@dataclass
class Options:
    select: Collection[str] | None = None
    jobs: int = 0  # worker processes; 0: one per core
    cache: bool = True
    assume_patched: bool = False


@dataclass
class Module:
    name: str
    path: str
    facts: ModuleFacts
    is_package: bool
    imports: set[str] = field(default_factory=set)  # project modules it imports
    patched: dict[str, str] = field(default_factory=dict)  # category -> where the patch is


@dataclass
class Project:
    modules: dict[str, Module] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    files: int = 0
    findings: list[Finding] = field(default_factory=list)

    def importers(self) -> dict[str, set[str]]:
        reverse: dict[str, set[str]] = defaultdict(set)
        for module in self.modules.values():
            for imported in module.imports:
                reverse[imported].add(module.name)
        return reverse

    def report(self) -> Report:
        return Report(self.findings, self.skipped, self.files)


def module_name(path: Path) -> tuple[str, bool]:
    """The dotted name a file is imported as (packages are the folders with __init__.py)."""
    path = path.resolve()
    is_package = path.name == "__init__.py"
    parts = [] if is_package else [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        if folder.parent == folder:
            break
        folder = folder.parent
    return ".".join(parts) or path.stem, is_package


def absolute_name(module: Module, target: str) -> str:
    """`target` as written in `module` (`x.y`, or relative: `.y`, `..y`, `.`), made absolute."""
    if not target.startswith("."):
        return target
    level = len(target) - len(target.lstrip("."))
    base = module.name.split(".")
    if not module.is_package:
        base = base[:-1]
    base = base[: len(base) - (level - 1)] if level > 1 else base
    rest = target[level:]
    return ".".join([*base, rest] if rest else base)


def _resolve(project: Project, module: Module, target: str) -> str | None:
    """The project module an import names, if it is one."""
    parts = absolute_name(module, target).split(".")
    for size in range(len(parts), 0, -1):
        candidate = ".".join(parts[:size])
        if candidate in project.modules:
            return candidate
    return None


def _link(project: Project) -> None:
    for module in project.modules.values():
        for target in module.facts.imports:
            found = _resolve(project, module, target)
            if found is not None and found != module.name:
                module.imports.add(found)
        # Importing pkg.mod runs pkg/__init__.py first.
        parts = module.name.split(".")
        for size in range(1, len(parts)):
            parent = ".".join(parts[:size])
            if parent in project.modules:
                module.imports.add(parent)


def _closure(start: Iterable[str], edges: dict[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    pending = list(start)
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        pending.extend(edges.get(current, ()))
    return seen


def _spread_patches(project: Project, assume_patched: bool) -> None:
    forward = {name: module.imports for name, module in project.modules.items()}
    backward = project.importers()
    for module in sorted(project.modules.values(), key=lambda module: module.name):
        for patch in module.facts.patch_list():
            where = f"{module.path}:{patch.line}"
            start = {module.name}
            if patch.where == "import":
                start = _closure(start, backward)  # everything that imports it shares it
            for reached in _closure(start, forward):
                for category in patch.categories:
                    project.modules[reached].patched.setdefault(category, where)
    if assume_patched:
        for module in project.modules.values():
            for category in ALL_CATEGORIES:
                module.patched.setdefault(category, ASSUMED)


def _findings(project: Project, select: Collection[str] | None) -> list[Finding]:
    findings = []
    for module in project.modules.values():
        own = {category for patch in module.facts.patch_list() for category in patch.categories}
        for hit in module.facts.hits:
            rule = str(hit["rule"])
            if select is not None and rule not in select:
                continue
            category = hit["category"]
            patched_by = None
            if category is not None:
                if category not in module.patched:
                    continue
                if category not in own:
                    patched_by = module.patched[str(category)]
            findings.append(
                Finding(
                    module.path,
                    int(hit["line"]),
                    int(hit["column"]),
                    rule,  # type: ignore[call-overload]
                    str(hit["name"]),
                    patched_by,
                )
            )
    return sorted(findings, key=lambda f: (f.path, f.line, f.column, f.rule))


def load_project(paths: list[Path], options: Options) -> Project:
    project = Project()
    files = list(python_files(paths))
    project.files = len(files)
    names: dict[str, str] = {}
    for path, facts, error in analyse_files([str(f) for f in files], options.jobs, options.cache):
        if facts is None:
            project.skipped.append(Skipped(path, error or "unreadable"))
            continue
        name, is_package = module_name(Path(path))
        if name in names:  # two scanned trees with the same layout: keep both apart
            name = f"{name}@{path}"
        names[name] = path
        project.modules[name] = Module(name, path, facts, is_package)
    _link(project)
    _spread_patches(project, options.assume_patched)
    project.findings = _findings(project, options.select)
    return project


def scan_project(paths: list[Path], options: Options) -> Report:
    return load_project(paths, options).report()


def patch_sites(project: Project) -> list[tuple[Module, Patch]]:
    return [
        (module, patch)
        for module in sorted(project.modules.values(), key=lambda module: module.path)
        for patch in module.facts.patch_list()
    ]


def scan_paths(paths: Iterable[Path], select: Collection[str] | None = None) -> Report:
    """The findings of a whole program, in one process and without cache."""
    return scan_project(list(paths), Options(select=select, jobs=1, cache=False))
