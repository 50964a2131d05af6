"""The documentation site builds with `mkdocs build --strict`, and a broken include breaks it."""

from __future__ import annotations

import html
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

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


def _mini_project(root: Path, include: str, fence: str = "", hooks: Sequence[Path] = ()) -> Path:
    (root / "docs").mkdir(parents=True)
    (root / "code.py").write_text("# --8<-- [start:present]\nx = 1\n# --8<-- [end:present]\n")
    block = fence or f'```python\n--8<-- "{include}"\n```\n'
    (root / "docs" / "index.md").write_text(f"# A page\n\n{block}")
    config = root / "mkdocs.yml"
    config.write_text(
        "site_name: mini\nmarkdown_extensions:\n  - pymdownx.superfences\n"
        "  - pymdownx.highlight\n"
        '  - pymdownx.snippets:\n      base_path: ["."]\n      check_paths: true\n'
        + "".join(f"hooks:\n  - {hook}\n" for hook in hooks[:1])
    )
    return config


def test_an_include_of_a_missing_section_marker_fails_the_build(tmp_path: Path) -> None:
    good = _mini_project(tmp_path / "good", "code.py:present")
    assert build_strict(good, tmp_path / "good-site").returncode == 0
    broken = _mini_project(tmp_path / "broken", "code.py:absent")
    result = build_strict(broken, tmp_path / "broken-site")
    assert result.returncode != 0
    assert "absent" in result.stderr


HIGHLIGHT_TEXT = re.compile(r"""\bhl=(?:"([^"]*)"|'([^']*)')""")
HIGHLIGHTED_LINE = re.compile(r'<span class="hll">(.*?)\n?</span>\n', re.S)


def _highlighted_lines(html_page: str) -> list[str]:
    lines = []
    for block in HIGHLIGHTED_LINE.findall(html_page):
        lines.append(html.unescape(re.sub(r"<[^>]+>", "", block)))
    return lines


@pytest.mark.parametrize("stem", MODEL_PAGES)
def test_every_highlight_lands_on_its_line_in_the_built_page(built_site: Path, stem: str) -> None:
    source = (ROOT / "docs" / "models" / f"{stem}.md").read_text()
    declared = [double or single for double, single in HIGHLIGHT_TEXT.findall(source)]
    shown = _highlighted_lines((built_site / "models" / stem / "index.html").read_text())
    assert declared, f"{stem}: no highlighted line"
    assert len(shown) == len(declared), f"{stem}: {len(shown)} lines lit for {len(declared)}"
    for text in declared:
        assert any(text in line for line in shown), f"{stem}: {text!r} is not on a lit line"


def test_a_highlight_whose_line_is_gone_fails_the_build(tmp_path: Path) -> None:
    hook = ROOT / "docs" / "hooks" / "highlights.py"
    fence = '```python hl="x = 1"\n--8<-- "code.py:present"\n```\n'
    good = _mini_project(tmp_path / "good", "code.py:present", fence=fence, hooks=[hook])
    assert build_strict(good, tmp_path / "good-site").returncode == 0
    page = (tmp_path / "good-site" / "index.html").read_text()
    assert [line.strip() for line in _highlighted_lines(page)] == ["x = 1"]
    broken = _mini_project(tmp_path / "broken", "code.py:present", fence=fence, hooks=[hook])
    (broken.parent / "code.py").write_text(
        "# --8<-- [start:present]\nx = 2\n# --8<-- [end:present]\n"
    )
    result = build_strict(broken, tmp_path / "broken-site")
    assert result.returncode != 0
    assert "no line holds 'x = 1'" in result.stderr and "index.md" in result.stderr
