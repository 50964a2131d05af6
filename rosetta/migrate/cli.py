"""`rosetta migrate scan|rewrite|rules`: the gevent -> asyncio scanner on the command line.

Exit codes: 0 nothing found (or nothing to rewrite), 1 something found, 2 bad arguments. A file
that cannot be parsed is reported on stderr and skipped; it does not change the exit code.
libcst is imported only when a sub-command runs, so `rosetta --help` stays fast.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

EXIT_CLEAN, EXIT_FOUND, EXIT_USAGE = 0, 1, 2


def register(subparsers: Any) -> None:
    migrate = subparsers.add_parser(
        "migrate",
        help="find gevent/greenlet idioms and say what replaces them in asyncio",
        description="Scan Python code for gevent and greenlet idioms (without importing it) "
        "and print, for each, the asyncio equivalent and what differs in meaning.",
    )
    actions = migrate.add_subparsers(dest="migrate_action", metavar="ACTION", required=True)

    scan = actions.add_parser(
        "scan",
        help="report every gevent/greenlet use (exit 1 if any)",
        description="Report every gevent and greenlet use, with file:line:column, the rule id, "
        "the asyncio equivalent and the semantic caveat. Exit 0: none found; 1: found; "
        "2: bad arguments.",
    )
    scan.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="file or directory")
    scan.add_argument("--format", choices=("text", "json"), default="text")
    scan.add_argument(
        "--select", action="append", metavar="RULES",
        help="only these rule ids, comma-separated; shell patterns allowed (patched-*)",
    )

    rewrite = actions.add_parser(
        "rewrite",
        help="apply the mechanical rewrites inside async def (prints a diff)",
        description="Rewrite gevent.sleep / time.sleep (patched) / gevent.joinall statements "
        "inside async functions to their asyncio form. Prints a unified diff; changes files "
        "only with --write. Exit 0: nothing to rewrite; 1: a diff was produced.",
    )
    rewrite.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="file or directory")
    rewrite.add_argument(
        "--diff", action="store_true", default=True, help="print a unified diff (the default)"
    )
    rewrite.add_argument("--write", action="store_true", help="write the changes to the files")

    rules = actions.add_parser("rules", help="list the rule ids")
    rules.add_argument("--format", choices=("text", "json"), default="text")

    migrate.set_defaults(handler=run)


def _error(message: str) -> int:
    print(f"rosetta: error: {message}", file=sys.stderr, flush=True)
    return EXIT_USAGE


def _missing(paths: list[Path]) -> Path | None:
    return next((path for path in paths if not path.exists()), None)


def run(args: argparse.Namespace) -> int:
    action = args.migrate_action
    if action == "rules":
        return _rules(args)
    missing = _missing(args.paths)
    if missing is not None:
        return _error(f"no such file or directory: {str(missing)!r}")
    if action == "scan":
        return _scan(args)
    return _rewrite(args)


def _rules(args: argparse.Namespace) -> int:
    from rosetta.migrate.rules import RULES

    if args.format == "json":
        print(json.dumps([dataclasses.asdict(rule) for rule in RULES], indent=2))
    else:
        width = max(len(rule.id) for rule in RULES)
        for rule in RULES:
            mark = " (rewrite)" if rule.rewrite else ""
            print(f"{rule.id:<{width}}  {rule.gevent}{mark}")
    return EXIT_CLEAN


def _warn_skipped(path: str, error: str) -> None:
    print(f"rosetta: {path}: skipped: {error}", file=sys.stderr, flush=True)


def _scan(args: argparse.Namespace) -> int:
    from rosetta.migrate.rules import UnknownRule, select_rules
    from rosetta.migrate.scanner import scan_paths

    select = None
    if args.select:
        try:
            select = select_rules(args.select)
        except UnknownRule as error:
            return _error(str(error))
    report = scan_paths(args.paths, select)
    for skipped in report.skipped:
        _warn_skipped(skipped.path, skipped.error)
    if args.format == "json":
        document = {
            "findings": [finding.as_json() for finding in report.findings],
            "skipped": [{"path": item.path, "error": item.error} for item in report.skipped],
            "files": report.files,
        }
        print(json.dumps(document, indent=2))
    else:
        for finding in report.findings:
            rule = finding.details
            print(f"{finding.path}:{finding.line}:{finding.column}: {finding.rule} {finding.name}")
            print(f"    asyncio: {rule.asyncio}")
            print(f"    caveat: {rule.caveat}")
        files_hit = len({finding.path for finding in report.findings})
        summary = f"{len(report.findings)} finding(s) in {files_hit} of {report.files} file(s)"
        if report.skipped:
            summary += f"; {len(report.skipped)} file(s) skipped"
        print(summary)
    return EXIT_FOUND if report.findings else EXIT_CLEAN


def _rewrite(args: argparse.Namespace) -> int:
    from rosetta.migrate.rewrite import rewrite_source
    from rosetta.migrate.scanner import Unparsable, python_files

    changed = 0
    for path in python_files(args.paths):
        try:
            result = rewrite_source(path.read_bytes(), str(path))
        except OSError as error:
            _warn_skipped(str(path), error.strerror or str(error))
            continue
        except Unparsable as error:
            _warn_skipped(str(path), str(error))
            continue
        except Exception as error:  # one odd file must not stop the others
            _warn_skipped(str(path), f"cannot analyse: {error!r}")
            continue
        for hit, reason in result.left:
            print(
                f"rosetta: {path}:{hit.line}:{hit.column}: {hit.rule} left as is: {reason}",
                file=sys.stderr,
            )
        if not result.changed:
            continue
        changed += 1
        sys.stdout.write(result.diff())
        if args.write:
            path.write_bytes(result.after.encode(result.encoding))
    sys.stdout.flush()
    if changed:
        done = "rewrote" if args.write else "would rewrite (use --write)"
        print(f"rosetta: {done} {changed} file(s)", file=sys.stderr, flush=True)
    return EXIT_FOUND if changed else EXIT_CLEAN
