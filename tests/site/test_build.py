"""The documentation site builds with `mkdocs build --strict`, and a broken include breaks it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.site.building import ROOT, build_strict

MODEL_PAGES = sorted(path.stem for path in (ROOT / "docs" / "models").glob("*.md"))


def test_the_site_builds_strict_without_a_warning(
    site_build: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    site_dir, result = site_build
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    assert (site_dir / "index.html").is_file()
    for stem in MODEL_PAGES:
        page = site_dir / "models" / stem / "index.html"
        assert page.is_file(), f"no page built for docs/models/{stem}.md"
        assert 'class="rosetta-pair"' in page.read_text(), f"{stem}: no side-by-side code"


def test_the_whole_files_the_pages_link_to_are_published(built_site: Path) -> None:
    published = built_site / "source" / "classic" / "blocking.py.txt"
    assert published.read_text() == (ROOT / "classic" / "blocking.py").read_text()


def _mini_project(root: Path, include: str) -> Path:
    (root / "docs").mkdir(parents=True)
    (root / "code.py").write_text("# --8<-- [start:present]\nx = 1\n# --8<-- [end:present]\n")
    (root / "docs" / "index.md").write_text(f'# A page\n\n```python\n--8<-- "{include}"\n```\n')
    config = root / "mkdocs.yml"
    config.write_text(
        "site_name: mini\nmarkdown_extensions:\n  - pymdownx.superfences\n"
        '  - pymdownx.snippets:\n      base_path: ["."]\n      check_paths: true\n'
    )
    return config


def test_an_include_of_a_missing_section_marker_fails_the_build(tmp_path: Path) -> None:
    good = _mini_project(tmp_path / "good", "code.py:present")
    assert build_strict(good, tmp_path / "good-site").returncode == 0
    broken = _mini_project(tmp_path / "broken", "code.py:absent")
    result = build_strict(broken, tmp_path / "broken-site")
    assert result.returncode != 0
    assert "absent" in result.stderr
