"""docs/running.md's table of the models that serve HTTPS is the registry's."""

from __future__ import annotations

import re
from pathlib import Path

from rosetta import registry

RUNNING = Path(__file__).resolve().parents[1] / "docs" / "running.md"


def test_the_https_table_is_the_registry() -> None:
    section = RUNNING.read_text().split("\n## HTTPS\n", 1)[1].split("\n## ", 1)[0]
    table = section.split("| model | HTTPS |\n|---|---|\n", 1)[1].split("\n\n", 1)[0]
    said: dict[str, bool] = {}
    for row in table.splitlines():
        models, answer = row.strip("|").split("|", 1)
        for name in re.findall(r"`([\w.]+)`", models):
            assert name not in said, f"{name} is listed twice"
            said[name] = answer.strip().startswith("yes")
    assert said == {model.name: model.tls for model in registry.serving("http")}
