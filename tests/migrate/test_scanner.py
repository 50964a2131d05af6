from __future__ import annotations

from pathlib import Path

import pytest

from rosetta.migrate.project import scan_paths
from rosetta.migrate.rules import RULES, RULES_BY_ID, UnknownRule, select_rules
from rosetta.migrate.scanner import Unparsable, python_files, scan_source
from tests.migrate.expectations import CORPUS, corpus_files, expected_findings


def found(path: Path) -> list[tuple[int, str]]:
    return sorted((f.line, f.rule) for f in scan_source(path.read_bytes(), str(path)))


@pytest.mark.parametrize("path", corpus_files(), ids=lambda path: path.name)
def test_corpus_file_yields_exactly_its_expectations(path: Path) -> None:
    assert found(path) == expected_findings(path)


def test_the_corpus_exercises_every_rule() -> None:
    expected = {rule for path in corpus_files() for _, rule in expected_findings(path)}
    assert expected == set(RULES_BY_ID)


def test_the_expectation_comments_are_read() -> None:
    # Guards the corpus test against a reader that silently finds no expectation at all.
    assert expected_findings(CORPUS / "course_greenlet.py") == [
        (9, "greenlet-switch"),
        (14, "greenlet-switch"),
        (17, "greenlet-greenlet"),
        (18, "greenlet-greenlet"),
        (23, "getcurrent"),
        (24, "sleep"),
        (28, "greenlet-switch"),
        (29, "spawn"),
        (30, "spawn"),
        (31, "greenlet-join"),
        (32, "greenlet-join"),
    ]


def test_aliases_resolve_to_the_gevent_names_with_exact_positions() -> None:
    path = CORPUS / "aliases.py"
    rows = [(f.line, f.column, f.rule, f.name) for f in scan_source(path.read_bytes())]
    assert rows == [
        (11, 1, "monkey-patch-partial", "gevent.monkey.patch_socket"),
        (15, 5, "sleep", "gevent.sleep"),  # import gevent as gv
        (19, 5, "monkey-patch-all", "gevent.monkey.patch_all"),  # from gevent.monkey import
        (20, 12, "spawn", "gevent.spawn"),  # from gevent import spawn as go
        (21, 10, "greenlet-join", ".join"),
        (22, 15, "pool", "gevent.pool.Pool"),  # import gevent.pool as gp
        (23, 13, "pool-map", ".map"),
        (24, 13, "queue", "gevent.queue.Queue"),  # from gevent import queue as q
        (25, 13, "greenlet-greenlet", "greenlet.greenlet"),  # greenlet as Coroutine
        (26, 11, "greenlet-switch", ".switch"),
        (27, 10, "getcurrent", "greenlet.getcurrent"),  # import greenlet as gl
    ]


def test_look_alike_names_are_not_reported() -> None:
    assert found(CORPUS / "traps.py") == []


@pytest.mark.parametrize(
    "source",
    [
        "import asyncio\nasync def f():\n    await asyncio.sleep(0)\n",
        "def spawn(f):\n    return f\nspawn(print)\n",
        "class C:\n    def sleep(self):\n        pass\nC().sleep()\n",
        "import time\ntime.sleep(1)\n",  # no patching in this module
        "from mylib import gevent_like\ngevent_like.spawn(print)\n",
        "import threading\nt = threading.Thread(target=print)\nt.start()\nt.join()\n",
        "text = 'gevent.spawn(f)'\n# gevent.sleep(1)\n",
        "from gevent import spawn\ndef run(spawn):\n    spawn(1)\n",
    ],
)
def test_trap_snippets_are_clean(source: str) -> None:
    assert scan_source(source) == []


def test_a_greenlet_method_is_only_reported_on_a_greenlet() -> None:
    source = (
        "import gevent, threading\n"
        "def one():\n"
        "    job = gevent.spawn(print)\n"
        "    job.join()\n"
        "def two():\n"
        "    job = threading.Thread(target=print)\n"
        "    job.join()\n"
    )
    assert [(f.line, f.rule) for f in scan_source(source)] == [(3, "spawn"), (4, "greenlet-join")]


def test_patches_inside_functions_count_for_the_module() -> None:
    source = (
        "import time\n"
        "def main():\n"
        "    from gevent import monkey\n"
        "    monkey.patch_all()\n"
        "    time.sleep(1)\n"
    )
    assert [(f.line, f.rule) for f in scan_source(source)] == [
        (4, "monkey-patch-all"),
        (5, "patched-time-sleep"),
    ]


def test_select_keeps_only_the_chosen_rules() -> None:
    path = CORPUS / "greenlet_api.py"
    chosen = select_rules(["sleep-zero,greenlet-kill"])
    rules = {f.rule for f in scan_source(path.read_bytes(), select=chosen)}
    assert rules == {"sleep-zero", "greenlet-kill"}


def test_select_accepts_patterns_and_refuses_unknown_ids() -> None:
    assert select_rules(["patched-*"]) == {r.id for r in RULES if r.id.startswith("patched-")}
    with pytest.raises(UnknownRule):
        select_rules(["spawn,no-such-rule"])
    with pytest.raises(UnknownRule):
        select_rules([","])


def test_every_rule_says_what_replaces_it_and_what_differs() -> None:
    for rule in RULES:
        assert rule.id and rule.gevent and rule.asyncio and rule.caveat, rule.id


def test_a_syntax_error_is_unparsable() -> None:
    with pytest.raises(Unparsable):
        scan_source("import gevent\ndef broken(:\n")


def test_an_unparsable_file_is_skipped_and_the_others_scanned(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("import gevent\ngevent.sleep(\n")
    (tmp_path / "binary.py").write_bytes(b"\xff\xfe\x00garbage\x00")
    (tmp_path / "good.py").write_text("import gevent\ngevent.sleep(1)\n")
    report = scan_paths([tmp_path])
    assert report.files == 3
    assert [(Path(f.path).name, f.line, f.rule) for f in report.findings] == [
        ("good.py", 2, "sleep"),
    ]
    assert sorted(Path(s.path).name for s in report.skipped) == ["binary.py", "broken.py"]


def test_a_declared_encoding_is_honoured() -> None:
    source = "# -*- coding: latin-1 -*-\nimport gevent\n# café\ngevent.sleep(1)\n"
    findings = scan_source(source.encode("latin-1"))
    assert [(f.line, f.rule) for f in findings] == [(4, "sleep")]


def test_directories_are_walked_without_hidden_and_cache_directories(tmp_path: Path) -> None:
    for relative in ("a.py", "pkg/b.py", ".venv/c.py", "pkg/__pycache__/d.py", "notes.txt"):
        target = tmp_path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("")
    names = [path.relative_to(tmp_path).as_posix() for path in python_files([tmp_path])]
    assert names == ["a.py", "pkg/b.py"]


def test_a_missing_path_raises() -> None:
    with pytest.raises(FileNotFoundError):
        list(python_files([Path("/nonexistent/for/sure")]))


def test_annotations_tell_what_a_name_holds() -> None:
    source = (
        "import gevent\n"
        "def make(): ...\n"
        "jobs: list[gevent.Greenlet] = make()\n"
        "for job in jobs:\n"
        "    job.kill()\n"
        "def first() -> gevent.Greenlet: ...\n"
        "first().join()\n"
        "def stop(main: gevent.Greenlet | None) -> None:\n"
        "    main.get()\n"
    )
    assert [(f.line, f.rule) for f in scan_source(source)] == [
        (3, "greenlet-class"),
        (5, "greenlet-kill"),
        (6, "greenlet-class"),
        (7, "greenlet-join"),
        (8, "greenlet-class"),
        (9, "greenlet-get"),
    ]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from gevent import socket\nsocket.create_connection(a)\n", [(2, "gevent-socket")]),
        ("import gevent.monkey as m\nm.patch_all()\n", [(2, "monkey-patch-all")]),
        ("from gevent.pool import Pool as P\nP(2)\n", [(2, "pool")]),
        ("from gevent import Timeout as T\nwith T(1, False):\n    pass\n", [(2, "timeout-silent")]),
        ("import gevent.queue\nq = gevent.queue.JoinableQueue()\n", [(2, "joinable-queue")]),
        ("from gevent import sleep as nap\nnap(seconds=0)\n", [(2, "sleep-zero")]),
    ],
)
def test_more_import_forms(source: str, expected: list[tuple[int, str]]) -> None:
    assert [(f.line, f.rule) for f in scan_source(source)] == expected
