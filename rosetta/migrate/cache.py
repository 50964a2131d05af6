"""Per-file results, kept by content and scanner version, and the parallel scan that fills them.

A file's facts depend only on its bytes and on the scanner, so they are stored under the hash
of both in `$XDG_CACHE_HOME/rosetta/migrate` (`~/.cache/...` without it). The scanner's
version is the hash of its own source, of Python's version (its parser reads the files) and
of libcst's version: changing any starts a new
cache. Facts that depend on the whole program (which modules run patched, the colouring) are
never cached; they are recomputed from the facts on every run. Files are analysed in worker
processes, one per core unless told otherwise.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from functools import cache, partial
from importlib.metadata import PackageNotFoundError, version
from multiprocessing import get_context
from pathlib import Path

from rosetta.migrate.scanner import ModuleFacts, Unparsable, facts_of

_PACKAGE = Path(__file__).resolve().parent
_SERIAL_BELOW = 8  # files: below this, starting workers costs more than it saves


@cache
def scanner_version() -> str:
    digest = hashlib.sha256()
    for source in sorted(_PACKAGE.glob("*.py")):
        digest.update(source.read_bytes())
    digest.update(sys.version.encode())
    with contextlib.suppress(PackageNotFoundError):
        digest.update(version("libcst").encode())
    return digest.hexdigest()[:16]


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rosetta" / "migrate" / scanner_version()


def _entry(root: Path, source: bytes) -> Path:
    digest = hashlib.sha256(source).hexdigest()
    return root / digest[:2] / f"{digest}.json"


def _load(entry: Path) -> ModuleFacts | None:
    try:
        return ModuleFacts.from_json(json.loads(entry.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # absent, or written by a run that was stopped: compute it again


def _store(entry: Path, facts: ModuleFacts) -> None:
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed, so that a parallel run never reads half a file.
        handle, temporary = tempfile.mkstemp(dir=entry.parent, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(facts.to_json(), out)
        os.replace(temporary, entry)
    except OSError:
        pass  # a read-only or full cache only makes the next run slower


Outcome = tuple[str, ModuleFacts | None, str | None]  # path, facts, or why it was skipped


def analyse_file(path: str, root: Path | None) -> Outcome:
    try:
        source = Path(path).read_bytes()
    except OSError as error:
        return path, None, error.strerror or str(error)
    entry = _entry(root, source) if root is not None else None
    if entry is not None:
        cached = _load(entry)
        if cached is not None:
            return path, cached, None
    try:
        facts = facts_of(source)
    except Unparsable as error:
        return path, None, str(error)
    except Exception as error:  # one odd file must not stop the scan of the others
        return path, None, f"cannot analyse: {error!r}"
    if entry is not None:
        _store(entry, facts)
    return path, facts, None


def analyse_files(paths: list[str], jobs: int, use_cache: bool) -> Iterator[Outcome]:
    """The facts of every file, in the order given; `jobs` 0 means one worker per core."""
    root = cache_root() if use_cache else None
    work = partial(analyse_file, root=root)
    workers = jobs or os.cpu_count() or 1
    if workers == 1 or len(paths) < _SERIAL_BELOW:
        yield from map(work, paths)
        return
    context = get_context("fork") if "fork" in _start_methods() else None
    chunk = max(1, min(16, len(paths) // (workers * 8)))
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield from pool.map(work, paths, chunksize=chunk)


def _start_methods() -> list[str]:
    from multiprocessing import get_all_start_methods

    return get_all_start_methods()
