"""The shape of the house: models fit a screen or two, helpers look like helpers, files stay
short, user pages speak of the project, and nothing reaches outside the repository.

Each rule is a pure function over a folder, checked once on a small made-up tree (so the rule
can be seen to fail) and then on the repository itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import pytest

from rosetta import registry

ROOT = Path(__file__).resolve().parent.parent
MODEL_LIMIT = 200
FILE_LIMIT = 400
MODEL_SIDES = ("classic", "modern")
SOURCE_FOLDERS = ("rosetta", "classic", "modern")
# rosetta/migrate/ is being reshaped on its own and is held to the limit once that is done.
EXEMPT_FROM_FILE_LIMIT = ("rosetta/migrate/",)
SOURCE_SUFFIXES = (".py", ".c")
ALLOWED_MODULES = ("__init__.py", "__main__.py")
USER_PAGES = ("docs", "README.md", "benchmarks")
SELF_CONTAINED = ("rosetta", "classic", "modern", "benchmarks", "tests", "parity_tests", ".ci")
OUTSIDE = "../" + "shared"  # spelled in two halves so this file does not match itself
# Wording that points at the project's own tracker. Upstream projects' issues are cited as
# owner/repo#123 or by their URL, which none of these match.
TRACKER_WORDING = re.compile(
    r"\bissues?\s+#?\d+\b|\bissue-\d+\b|\bthe\s+issue'?s\b|\bthis\s+issue\b|\btickets?\s+#?\d+\b",
    re.IGNORECASE,
)


def line_count(path: Path) -> int:
    with path.open("rb") as lines:
        return sum(1 for _ in lines)


def module_file(root: Path, module: str) -> Path:
    """The file that holds a dotted module: `a/b.py`, or `a/b/__init__.py` for a package."""
    base = root.joinpath(*module.split("."))
    plain = base.with_suffix(".py")
    return plain if plain.is_file() else base / "__init__.py"


def long_model_modules(root: Path, modules: Iterable[str], limit: int = MODEL_LIMIT) -> list[str]:
    return [
        f"{module}: {count} lines"
        for module in modules
        if (count := line_count(module_file(root, module))) > limit
    ]


def source_files(root: Path, folders: Iterable[str]) -> list[Path]:
    found = []
    for folder in folders:
        found += [
            path
            for path in sorted((root / folder).rglob("*"))
            if path.suffix in SOURCE_SUFFIXES and path.is_file() and "__pycache__" not in path.parts
        ]
    return found


def long_files(
    root: Path, folders: Iterable[str], exempt: Iterable[str] = (), limit: int = FILE_LIMIT
) -> list[str]:
    exempt = tuple(exempt)
    found = []
    for path in source_files(root, folders):
        name = path.relative_to(root).as_posix()
        if not name.startswith(exempt) and (count := line_count(path)) > limit:
            found.append(f"{name}: {count} lines")
    return found


def is_helper(relative: Path) -> bool:
    """A leading underscore on the module, or on any subpackage it sits in."""
    return relative.name in ALLOWED_MODULES or any(
        part.startswith("_") for part in (*relative.parent.parts[1:], relative.stem)
    )


def unmarked_modules(root: Path, sides: Iterable[str], model_modules: Iterable[str]) -> list[str]:
    """Modules under the model folders that are neither a registered model nor a helper."""
    models = {module_file(root, module).resolve() for module in model_modules}
    found = []
    for side in sides:
        for path in sorted((root / side).rglob("*.py")):
            relative = path.relative_to(root)
            if path.resolve() not in models and not is_helper(relative):
                found.append(relative.as_posix())
    return found


def text_files(root: Path, places: Iterable[str]) -> list[Path]:
    found = []
    for place in places:
        target = root / place
        candidates = [target] if target.is_file() else sorted(target.rglob("*"))
        found += [
            path
            for path in candidates
            if path.is_file() and "__pycache__" not in path.parts and _is_text(path)
        ]
    return found


def tracker_wording(root: Path, places: Iterable[str]) -> list[str]:
    found = []
    for path in text_files(root, places):
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            for match in TRACKER_WORDING.finditer(line):
                found.append(f"{path.relative_to(root)}:{number}: {match.group(0)!r}")
    return found


def reads_outside(root: Path, places: Iterable[str], exclude: Iterable[Path] = ()) -> list[str]:
    excluded = {path.resolve() for path in exclude}
    return [
        str(path.relative_to(root))
        for path in text_files(root, places)
        if path.resolve() not in excluded and OUTSIDE in path.read_text(errors="replace")
    ]


def _is_text(path: Path) -> bool:
    with path.open("rb") as head:
        return b"\0" not in head.read(4096)


# -- the rules, seen to fail on a made-up tree ------------------------------------------------


@pytest.fixture
def fake_tree(tmp_path: Path) -> Path:
    def write(name: str, lines: int, text: str = "x = 1\n") -> None:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text * lines)

    write("classic/__init__.py", 1)
    write("classic/model.py", MODEL_LIMIT + 1)
    write("classic/short.py", 10)
    write("classic/helper.py", 10)
    write("classic/_marked.py", 10)
    write("classic/_helpers/inside.py", 10)
    write("modern/package/__init__.py", 5)
    write("rosetta/huge.py", FILE_LIMIT + 1)
    write("rosetta/migrate/huge.py", FILE_LIMIT + 1)
    write("docs/page.md", 1, "As issue 4 says, and see this Issue #12 and aio-libs/aiohttp#123.\n")
    write("docs/fine.md", 1, "https://github.com/python/cpython/issues/1234 is upstream\n")
    write("benchmarks/results/x.md", 1, "The issue's targets\n")
    write("tests/reader.py", 1, f"open('{OUTSIDE}/bench/x')\n")
    write("tests/clean.py", 1)
    return tmp_path


def test_rules_fail_on_a_made_up_tree(fake_tree: Path) -> None:
    models = ["classic.model", "classic.short", "modern.package"]
    assert long_model_modules(fake_tree, models) == [f"classic.model: {MODEL_LIMIT + 1} lines"]
    assert long_files(fake_tree, SOURCE_FOLDERS, EXEMPT_FROM_FILE_LIMIT) == [
        f"rosetta/huge.py: {FILE_LIMIT + 1} lines"
    ]
    assert unmarked_modules(fake_tree, MODEL_SIDES, models) == ["classic/helper.py"]
    assert tracker_wording(fake_tree, USER_PAGES) == [
        "docs/page.md:1: 'issue 4'",
        "docs/page.md:1: 'this Issue'",
        'benchmarks/results/x.md:1: "The issue\'s"',
    ]
    assert reads_outside(fake_tree, SELF_CONTAINED) == ["tests/reader.py"]


# -- the rules on the repository --------------------------------------------------------------


def test_every_model_module_fits_two_screens() -> None:
    modules = sorted({model.module for model in registry.MODELS})
    assert long_model_modules(ROOT, modules) == []


def test_no_source_file_is_over_the_limit() -> None:
    assert long_files(ROOT, SOURCE_FOLDERS, EXEMPT_FROM_FILE_LIMIT) == []


def test_every_module_beside_the_models_is_a_model_or_marked_as_a_helper() -> None:
    modules = [model.module for model in registry.MODELS]
    assert unmarked_modules(ROOT, MODEL_SIDES, modules) == []


def test_user_pages_speak_of_the_project_not_its_tracker() -> None:
    assert tracker_wording(ROOT, USER_PAGES) == []


def test_nothing_reads_outside_the_repository() -> None:
    assert reads_outside(ROOT, SELF_CONTAINED, exclude=[Path(__file__)]) == []
