"""The project report: what a migration of the whole program involves, and in which order.

- counts of findings per rule and per module;
- the functions that must become `async def`: those holding a use whose asyncio form is
  awaited, then, along the call graph within the project, every synchronous function that
  calls one of them (the "colouring" of async code);
- what stands in the way of removing each monkey patch: the blocking calls that rely on it;
- an order of work: modules with findings, leaf modules (those importing no other module
  with findings) first, so that each step only calls code already migrated.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from rosetta.migrate.project import Module, Project, absolute_name, patch_sites
from rosetta.migrate.rules import AWAITING

FunctionKey = tuple[str, str]  # (module name, qualified function name)


@dataclass
class Colouring:
    function: FunctionKey
    path: str
    line: int
    reason: str  # "sleep at line 12", or "calls jobs.wait_a_bit"


@dataclass
class Blocker:
    patch: str  # path:line of the patch
    categories: list[str]
    calls: dict[str, int]  # path -> blocking calls that rely on the patch


@dataclass
class ProjectReport:
    per_rule: Counter[str] = field(default_factory=Counter)
    per_module: dict[str, Counter[str]] = field(default_factory=dict)
    must_become_async: list[Colouring] = field(default_factory=list)
    blockers: list[Blocker] = field(default_factory=list)
    order: list[str] = field(default_factory=list)  # paths


def _function_index(project: Project) -> dict[FunctionKey, tuple[Module, int, bool]]:
    index = {}
    for module in project.modules.values():
        for function in module.facts.functions:
            index[(module.name, function.name)] = (module, function.line, function.is_async)
    return index


def _callee(project: Project, module: Module, target: str, index: dict) -> FunctionKey | None:
    source, _, name = target.partition(":")
    if source == "local":
        key = (module.name, name)
        return key if key in index else None
    parts = absolute_name(module, name).split(".")
    for size in range(len(parts) - 1, 0, -1):
        key = (".".join(parts[:size]), ".".join(parts[size:]))
        if key in index:
            return key
    return None


def colour(project: Project) -> list[Colouring]:
    index = _function_index(project)
    paths = {finding.path for finding in project.findings}
    found: dict[FunctionKey, Colouring] = {}
    awaited = [
        finding
        for finding in project.findings
        if finding.rule in AWAITING and finding.path in paths
    ]
    by_path = {module.path: module for module in project.modules.values()}
    for finding in awaited:
        module = by_path[finding.path]
        for hit in module.facts.hits:
            if hit["line"] == finding.line and hit["rule"] == finding.rule and hit["function"]:
                key = (module.name, str(hit["function"]))
                if key in index and not index[key][2] and key not in found:
                    found[key] = Colouring(
                        key, module.path, index[key][1], f"{finding.rule} at line {finding.line}"
                    )
    callers: dict[FunctionKey, list[FunctionKey]] = defaultdict(list)
    for module in project.modules.values():
        for function in module.facts.functions:
            for target in function.calls:
                callee = _callee(project, module, target, index)
                if callee is not None:
                    callers[callee].append((module.name, function.name))
    pending = list(found)
    while pending:
        callee = pending.pop(0)
        for caller in callers.get(callee, []):
            module, line, is_async = index[caller]
            if is_async or caller in found:
                continue
            found[caller] = Colouring(caller, module.path, line, f"calls {'.'.join(callee)}")
            pending.append(caller)
    return sorted(found.values(), key=lambda item: (item.path, item.line))


def _blockers(project: Project) -> list[Blocker]:
    blockers = []
    for module, patch in patch_sites(project):
        where = f"{module.path}:{patch.line}"
        calls: Counter[str] = Counter()
        for finding in project.findings:
            if finding.rule.startswith("patched-") and (
                finding.patched_by == where
                or (finding.patched_by is None and finding.path == module.path)
            ):
                calls[finding.path] += 1
        blockers.append(Blocker(where, sorted(patch.categories), dict(sorted(calls.items()))))
    return blockers


def _order(project: Project, involved: set[str]) -> list[str]:
    """Modules with findings, each after the modules with findings it imports."""
    done: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        for imported in sorted(project.modules[name].imports):
            visit(imported)
        if name in involved:
            done.append(project.modules[name].path)

    for name in sorted(project.modules):
        visit(name)
    return done


def build_report(project: Project) -> ProjectReport:
    report = ProjectReport()
    by_path = {module.path: module.name for module in project.modules.values()}
    for finding in project.findings:
        report.per_rule[finding.rule] += 1
        report.per_module.setdefault(finding.path, Counter())[finding.rule] += 1
    report.must_become_async = colour(project)
    report.blockers = _blockers(project)
    report.order = _order(project, {by_path[path] for path in report.per_module})
    return report
