"""Pinned source distributions from PyPI, for the scanner benchmarks: fetched once, unpacked.

`pip download --no-binary :all: --no-deps NAME==VERSION` into a cache folder kept between
runs (default $XDG_CACHE_HOME/rosetta/migrate-bench), then unpacked into a temporary folder.
No third-party source is kept in this project.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path


def default_cache() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "rosetta" / "migrate-bench"


def _found(cache: Path, stem: str) -> list[Path]:
    stems = {stem.lower(), stem.lower().replace("-", "_")}
    return [
        p
        for p in cache.glob("*")
        if p.is_file() and any(p.name.lower().startswith(s) for s in stems)
    ]


def fetch(package: str, cache: Path) -> Path:
    """The sdist of `package` (NAME==VERSION), downloaded into `cache` unless already there."""
    name, _, version = package.partition("==")
    stem = f"{name}-{version}"
    found = _found(cache, stem)
    if not found:
        cache.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "download", "--no-binary", ":all:"]
        command += ["--no-deps", "--quiet", "-d", str(cache), package]
        subprocess.run(command, check=True)
        found = _found(cache, stem)
    return found[0]


def unpack(archive: Path, into: Path) -> Path:
    if archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as bundle:
            bundle.extractall(into)
    else:
        with tarfile.open(archive) as bundle:
            bundle.extractall(into, filter="data")
    [root] = [child for child in into.iterdir() if child.is_dir()]
    return root
