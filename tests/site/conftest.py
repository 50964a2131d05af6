from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.site.building import ROOT, build_strict


@pytest.fixture(scope="session")
def site_build(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    site_dir = tmp_path_factory.mktemp("site")
    return site_dir, build_strict(ROOT / "mkdocs.yml", site_dir)


@pytest.fixture(scope="session")
def built_site(site_build: tuple[Path, subprocess.CompletedProcess[str]]) -> Path:
    site_dir, result = site_build
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr}"
    return site_dir
