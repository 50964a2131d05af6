"""`rosetta migrate scan|report|rewrite|rules`: the gevent -> asyncio scanner on the command line.

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

from rosetta.usage import fail

EXIT_CLEAN, EXIT_FOUND = 0, 1


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
    _project_arguments(scan)

    report = actions.add_parser(
        "report",
        help="the project view: counts, functions that must become async, order of work",
        description="Scan a whole program and report counts per rule and module, the "
        "functions that must become async (propagated along the call graph), what stands in "
        "the way of removing each monkey patch, and an order of work, leaf modules first. "
        "Exit 0: nothing found; 1: found; 2: bad arguments.",
    )
    _project_arguments(report)

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


def _project_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="file or directory")
    parser.add_argument("--format", choices=("text", "json", "sarif"), default="text")
    parser.add_argument(
        "--select",
        action="append",
        metavar="RULES",
        help="only these rule ids, comma-separated; shell patterns allowed (patched-*)",
    )
    parser.add_argument(
        "--assume-patched",
        action="store_true",
        help="the program is patched from outside (gunicorn's gevent worker, a launcher): "
        "report blocking calls in every module",
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="analyse every file again (results are otherwise kept in $XDG_CACHE_HOME/rosetta)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=0,
        metavar="N",
        help="worker processes (default: one per core)",
    )


def _missing(paths: list[Path]) -> Path | None:
    return next((path for path in paths if not path.exists()), None)


def run(args: argparse.Namespace) -> int:
    action = args.migrate_action
    if action == "rules":
        return _rules(args)
    missing = _missing(args.paths)
    if missing is not None:
        return fail(f"no such file or directory: {str(missing)!r}")
    if action in ("scan", "report"):
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
    from rosetta.migrate import formats
    from rosetta.migrate.project import Options, load_project
    from rosetta.migrate.report import build_report
    from rosetta.migrate.rules import UnknownRule, select_rules

    select = None
    if args.select:
        try:
            select = select_rules(args.select)
        except UnknownRule as error:
            return fail(str(error))
    if args.jobs < 0:
        return fail("--jobs must be 0 (one per core) or more")
    options = Options(select, args.jobs, not args.no_cache, args.assume_patched)
    project = load_project(args.paths, options)
    report = project.report()
    for skipped in report.skipped:
        _warn_skipped(skipped.path, skipped.error)
    if args.migrate_action == "report":
        summary = build_report(project)
        if args.format == "text":
            sys.stdout.write(formats.report_text(report, summary))
        elif args.format == "json":
            sys.stdout.write(formats.dumps(formats.report_json(report, summary)))
        else:
            document = formats.report_json(report, summary)
            sys.stdout.write(formats.dumps(formats.sarif(report, {"report": document})))
    elif args.format == "text":
        sys.stdout.write(formats.scan_text(report))
    elif args.format == "json":
        sys.stdout.write(formats.dumps(formats.scan_json(report)))
    else:
        sys.stdout.write(formats.dumps(formats.sarif(report)))
    sys.stdout.flush()
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
