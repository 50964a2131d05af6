from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rosetta.cli import main
from rosetta.migrate.rewrite import rewrite_source
from tests.migrate.expectations import CORPUS

REWRITTEN = '''"""Code already made async: the mechanical rewrites apply inside async def only."""

import gevent
from gevent import monkey
import asyncio

monkey.patch_time()  # expect: monkey-patch-partial


async def poll(jobs: list) -> None:
    # give the others a turn first
    await asyncio.sleep(0)  # expect: sleep-zero
    await asyncio.sleep(0.5)  # a short pause  # expect: sleep
    await asyncio.sleep(1)  # expect: patched-time-sleep
    await asyncio.gather(*jobs, return_exceptions=True)  # expect: joinall
    await asyncio.gather(*jobs)  # expect: joinall-raise-error
    gevent.joinall(jobs, timeout=2)  # expect: joinall


def still_sync() -> None:
    gevent.sleep(1)  # expect: sleep
'''


@pytest.fixture
def async_module(tmp_path: Path) -> Path:
    target = tmp_path / "poller.py"
    shutil.copyfile(CORPUS / "rewrite_async.py", target)
    return target


def test_the_mechanical_rules_are_rewritten_inside_async_def_only() -> None:
    result = rewrite_source((CORPUS / "rewrite_async.py").read_bytes(), "poller.py")
    assert result.after == REWRITTEN
    assert [(hit.line, hit.rule) for hit in result.applied] == [
        (14, "sleep-zero"),
        (15, "sleep"),
        (16, "patched-time-sleep"),
        (17, "joinall"),
        (18, "joinall-raise-error"),
    ]
    assert [(hit.line, reason.split(":")[0]) for hit, reason in result.left] == [
        (19, "a timeout"),
        (23, "not inside async def (make the function async first)"),
    ]
    compile(result.after, "poller.py", "exec")


def test_a_rewrite_is_stable() -> None:
    once = rewrite_source(REWRITTEN, "poller.py")
    assert not once.changed
    assert once.after == REWRITTEN


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("    x = gevent.sleep(1)\n", "not a statement of its own"),
        ("    gevent.sleep(1, ref=False)\n", "keyword arguments other than seconds"),
        ("    gevent.sleep(*delays)\n", "*args or **kwargs in the call"),
        ("    gevent.joinall(jobs, count=1)\n", "count="),
        ("    gevent.idle()\n", "gevent.idle has no mechanical rewrite"),
    ],
)
def test_what_is_not_mechanical_is_left_with_a_reason(line: str, reason: str) -> None:
    source = "import gevent\n\n\nasync def f(jobs, delays):\n" + line
    result = rewrite_source(source)
    assert not result.changed
    assert len(result.left) == 1
    assert result.left[0][1].startswith(reason)


def test_comments_and_layout_survive_around_a_rewrite() -> None:
    source = (
        "import gevent  # the old world\n"
        "\n"
        "\n"
        "async def tick(  # odd layout on purpose\n"
        "        n):\n"
        "    for _ in range(n):  # count\n"
        "        gevent.sleep(seconds=0.25)  # keep the beat\n"
        "        # and a comment on its own line\n"
    )
    result = rewrite_source(source)
    assert result.after == (
        "import asyncio\n"
        "\n"
        "\n"
        "async def tick(  # odd layout on purpose\n"
        "        n):\n"
        "    for _ in range(n):  # count\n"
        "        await asyncio.sleep(0.25)  # keep the beat\n"
        "        # and a comment on its own line\n"
    )


def test_a_list_of_jobs_becomes_gather_arguments() -> None:
    source = "import gevent\n\n\nasync def f(a, b):\n    gevent.joinall([a, b])\n"
    assert rewrite_source(source).after == (
        "import asyncio\n\n\nasync def f(a, b):\n"
        "    await asyncio.gather(a, b, return_exceptions=True)\n"
    )


def test_cli_prints_a_diff_and_leaves_the_file_alone(
    async_module: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = async_module.read_bytes()
    assert main(["migrate", "rewrite", str(async_module), "--diff"]) == 1
    out, err = capsys.readouterr()
    assert out.startswith(f"--- a/{async_module}\n+++ b/{async_module}\n")
    assert "-    gevent.sleep(0)  # expect: sleep-zero\n" in out
    assert "+    await asyncio.sleep(0)  # expect: sleep-zero\n" in out
    assert "use --write" in err
    assert async_module.read_bytes() == before


def test_cli_write_changes_the_file_once(
    async_module: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate", "rewrite", str(async_module), "--write"]) == 1
    assert async_module.read_text() == REWRITTEN
    capsys.readouterr()
    assert main(["migrate", "rewrite", str(async_module), "--write"]) == 0
    out, _ = capsys.readouterr()
    assert out == ""
    assert async_module.read_text() == REWRITTEN


def test_cli_rewrite_of_a_directory_skips_unparsable_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "broken.py").write_text("def (:\n")
    (tmp_path / "sync.py").write_text("import gevent\ngevent.sleep(1)\n")
    assert main(["migrate", "rewrite", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert "broken.py: skipped: syntax error" in err
    assert "sync.py:2:1: sleep left as is: not inside async def" in err
    assert (tmp_path / "sync.py").read_text() == "import gevent\ngevent.sleep(1)\n"


def test_cli_rewrite_of_a_missing_path_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate", "rewrite", str(tmp_path / "absent.py")]) == 2
    _, err = capsys.readouterr()
    assert err.startswith("rosetta: error: no such file or directory")
    assert len(err.splitlines()) == 1


SPAWNING = (
    "import gevent\nimport gevent.pool\n\n\n"
    "def work(n):\n    gevent.sleep(0.01)\n    return n\n\n\n"
    "async def main(jobs):\n"
)


def test_a_joined_greenlet_and_a_caught_timeout_keep_their_layout() -> None:
    source = (
        "import gevent\n\n\n"
        "def work(n):  # the job\n"
        "    gevent.sleep(n)\n"
        "    return n\n\n\n"
        "async def main():\n"
        "    job = gevent.spawn(work, 0.1)  # start it\n"
        "    try:\n"
        "        with gevent.Timeout(1):  # at most a second\n"
        "            job.join()\n"
        "    except gevent.Timeout:  # too late\n"
        "        print('late')\n"
    )
    result = rewrite_source(source)
    assert result.left == []
    assert result.after == (
        "import asyncio\n\n\n"
        "async def work(n):  # the job\n"
        "    await asyncio.sleep(n)\n"
        "    return n\n\n\n"
        "async def main():\n"
        "    job = asyncio.create_task(work(0.1))  # start it\n"
        "    try:\n"
        "        async with asyncio.timeout(1):  # at most a second\n"
        "            await asyncio.wait([job])\n"
        "    except TimeoutError:  # too late\n"
        "        print('late')\n"
    )
    assert not rewrite_source(result.after).changed


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("    job = gevent.spawn(work, 1)\n    job.kill()\n    job.join()\n", "the greenlet job"),
        ("    job = gevent.spawn(work, 1)\n    job.link(print)\n    job.get()\n", "the greenlet"),
        ("    job = gevent.spawn(work, 1)\n    jobs.add(job)\n    job.join()\n", "the greenlet"),
        ("    job = gevent.spawn(work, 1)\n    job.join(1)\n", "the greenlet job is used"),
        ("    job = gevent.spawn(work, 1)\n    gevent.joinall([job, jobs])\n", "the joinall that"),
        ("    job = gevent.spawn(work, 1)\n", "the greenlet job is never joined"),
        ("    for n in jobs:\n        job = gevent.spawn(work, n)\n    job.join()\n", "a spawn in"),
        ("    gevent.spawn(work, 1).join()\n", "the greenlet is not assigned"),
        (
            "    job = gevent.spawn(work, 1)\n    await main(jobs)\n    job.join()\n",
            "an await at line 12 runs asyncio code",
        ),
        ("    job = gevent.spawn(print, 1)\n    job.join()\n", "print is not a function defined"),
        ("    job = gevent.spawn(main, 1)\n    job.join()\n", "main is already async def"),
        ("    job = gevent.spawn(work, 1)\n    job.join()\n    work(2)\n", "work is also used"),
        (
            "    job = gevent.spawn(work, 1)\n    group = gevent.pool.Group()\n"
            "    group.add(job)\n    job.join()\n",
            "the greenlet job is used",
        ),
        (
            "    job = gevent.spawn(work, 1)\n    other = gevent.spawn(work, 2)\n"
            "    other.kill()\n    job.join()\n",
            "work is also spawned where the greenlet stays",
        ),
        (
            "    try:\n        with gevent.Timeout(1, ValueError):\n            gevent.sleep(2)\n"
            "    except gevent.Timeout:\n        pass\n",
            "a Timeout with an exception",
        ),
        (
            "    try:\n        with gevent.Timeout(1) as timer:\n            gevent.sleep(2)\n"
            "    except gevent.Timeout:\n        pass\n",
            "the Timeout is bound with `as`",
        ),
        (
            "    try:\n        with gevent.Timeout(1):\n            gevent.sleep(2)\n"
            "    except Exception:\n        pass\n    except gevent.Timeout:\n        pass\n",
            "another handler of this try",
        ),
        (
            "    try:\n        with gevent.Timeout(1):\n            gevent.sleep(2)\n"
            "        print('in time')\n    except gevent.Timeout:\n        pass\n",
            "the Timeout is not caught",
        ),
        (
            "    try:\n        with gevent.Timeout(1):\n            gevent.sleep(2, ref=False)\n"
            "    except gevent.Timeout:\n        pass\n",
            "gevent.sleep at line 13 stays gevent",
        ),
        (
            "    try:\n        with gevent.Timeout(1):\n            work(2)\n"
            "    except gevent.Timeout:\n        pass\n",
            "work() at line 13 still uses gevent",
        ),
    ],
)
def test_a_spawn_or_timeout_of_another_shape_is_left_with_a_reason(body: str, reason: str) -> None:
    result = rewrite_source(SPAWNING + body)
    assert not any(hit.rule in ("spawn", "timeout") for hit in result.applied), result.diff()
    assert any(
        hit.rule in ("spawn", "timeout") and note.startswith(reason) for hit, note in result.left
    ), result.left


def test_a_spawn_outside_async_def_is_left_alone() -> None:
    source = (
        SPAWNING.replace("async def", "def") + "    job = gevent.spawn(work, 1)\n    job.join()\n"
    )
    result = rewrite_source(source)
    assert not result.changed
    assert [(hit.rule, note) for hit, note in result.left] == [
        ("sleep", "not inside async def (make the function async first)")
    ]
