"""How `scan` and `report` print: text for people, JSON for tools, SARIF 2.1.0 for code review.

SARIF (the OASIS Static Analysis Results Interchange Format) is what code-review tools read
to show findings inline: one run, whose tool driver lists every rule, and one result per
finding with its rule id, a message and a physical location (file URI, line, column).
"""

from __future__ import annotations

import json
from pathlib import Path

from rosetta.migrate.report import ProjectReport
from rosetta.migrate.rules import RULES, RULES_BY_ID
from rosetta.migrate.scanner import Finding, Report

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def scan_text(report: Report) -> str:
    lines = []
    for finding in report.findings:
        rule = finding.details
        lines.append(
            f"{finding.path}:{finding.line}:{finding.column}: {finding.rule} {finding.name}"
        )
        lines.append(f"    asyncio: {rule.asyncio}")
        lines.append(f"    caveat: {rule.caveat}")
        if finding.patched_by is not None:
            lines.append(f"    patched by: {finding.patched_by}")
    files_hit = len({finding.path for finding in report.findings})
    summary = f"{len(report.findings)} finding(s) in {files_hit} of {report.files} file(s)"
    if report.skipped:
        summary += f"; {len(report.skipped)} file(s) skipped"
    lines.append(summary)
    return "\n".join(lines) + "\n"


def scan_json(report: Report) -> dict[str, object]:
    return {
        "findings": [finding.as_json() for finding in report.findings],
        "skipped": [{"path": item.path, "error": item.error} for item in report.skipped],
        "files": report.files,
    }


def report_json(scan: Report, project: ProjectReport) -> dict[str, object]:
    return {
        "files": scan.files,
        "findings": len(scan.findings),
        "skipped": [{"path": item.path, "error": item.error} for item in scan.skipped],
        "per_rule": dict(project.per_rule.most_common()),
        "per_module": {
            path: dict(counts.most_common()) for path, counts in project.per_module.items()
        },
        "must_become_async": [
            {
                "path": item.path,
                "line": item.line,
                "function": item.function[1],
                "module": item.function[0],
                "reason": item.reason,
            }
            for item in project.must_become_async
        ],
        "patches": [
            {
                "patch": blocker.patch,
                "categories": blocker.categories,
                "blocking_calls": blocker.calls,
            }
            for blocker in project.blockers
        ],
        "order": project.order,
    }


def report_text(scan: Report, project: ProjectReport) -> str:
    out = [f"{len(scan.findings)} finding(s) in {len(project.per_module)} of {scan.files} file(s)"]
    if scan.skipped:
        out[0] += f"; {len(scan.skipped)} file(s) skipped"
    out.append("")
    out.append("Per rule:")
    out.extend(f"  {count:5}  {rule}" for rule, count in project.per_rule.most_common())
    out.append("")
    out.append("Per module:")
    for path, counts in project.per_module.items():
        top = ", ".join(f"{rule} {count}" for rule, count in counts.most_common(4))
        out.append(f"  {sum(counts.values()):5}  {path}  ({top})")
    out.append("")
    out.append(f"Functions that must become async ({len(project.must_become_async)}):")
    out.extend(
        f"  {item.path}:{item.line}: {item.function[1]}: {item.reason}"
        for item in project.must_become_async
    )
    out.append("")
    out.append("Before removing each monkey patch:")
    if not project.blockers:
        out.append("  no monkey patching in these files")
    for blocker in project.blockers:
        total = sum(blocker.calls.values())
        out.append(
            f"  {blocker.patch} ({', '.join(blocker.categories)}): {total} blocking call(s) "
            f"rely on it"
        )
        out.extend(f"      {count:4}  {path}" for path, count in blocker.calls.items())
    out.append("")
    out.append("Order of work (leaf modules first):")
    out.extend(f"  {step:4}. {path}" for step, path in enumerate(project.order, start=1))
    return "\n".join(out) + "\n"


def _uri(path: str) -> str:
    candidate = Path(path)
    return candidate.as_posix() if not candidate.is_absolute() else candidate.as_uri()


def _result(finding: Finding) -> dict[str, object]:
    rule = RULES_BY_ID[finding.rule]
    text = f"{finding.name}: {rule.gevent} -> {rule.asyncio}"
    if finding.patched_by is not None:
        text += f" (cooperative only because of the patch at {finding.patched_by})"
    return {
        "ruleId": finding.rule,
        "ruleIndex": _RULE_INDEX[finding.rule],
        "level": "warning",
        "message": {"text": text},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": _uri(finding.path)},
                    "region": {"startLine": finding.line, "startColumn": finding.column},
                }
            }
        ],
    }


_RULE_INDEX = {rule.id: index for index, rule in enumerate(RULES)}


def sarif(report: Report, properties: dict[str, object] | None = None) -> dict[str, object]:
    run: dict[str, object] = {
        "tool": {
            "driver": {
                "name": "rosetta migrate",
                "rules": [
                    {
                        "id": rule.id,
                        "name": rule.id,
                        "shortDescription": {"text": rule.gevent},
                        "fullDescription": {"text": rule.asyncio},
                        "help": {"text": f"asyncio: {rule.asyncio}\ncaveat: {rule.caveat}"},
                        "defaultConfiguration": {"level": "warning"},
                    }
                    for rule in RULES
                ],
            }
        },
        "results": [_result(finding) for finding in report.findings],
    }
    if properties:
        run["properties"] = properties
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def dumps(document: dict[str, object]) -> str:
    return json.dumps(document, indent=2) + "\n"
