"""The corpus states what the scanner must report: `# expect: rule-id[, rule-id]` on a line."""

from __future__ import annotations

import re
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"
_EXPECT = re.compile(r"#\s*expect:\s*(?P<rules>[a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*)\s*$")


def corpus_files() -> list[Path]:
    return sorted(CORPUS.glob("*.py"))


def expected_findings(path: Path) -> list[tuple[int, str]]:
    """(line, rule id) pairs, sorted, from the file's expectation comments."""
    expected: list[tuple[int, str]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = _EXPECT.search(line)
        if match:
            expected.extend((number, rule.strip()) for rule in match["rules"].split(","))
    return sorted(expected)
