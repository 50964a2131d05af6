"""The scanner on this project's own code: classic/ is full of gevent idioms, modern/ has none."""

from __future__ import annotations

import ast
import contextlib
import io
import json
import re
from pathlib import Path

import pytest

from rosetta.cli import main
from rosetta.migrate.rules import RULES

ROOT = Path(__file__).resolve().parents[2]
CLASSIC = ROOT / "classic"
MODERN = ROOT / "modern"
GUIDE = ROOT / "docs" / "migration.md"


def imports_gevent_or_greenlet(path: Path) -> bool:
    """Decided with the standard parser, independently of the scanner under test."""
    for node in ast.walk(ast.parse(path.read_bytes(), str(path))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        else:
            continue
        if any(module.split(".")[0] in ("gevent", "greenlet") for module in modules):
            return True
    return False


@pytest.fixture(scope="module")
def classic_scan() -> tuple[int, dict]:
    """`rosetta migrate scan classic/ --format json`, run once for the tests below."""
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        code = main(["migrate", "scan", str(CLASSIC), "--format", "json"])
    return code, json.loads(output.getvalue())


def test_scanning_classic_finds_something_and_exits_1(classic_scan: tuple[int, dict]) -> None:
    code, document = classic_scan
    assert code == 1
    assert document["skipped"] == []
    assert {"monkey-patch-all", "spawn", "joinall", "greenlet-switch"} <= {
        finding["rule"] for finding in document["findings"]
    }


def test_every_classic_module_using_gevent_or_greenlet_is_found(
    classic_scan: tuple[int, dict],
) -> None:
    modules = sorted(CLASSIC.glob("*.py"))
    users = {path.resolve() for path in modules if imports_gevent_or_greenlet(path)}
    assert users, "classic/ implements the course's greenlet and gevent sections"
    _, document = classic_scan
    found_in = {Path(finding["path"]).resolve() for finding in document["findings"]}
    assert users <= found_in
    # A classic module without gevent (select, epoll, threads...) comes out clean, unless it
    # runs in a process that gevent patched: _urllib_fetch is the downloader's blocking half,
    # and _descriptors' pause when out of descriptors runs in the gevent server too.
    patched_by = {
        Path(finding["path"]).resolve(): finding.get("patched_by", "").split(":")[0]
        for finding in document["findings"]
        if finding.get("patched_by")
    }
    assert found_in - users == set(patched_by)
    assert {path.name: Path(by).name for path, by in patched_by.items()} == {
        "_urllib_fetch.py": "gevent_download.py",
        "_descriptors.py": "gevent_server.py",
    }


def test_modern_has_nothing_to_migrate(capsys: pytest.CaptureFixture[str]) -> None:
    assert list(MODERN.glob("*.py")), "modern/ holds the asyncio counterparts"
    assert main(["migrate", "scan", str(MODERN)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.startswith("0 finding(s)")


def test_the_guide_covers_every_rule() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    missing = [rule.id for rule in RULES if f"`{rule.id}`" not in guide]
    assert missing == []


def test_the_guide_includes_only_files_that_exist() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    included = re.findall(r'--8<--\s+"([^"]+)"', guide)
    assert included, "the worked examples include real source"
    for reference in included:
        path = reference.split(":", 1)[0]
        assert (ROOT / path).is_file(), reference
        section = reference.split(":", 1)[1] if ":" in reference else None
        if section:
            source = (ROOT / path).read_text(encoding="utf-8")
            assert f"--8<-- [start:{section}]" in source, reference
