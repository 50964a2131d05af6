"""The whole-program view: patching seen across modules, the report, SARIF, the cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rosetta.cli import main
from rosetta.migrate.project import Options, load_project
from rosetta.migrate.rules import RULES_BY_ID
from tests.migrate.expectations import CORPUS, expected_findings

PACKAGE = CORPUS / "patched_pkg"
ENTRY = CORPUS / "entry_app"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["migrate", *args])
    return code, capsys.readouterr().out


def rows(paths: list[Path], **options: object) -> list[tuple[str, int, str, str | None]]:
    project = load_project(paths, Options(jobs=1, cache=False, **options))  # type: ignore[arg-type]
    return [(Path(f.path).name, f.line, f.rule, f.patched_by) for f in project.findings]


@pytest.mark.parametrize("folder", [PACKAGE, ENTRY], ids=lambda path: path.name)
def test_each_module_of_a_patched_program_yields_its_expectations(folder: Path) -> None:
    project = load_project([folder], Options(jobs=1, cache=False))
    found = sorted((Path(f.path).name, f.line, f.rule) for f in project.findings)
    expected = sorted(
        (path.name, line, rule)
        for path in folder.glob("*.py")
        for line, rule in expected_findings(path)
    )
    assert found == expected


def test_a_blocking_call_says_where_the_process_was_patched() -> None:
    found = rows([PACKAGE])
    patched_by = {by for name, _, rule, by in found if rule.startswith("patched-")}
    assert patched_by == {f"{PACKAGE / '__init__.py'}:5"}


def test_an_entry_point_patches_only_what_it_imports() -> None:
    found = rows([ENTRY])
    assert ("jobs.py", 8, "patched-time-sleep", f"{ENTRY / 'main.py'}:13") in found
    assert not [row for row in found if row[0] == "unrelated.py"]


def test_assume_patched_reports_every_module() -> None:
    found = rows([ENTRY / "unrelated.py"], assume_patched=True)
    assert found == [("unrelated.py", 7, "patched-time-sleep", "--assume-patched")]
    assert rows([ENTRY / "unrelated.py"]) == []


def test_the_report_colours_callers_orders_leaves_first_and_names_blockers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = run(capsys, "report", str(ENTRY), "--format", "json", "--no-cache")
    assert code == 1
    document = json.loads(out)
    coloured = {
        (Path(item["path"]).name, item["function"]) for item in document["must_become_async"]
    }
    assert coloured == {("jobs.py", "wait_a_bit"), ("jobs.py", "run_jobs"), ("main.py", "main")}
    assert [Path(path).name for path in document["order"]] == ["jobs.py", "main.py"]
    [patch] = document["patches"]
    assert patch["patch"] == f"{ENTRY / 'main.py'}:13"
    assert patch["blocking_calls"] == {str(ENTRY / "jobs.py"): 1}
    assert document["per_rule"] == {"patched-time-sleep": 1, "monkey-patch-all": 1}
    code, text = run(capsys, "report", str(ENTRY), "--no-cache")
    assert "Functions that must become async (3):" in text
    assert "Order of work (leaf modules first):" in text


@pytest.mark.parametrize("action", ["scan", "report"])
def test_sarif_has_the_2_1_0_structure(capsys: pytest.CaptureFixture[str], action: str) -> None:
    code, out = run(capsys, action, str(CORPUS / "timeouts.py"), "--format", "sarif")
    assert code == 1
    document = json.loads(out)
    assert document["version"] == "2.1.0"
    assert document["$schema"].endswith("sarif-2.1.0.json")
    [sarif_run] = document["runs"]
    driver = sarif_run["tool"]["driver"]
    assert driver["name"] == "rosetta migrate"
    rule_ids = [rule["id"] for rule in driver["rules"]]
    assert set(rule_ids) == set(RULES_BY_ID)
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] and rule["help"]["text"]
    results = sarif_run["results"]
    assert [
        (r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in results
    ] == [(rule, line) for line, rule in expected_findings(CORPUS / "timeouts.py")]
    for result in results:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        assert result["message"]["text"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"].endswith("timeouts.py")
        assert location["region"]["startColumn"] >= 1


def test_results_are_cached_by_content_and_no_cache_recomputes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    program = tmp_path / "prog"
    program.mkdir()
    for number in range(10):  # enough files for the parallel path
        (program / f"m{number}.py").write_text(f"import gevent\ngevent.sleep({number})\n")
    code, first = run(capsys, "scan", str(program), "--jobs", "2")
    entries = list((tmp_path / "cache").rglob("*.json"))
    assert code == 1 and len(entries) == 10
    # A cached entry is what the next run reads: changing it changes the answer.
    for entry in entries:
        facts = json.loads(entry.read_text())
        facts["hits"][0]["rule"] = "sleep-zero"
        entry.write_text(json.dumps(facts))
    _, cached = run(capsys, "scan", str(program), "--jobs", "2")
    assert cached.count(" sleep-zero ") == 10
    _, fresh = run(capsys, "scan", str(program), "--no-cache")
    assert fresh == first
