"""The README and the docs stay true to the code."""

from __future__ import annotations

import re
from pathlib import Path

from rosetta import registry
from rosetta.cli import markdown_model_table

ROOT = Path(__file__).resolve().parent.parent


def test_readme_model_table_is_the_registry() -> None:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- models:start[^\n]*-->\n(.*?)\n<!-- models:end -->", readme, re.S)
    assert block, "README.md lost its model table markers"
    assert block.group(1) == markdown_model_table(), (
        "paste the output of `rosetta models --markdown` between the markers"
    )


def test_readme_quick_start_has_exactly_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```\n(.*?)\n```", quick_start, re.S)
    assert len(commands) == 2
    assert commands[0].endswith("rosetta serve http")
    assert "pytest" in commands[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[1] in ci, ".ci/run must run the README's test command verbatim"


def test_every_model_module_opens_with_its_docstring() -> None:
    for model in registry.MODELS:
        module = model.load()
        doc = module.__doc__ or ""
        assert len(doc.split()) > 40, f"{model.name} needs its opening docstring"
        assert "§" in doc, f"{model.name}: which course section?"


def test_snippet_includes_in_docs_point_at_real_files() -> None:
    for page in (ROOT / "docs").glob("*.md"):
        for included in re.findall(r'--8<-- "([^":]+)(?::[^"]*)?"', page.read_text()):
            assert (ROOT / included).is_file(), f"{page.name} includes missing {included}"
