"""Recall and precision of `rosetta migrate scan` on published gevent code, against our labels.

    python benchmarks/migrate/recall_precision.py [--cache DIR]

For each pinned package in labels.txt (or only the files it names with `PACKAGE PATH *`,
for a package whose other files are not labelled), fetches its source distribution from PyPI with
`pip download --no-binary :all: --no-deps NAME==VERSION` (into DIR, a cache kept between runs,
default $XDG_CACHE_HOME/rosetta/migrate-bench), unpacks it in a temporary folder, scans it as
a whole program, and compares the findings, as (file, line, rule) sets, with the hand labels.
No third-party source is kept in this project: only the labels are. Not a test: it needs the
network the first time, and prints figures to read, with the misses and the false findings.
"""

from __future__ import annotations

import argparse
import tempfile
from collections import defaultdict
from pathlib import Path

from _sdist import default_cache, fetch, unpack

from rosetta.migrate.project import Options, load_project

LABELS = Path(__file__).resolve().parent / "labels.txt"
Label = tuple[str, int, str]


def read_labels() -> tuple[dict[str, set[Label]], dict[str, set[str]]]:
    """The labels of each package, and the files scored (all when none is named)."""
    labels: dict[str, set[Label]] = defaultdict(set)
    scopes: dict[str, set[str]] = defaultdict(set)
    for raw in LABELS.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        package, location, rule = line.split()
        if rule == "*":  # `PACKAGE PATH *`: only the files so named are scored
            scopes[package].add(location)
            continue
        path, _, number = location.rpartition(":")
        labels[package].add((path, int(number), rule))
    return labels, scopes


def findings_of(root: Path) -> set[Label]:
    project = load_project([root], Options(cache=False))
    return {(Path(f.path).relative_to(root).as_posix(), f.line, f.rule) for f in project.findings}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=default_cache())
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    total_found = total_labels = total_right = 0
    every, scopes = read_labels()
    for package, labels in every.items():
        with tempfile.TemporaryDirectory() as folder:
            root = unpack(fetch(package, args.cache), Path(folder))
            found = findings_of(root)
        if scopes[package]:
            found = {label for label in found if label[0] in scopes[package]}
        right = found & labels
        recall = len(right) / len(labels) if labels else 1.0
        precision = len(right) / len(found) if found else 1.0
        print(
            f"{package}: recall {recall:.2f} ({len(right)}/{len(labels)}), "
            f"precision {precision:.2f} ({len(right)}/{len(found)})"
        )
        for path, line, rule in sorted(labels - found):
            print(f"    missed: {path}:{line} {rule}")
        for path, line, rule in sorted(found - labels):
            print(f"    not labelled: {path}:{line} {rule}")
        total_found += len(found)
        total_labels += len(labels)
        total_right += len(right)
    print(
        f"all: recall {total_right / total_labels:.2f}, "
        f"precision {total_right / max(total_found, 1):.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
