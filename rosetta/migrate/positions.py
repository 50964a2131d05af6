"""Line and column of `ast` nodes as people (and libcst) count them: columns in characters.

`ast` gives columns in UTF-8 bytes; a finding's column counts characters from the start of
the line, so a line with non-ASCII text before the finding is converted. Two places `ast`
does not mark are found here: the attribute name of `a.b` (it ends its node) and the name of
a `def` (after the keyword).
"""

from __future__ import annotations

import ast
import re

Span = tuple[int, int, int, int]  # line, column, end line, end column; columns from 0
_LINES = re.compile(r"\r\n|\r|\n")
_DEF = re.compile(r"(?:async\s+)?def\s+")


class Positions:
    def __init__(self, text: str) -> None:
        self.lines = _LINES.split(text)

    def column(self, line: int, offset: int) -> int:
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        if text.isascii():
            return offset
        return len(text.encode("utf-8")[:offset].decode("utf-8", errors="ignore"))

    def span(self, node: ast.AST) -> Span:
        line, offset = node.lineno, node.col_offset  # type: ignore[attr-defined]
        end_line = node.end_lineno or line  # type: ignore[attr-defined]
        end_offset = node.end_col_offset or 0  # type: ignore[attr-defined]
        return (
            line,
            self.column(line, offset),
            end_line,
            self.column(end_line, end_offset),
        )

    def attribute(self, node: ast.Attribute) -> Span:
        """Where the `attr` of `value.attr` is: the last thing in the node."""
        _, _, end_line, end_column = self.span(node)
        return (end_line, end_column - len(node.attr), end_line, end_column)

    def definition(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> Span:
        """Where the name of a `def` is."""
        line = node.lineno
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        start = self.column(line, node.col_offset)
        found = _DEF.match(text, start)
        column = found.end() if found else start
        return (line, column, line, column + len(node.name))
