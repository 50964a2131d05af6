"""Interleaved rounds: A B C, then B C A, then C A B, so that drift in the machine's load
touches every contender alike; each contender is started once per round and measured at every
point of the sweep before the next one starts, so no idle contender takes CPU from the one
being measured.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from rosetta.bench.cli import recorded_settings
from rosetta.bench.document import Contender, Document

Point = Mapping[str, Any]
Measure = Callable[[Point], dict[str, Any]]
# A session starts a contender and yields the function that measures it at one point.
Session = Callable[[Contender], AbstractContextManager[Measure]]


def new_document(
    args: Any,
    unit: str,
    contenders: list[Contender],
    preferred: str,
    *,
    higher_is_better: bool = True,
    **settings: Any,
) -> Document:
    """The document of one run of `args.kind`: its options recorded (and `settings`, what the
    run found out, beside or over them), the baseline --baseline or else the contender named
    `preferred`, or the first one when that one is not measured."""
    baseline = args.baseline or next(
        (contender.label for contender in contenders if contender.name == preferred),
        contenders[0].label,
    )
    return Document(
        kind=args.kind,
        unit=unit,
        higher_is_better=higher_is_better,
        settings={**recorded_settings(args), **settings},
        baseline=baseline,
        contenders=contenders,
    )


def rotated(items: Sequence[Contender], shift: int) -> list[Contender]:
    shift %= max(len(items), 1)
    return [*items[shift:], *items[:shift]]


def run_rounds(
    document: Document,
    points: Sequence[Point],
    rounds: int,
    session: Session,
    progress: Any,
    checkpoint: Callable[[], None] = lambda: None,
) -> None:
    """Every contender at every point, `rounds` times, interleaved; results into `document`,
    and `checkpoint()` after each contender's turn (a long run interrupted keeps its rounds)."""
    for round_number in range(1, rounds + 1):
        for contender in rotated(document.contenders, round_number - 1):
            for point, measured in _measure_all(contender, points, session, document):
                document.add(contender, point, round_number, measured)
                progress.step(round_number, contender, point, measured, document.unit)
            checkpoint()


def _measure_all(
    contender: Contender, points: Sequence[Point], session: Session, document: Document
) -> Iterator[tuple[Point, dict[str, Any]]]:
    try:
        with session(contender) as measure:
            for point in points:
                try:
                    measured = measure(point)
                except (RuntimeError, OSError) as error:
                    document.warn(f"{contender.label} at {point}: {error}")
                    measured = {"value": 0.0, "status": "failed", "note": str(error), "errors": 1}
                yield point, measured
    except StartFailed as failure:
        document.warn(f"{contender.label}: {failure}")
        for point in points:
            yield point, {"value": 0.0, "status": "failed", "note": str(failure), "errors": 1}


class StartFailed(RuntimeError):
    """A contender did not start (or died); its figures of that round are marked failed."""


def label_twice_named(names: Sequence[str]) -> list[tuple[str, str]]:
    """(name, label) pairs; a name listed again becomes a second contender, `name#2`."""
    seen: dict[str, int] = {}
    pairs = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        pairs.append((name, name if seen[name] == 1 else f"{name}#{seen[name]}"))
    return pairs


def execute(args: Any, document: Document, points: Sequence[Point], session: Session) -> int:
    """The run every kind shares: rounds with a progress bar, then the table, JSON, plots."""
    from rosetta.bench import report
    from rosetta.usage import UsageError

    labels = [contender.label for contender in document.contenders]
    if document.baseline not in labels:
        raise UsageError(
            f"baseline {document.baseline} is not among the contenders ({', '.join(labels)})"
        )
    progress = report.Progress(len(labels) * len(points) * args.rounds, f"bench {args.kind}")

    def checkpoint() -> None:
        if args.out is not None:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(document.to_json(), indent=1) + "\n")

    try:
        run_rounds(document, points, args.rounds, session, progress, checkpoint)
    finally:
        progress.close()
    return report.finish(document, args)
