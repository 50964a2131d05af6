from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rosetta.cli import main
from tests.migrate.expectations import CORPUS, expected_findings

ROOT = Path(__file__).resolve().parents[2]


def scan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["migrate", "scan", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_findings_give_exit_1_and_a_located_report(capsys: pytest.CaptureFixture[str]) -> None:
    path = CORPUS / "course_echo_server.py"
    code, out, err = scan(capsys, str(path))
    assert code == 1
    assert err == ""
    headers = [line for line in out.splitlines() if not line.startswith("    ")]
    assert headers == [
        f"{path}:5:1: monkey-patch-all gevent.monkey.patch_all",
        f"{path}:21:9: patched-time-sleep time.sleep",
        f"{path}:25:9: patched-socket socket.socket",
        f"{path}:32:9: spawn gevent.spawn",
        "4 finding(s) in 1 of 1 file(s)",
    ]
    assert "    asyncio: asyncio.create_task(fn(*args))" in out
    assert "    caveat: " in out


def test_nothing_found_gives_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = scan(capsys, str(CORPUS / "traps.py"))
    assert code == 0
    assert out == "0 finding(s) in 0 of 1 file(s)\n"


def test_json_output_carries_the_rule_text(capsys: pytest.CaptureFixture[str]) -> None:
    path = CORPUS / "timeouts.py"
    code, out, _ = scan(capsys, str(path), "--format", "json")
    assert code == 1
    document = json.loads(out)
    assert document["files"] == 1
    assert document["skipped"] == []
    assert [(f["line"], f["rule"]) for f in document["findings"]] == expected_findings(path)
    first = document["findings"][0]
    assert set(first) == {
        "path",
        "line",
        "column",
        "rule",
        "name",
        "asyncio",
        "caveat",
        "rewrite",
    }
    assert "BaseException" in first["caveat"]


def test_select_narrows_the_report(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = scan(
        capsys, str(CORPUS), "--select", "timeout-silent", "--select", "with-*", "--format", "json"
    )
    assert code == 1
    rows = [(Path(f["path"]).name, f["line"], f["rule"]) for f in json.loads(out)["findings"]]
    assert rows == [
        ("timeouts.py", 14, "timeout-silent"),
        ("timeouts.py", 16, "timeout-silent"),
        ("timeouts.py", 25, "with-timeout"),
    ]


def test_select_can_leave_nothing_to_find(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = scan(capsys, str(CORPUS / "timeouts.py"), "--select", "spawn")
    assert code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/no/such/dir"], "rosetta: error: no such file or directory: '/no/such/dir'"),
        ([str(CORPUS), "--select", "spawn,nope"], "rosetta: error: unknown rule 'nope'"),
    ],
)
def test_bad_arguments_give_exit_2_and_one_line(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = scan(capsys, *args)
    assert code == 2
    assert out == ""
    assert err.startswith(message)
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize(
    "args", [["migrate", "scan"], ["migrate", "scan", ".", "--format", "xml"], ["migrate"]]
)
def test_argparse_errors_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(args)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err


def test_an_unparsable_file_is_reported_and_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "broken.py").write_text("import gevent\nif True\n    gevent.sleep(1)\n")
    (tmp_path / "fine.py").write_text("import gevent\ngevent.sleep(1)\n")
    code, out, err = scan(capsys, str(tmp_path))
    assert code == 1
    assert err.startswith(f"rosetta: {tmp_path / 'broken.py'}: skipped: syntax error")
    assert f"{tmp_path / 'fine.py'}:2:1: sleep gevent.sleep" in out
    assert out.endswith("1 finding(s) in 1 of 2 file(s); 1 file(s) skipped\n")


def test_only_an_unparsable_file_is_not_a_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "broken.py").write_text("def (\n")
    code, out, err = scan(capsys, str(tmp_path), "--format", "json")
    assert code == 0
    assert "skipped" in err
    assert json.loads(out)["skipped"][0]["path"] == str(tmp_path / "broken.py")


def test_rules_lists_every_rule_once(capsys: pytest.CaptureFixture[str]) -> None:
    from rosetta.migrate.rules import RULES

    assert main(["migrate", "rules", "--format", "json"]) == 0
    listed = [rule["id"] for rule in json.loads(capsys.readouterr().out)]
    assert listed == [rule.id for rule in RULES]
    assert len(set(listed)) == len(listed)


def test_the_console_script_path_works_and_the_cli_module_is_light() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rosetta", "migrate", "scan", str(CORPUS / "star_import.py")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 1, done.stderr
    assert ":3:1: other gevent.*" in done.stdout
    probe = subprocess.run(
        [sys.executable, "-c", "import sys, rosetta.migrate.cli; print('libcst' in sys.modules)"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert probe.stdout.strip() == "False", probe.stderr
