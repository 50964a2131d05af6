"""Change notification behind the remembered answers: used only where every change reaches this
kernel, never read by a forked child, and a remembered answer is proved again wherever it is not
watched."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
import uvloop

from rosetta import file_changes
from rosetta.file_changes import FileChanges, local_filesystem, watcher_for
from rosetta.protocol import StaticSite
from tests.protocol.conftest import make_tree
from tests.protocol.test_static_known_files import SECRET, ask

pytestmark = pytest.mark.skipif(
    FileChanges.open() is None, reason="no inotify here: the lstat proof is tested alone"
)

MOUNTINFO = """\
22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
40 27 0:50 / /srv/shared rw,relatime shared:7 - nfs4 host:/export rw
41 40 0:51 / /srv/shared/local\\040copy rw,relatime - tmpfs tmpfs rw
"""


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path]:
    return make_tree(tmp_path, {"page.txt": SECRET}, {"sub/page.txt": b"inside page"})


def test_only_local_filesystems_are_watched(tmp_path: Path) -> None:
    table = tmp_path / "mountinfo"
    table.write_text(MOUNTINFO)
    assert local_filesystem("/home/site", str(table))
    assert not local_filesystem("/srv/shared/site", str(table))
    assert not local_filesystem("/srv/shared", str(table))
    assert local_filesystem("/srv/shared/local copy/site", str(table))
    assert not local_filesystem("/proc/self", str(table))
    assert not local_filesystem("/home/site", str(tmp_path / "missing"))


def swap_sub_for_outside(root: Path, outside: Path) -> None:
    os.rename(root / "sub", root / "old-sub")
    (root / "sub").symlink_to(outside, target_is_directory=True)


def test_a_watched_answer_is_forgotten_on_a_change(tree: tuple[Path, Path]) -> None:
    root, outside = tree
    site = StaticSite(root, watcher_for=watcher_for)
    assert ask(site, "/sub/page.txt").body == b"inside page"
    known = site._known
    assert known is not None and known._changes is not None
    assert all(entry.watched for entry in known._by_target.values())
    swap_sub_for_outside(root, outside)
    assert ask(site, "/sub/page.txt").status == 404


def test_a_root_elsewhere_than_a_local_filesystem_is_proved_on_every_hit(
    tree: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, outside = tree
    monkeypatch.setattr("rosetta.file_changes.local_filesystem", lambda path: False)
    site = StaticSite(root, watcher_for=watcher_for)
    assert ask(site, "/sub/page.txt").body == b"inside page"
    known = site._known
    assert known is not None and known._changes is None
    assert known._by_target and not any(entry.watched for entry in known._by_target.values())
    swap_sub_for_outside(root, outside)
    assert ask(site, "/sub/page.txt").status == 404


def test_a_forked_child_proves_every_hit_and_leaves_the_queue_to_its_parent(
    tree: tuple[Path, Path],
) -> None:
    root, outside = tree
    # Starts from a remembered answer, as the known-files tests do, spelled out to read alone.
    site = StaticSite(root, watcher_for=watcher_for)
    assert ask(site, "/sub/page.txt").status == 200
    known = site._known
    assert known is not None and known._changes is not None
    changes = known._changes
    # What os.register_at_fork runs in a child, run here so no process is forked.
    file_changes._after_fork_in_child()
    swap_sub_for_outside(root, outside)
    assert ask(site, "/sub/page.txt").status == 404
    assert changes.changed()  # the event is still queued: the child never read it


def watching(folder: Path) -> FileChanges:
    changes = FileChanges.open()
    assert changes is not None
    changes.watch(str(folder))
    return changes


@pytest.mark.parametrize("loop_name", ["asyncio", "uvloop"])
def test_on_an_answering_loop_the_kernel_is_asked_once_per_turn(
    tmp_path: Path, loop_name: str
) -> None:
    async def turns() -> list[bool]:
        with file_changes.answering_on(asyncio.get_running_loop()):
            changes = watching(tmp_path)
        seen = [changes.changed()]
        (tmp_path / "new.txt").write_bytes(b"x")  # queued now, within the same turn
        seen.append(changes.changed())
        await asyncio.sleep(0)  # the next turn asks again
        seen.append(changes.changed())
        return seen

    new_loop = uvloop.new_event_loop if loop_name == "uvloop" else asyncio.new_event_loop
    with asyncio.Runner(loop_factory=new_loop) as runner:
        assert runner.run(turns()) == [False, False, True]


def test_without_an_answering_loop_every_answer_asks(tmp_path: Path) -> None:
    changes = watching(tmp_path)
    assert not changes.changed()
    (tmp_path / "new.txt").write_bytes(b"x")
    assert changes.changed()


def test_a_watcher_that_outlives_its_loop_asks_every_time(tmp_path: Path) -> None:
    async def made_on_the_loop() -> FileChanges:
        with file_changes.answering_on(asyncio.get_running_loop()):
            return watching(tmp_path)

    changes = asyncio.run(made_on_the_loop())  # closed when run returns
    assert not changes.changed()
    (tmp_path / "new.txt").write_bytes(b"x")
    assert changes.changed()
    assert changes.changed()  # still queued, still told
