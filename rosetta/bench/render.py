"""`rosetta bench render`: a docs page's generated parts rebuilt from recorded JSON documents.

Between `<!-- bench:KIND -->` and `<!-- /bench:KIND -->` the page gets the kind's table (one
row per contender, one column per point of the sweep), the command that measured it, when,
on what machine, with which versions and under what load; everything outside the markers is
kept as written. The plots are redrawn from the same documents.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rosetta.bench.report import table_rows

LIBRARIES_SHOWN = ("uvloop", "gevent", "greenlet", "aiohttp", "uvicorn", "starlette", "granian")


def markdown_table(document: dict[str, Any]) -> str:
    header, rows = table_rows(document)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [f"`{row[0]}`", *(cell.replace("|", "/") for cell in row[1:])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def block(document: dict[str, Any], plot: str | None) -> str:
    machine = document["machine"]
    versions = ", ".join(
        f"{name} {document['versions'][name]}"
        for name in LIBRARIES_SHOWN
        if document["versions"].get(name, "not installed") != "not installed"
    )
    tools = ", ".join(value for value in document["tools"].values() if value != "not installed")
    start, end = document["load_average"]["start"], document["load_average"]["end"]
    lines = [
        f"`{document['command']}`",
        "",
        f"{document['started_utc']}, {document['seconds']:.0f} s; {machine['cpu']}, "
        f"{machine['cores']} cores, Linux {machine['kernel']}; Python {document['python']}, "
        f"{versions}; {tools}. Load average (1, 5, 15 min) "
        f"{' '.join(f'{v:.2f}' for v in start)} at the start, "
        f"{' '.join(f'{v:.2f}' for v in end)} at the end.",
        "",
        f"Unit: {document['unit']}; each cell is the median of "
        f"{document['settings'].get('rounds')} rounds [min-max] and its ratio to "
        f"`{document['baseline']}`.",
        "",
        markdown_table(document),
    ]
    notes = sorted({(f["contender"], f["note"]) for f in document["figures"] if f["note"]})
    if notes:
        lines.append("")
        lines += [f"- `{label}`: {note}" for label, note in notes]
    if document["warnings"]:
        lines.append("")
        lines += [f"- warning: {warning}" for warning in document["warnings"]]
    if plot:
        lines += ["", f"![{document['kind']}]({plot})"]
    return "\n".join(lines)


def render(documents: Sequence[Path], page: Path, plot_dir: Path | None) -> int:
    text = page.read_text()
    for path in documents:
        document = json.loads(path.read_text())
        kind = document["kind"]
        plot = None
        if plot_dir is not None:
            from rosetta.bench import plots

            drawn = plots.draw(document, plot_dir)[0]
            plot = str(
                drawn.relative_to(page.parent.resolve())
                if drawn.is_absolute()
                else Path(drawn).resolve().relative_to(page.parent.resolve())
            )
        pattern = re.compile(rf"(<!-- bench:{kind} -->\n).*?(<!-- /bench:{kind} -->)", re.DOTALL)
        if not pattern.search(text):
            print(
                f"rosetta bench render: {page} has no <!-- bench:{kind} --> markers; {path} skipped"
            )
            continue
        generated = block(document, plot) + "\n"
        text = pattern.sub(lambda match, new=generated: match[1] + new + match[2], text)
    page.write_text(text)
    return 0
