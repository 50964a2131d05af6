"""mkdocs hook: the highlighted lines of an included part, found by their text at build time.

A code block that includes part of a source file names the lines that carry its idea by a
piece of each line's text, never by a line number:

    ```python hl="readable, _, _ = select.select(" hl="_accept(server"
    --8<-- "classic/select_echo.py:loop"
    ```

When the site is built, each text must be on exactly one line of the included part (the lines
between the section's markers, other markers left out, as pymdownx.snippets includes them);
the block is given those lines' numbers as `hl_lines` (counted as Pygments counts them, after
the part's leading empty lines, which it drops). A line moved, added or removed in the
source moves its highlight with it. A highlighted line edited so that its text is gone, or a
text that now matches two lines, stops the build with the page, the part and the text named.
A text holding a double quote is written between single quotes: `hl='b"\\r\\n"'`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

BLOCK = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,})(?P<lang>[\w+-]+)(?P<attrs>[^\n]*\bhl=[^\n]*)\n"
    r'(?P<include>(?P=indent)--8<-- "(?P<path>[^":]+):(?P<section>[-_0-9a-z]+)"\n)',
    re.M,
)
TEXT = re.compile(r"""\s*\bhl=(?:"(?P<double>[^"]*)"|'(?P<single>[^']*)')""")
# pymdownx.snippets' own marker: `--8<-- [start:name]`, anywhere on a line.
MARKER = re.compile(
    r"(?i)-+8<-+[ \t]+\[[ \t]*(?P<type>start|end)[ \t]*:[ \t]*(?P<name>[a-z][-_0-9a-z]*)[ \t]*\]"
)


class HighlightError(ValueError):
    """A highlight's text is on no line, or on several lines, of its included part."""


def section_lines(path: Path, name: str) -> list[str]:
    """The lines of `path` between `[start:name]` and `[end:name]`, other markers left out,
    numbered as the highlighter numbers them."""
    lines: list[str] = []
    inside = False
    for line in path.read_text().splitlines():
        marker = MARKER.search(line)
        if marker is None:
            if inside:
                lines.append(line)
            continue
        if marker["name"] == name and marker["type"] == "start":
            inside = True
        elif marker["name"] == name and inside:
            # Pygments drops a block's leading empty lines before it numbers the rest.
            while lines and lines[0] == "":
                del lines[0]
            return lines
    raise HighlightError(f"{path.name} has no section [{name}]")


def texts(attrs: str) -> list[str]:
    return [
        match["double"] if match["double"] is not None else match["single"]
        for match in TEXT.finditer(attrs)
    ]


def line_numbers(lines: list[str], wanted: list[str], where: str) -> list[int]:
    """The 1-based number of the one line holding each text, in the order of the lines."""
    numbers = []
    for text in wanted:
        if not text.strip():
            raise HighlightError(f"{where}: an empty highlight text")
        found = [number for number, line in enumerate(lines, 1) if text in line]
        if not found:
            raise HighlightError(f"{where}: no line holds {text!r}; the code moved or changed")
        if len(found) > 1:
            raise HighlightError(
                f"{where}: {text!r} is on lines {found}; write more of the line to pick one"
            )
        numbers.append(found[0])
    if len(set(numbers)) != len(numbers):
        raise HighlightError(f"{where}: two texts pick the same line")
    return sorted(numbers)


def resolve(markdown: str, root: Path) -> str:
    """`markdown` with every `hl="text"` block's texts turned into its `hl_lines`."""

    def replace(block: re.Match[str]) -> str:
        where = f"{block['path']}:{block['section']}"
        wanted = texts(block["attrs"])
        lines = section_lines(root / block["path"], block["section"])
        numbers = line_numbers(lines, wanted, where)
        others = TEXT.sub("", block["attrs"]).rstrip()
        hl_lines = " ".join(map(str, numbers))
        opening = f'{block["indent"]}{block["fence"]}{block["lang"]}{others} hl_lines="{hl_lines}"'
        return f"{opening}\n{block['include']}"

    return BLOCK.sub(replace, markdown)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    root = Path(config["config_file_path"]).resolve().parent
    try:
        return resolve(markdown, root)
    except (HighlightError, OSError) as error:
        raise PluginError(f"{page.file.src_path}: {error}") from error
