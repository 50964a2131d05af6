"""What a bench run shows while it runs and at the end: a progress bar and a table on a
terminal (rich), plain lines otherwise, so a log file or a pipe reads as well as a screen."""

from __future__ import annotations

import sys
from typing import Any

from rosetta.bench.document import Contender, Document, point_key


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "bytes":
        return f"{value / 1024:.2f} KiB" if abs(value) >= 100 else f"{value:.0f} B"
    if unit == "s":
        return f"{value:.3f} s"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


class Progress:
    """A rich progress bar on a terminal (on stderr), one plain line per figure otherwise."""

    def __init__(self, total: int, title: str) -> None:
        self.total = total
        self.done = 0
        self._bar: Any = None
        if sys.stderr.isatty():
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                transient=True,
            )
            self._task = self._bar.add_task(title, total=total)
            self._bar.start()

    def step(
        self,
        round_number: int,
        contender: Contender,
        point: Any,
        measured: dict[str, Any],
        unit: str,
    ) -> None:
        self.done += 1
        suffix = "" if unit in ("s", "bytes") else f" {unit}"  # those values name their unit
        line = (
            f"round {round_number} {contender.label} {point_key(point)}: "
            f"{format_value(measured.get('value'), unit)}{suffix}"
        )
        if measured.get("status", "ok") != "ok":
            line += f" ({measured['status']}: {measured.get('note', '')})"
        if self._bar is not None:
            self._bar.update(self._task, advance=1, description=line[:60])
        else:
            print(f"[{self.done}/{self.total}] {line}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def table_rows(document: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """One row per contender, one column per point: "median (ratio) [min-max]"."""
    unit = document["unit"]
    points: list[str] = []
    cells: dict[str, dict[str, str]] = {}
    for figure in document["figures"]:
        key = point_key(figure["point"])
        if key not in points:
            points.append(key)
        text = format_value(figure["median"], unit)
        if figure["median"] is not None and figure["min"] != figure["max"]:
            text += f" [{format_value(figure['min'], unit)}-{format_value(figure['max'], unit)}]"
        if figure["ratio"] is not None:
            text += f" {figure['ratio']:.2f}x"
        if figure.get("mean_ms") is not None and figure.get("p99_ms") is None:
            text += f" mean {figure['mean_ms']:.2g} ms"
        if figure.get("p99_ms") is not None:
            text += f" p50/p99 {figure['p50_ms']:.2g}/{figure['p99_ms']:.2g} ms"
        if figure.get("idle_cpu") is not None:
            text += f" idle CPU {figure['idle_cpu'] * 100:.1f}%"
        if figure.get("errors"):
            text += f" errors {figure['errors']}"
        if figure["status"] not in ("ok",):
            text += f" ({figure['status']})"
        cells.setdefault(figure["contender"], {})[key] = text
    header = ["contender", *(key if key != "-" else document["unit"] for key in points)]
    order = [contender["label"] for contender in document["contenders"]]
    rows = [[label, *(cells.get(label, {}).get(key, "-") for key in points)] for label in order]
    return header, rows


def print_table(document: dict[str, Any]) -> None:
    header, rows = table_rows(document)
    title = (
        f"rosetta bench {document['kind']}: {document['unit']}, median [min-max] of "
        f"{document['settings'].get('rounds', '?')} rounds, ratio to {document['baseline']}"
    )
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title)
        for name in header:
            table.add_column(name)
        for row in rows:
            table.add_row(*row)
        Console().print(table)
    else:
        print(title)
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    notes = sorted({(f["contender"], f["note"]) for f in document["figures"] if f["note"]})
    for label, note in notes:
        print(f"  {label}: {note}")
    for warning in document["warnings"]:
        print(f"warning: {warning}")


def finish(document: Document, args: Any) -> int:
    """Print and write what the run found, as the options ask; the exit status."""
    import json

    data = document.to_json()
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(data, indent=1) + "\n")
    if args.json:
        print(json.dumps(data, indent=1))
    else:
        print_table(data)
    if args.plot is not None:
        from rosetta.bench import plots

        for path in plots.draw(data, args.plot):
            print(f"plot: {path}", file=sys.stderr)
    return 0
