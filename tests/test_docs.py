"""The README and the docs stay true to the code."""

from __future__ import annotations

import ast
import importlib.util
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from rosetta import registry
from rosetta.cli import markdown_model_table

ROOT = Path(__file__).resolve().parent.parent


def test_readme_model_table_is_the_registry() -> None:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- models:start[^\n]*-->\n(.*?)\n<!-- models:end -->", readme, re.S)
    assert block, "README.md lost its model table markers"
    assert block.group(1) == markdown_model_table(), (
        "paste the output of `rosetta models --markdown` between the markers"
    )


def test_readme_quick_start_has_exactly_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```\n(.*?)\n```", quick_start, re.S)
    assert len(commands) == 2
    assert commands[0].endswith("rosetta serve http")
    assert "pytest" in commands[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[1] in ci, ".ci/run must run the README's test command verbatim"


def test_every_model_module_opens_with_its_docstring() -> None:
    for model in registry.MODELS:
        # Read, not imported: importing classic.gevent_server would monkey-patch this process
        # (threads, sockets, selectors) for every test that runs after this one.
        spec = importlib.util.find_spec(model.module)
        assert spec is not None and spec.origin is not None, model.module
        doc = ast.get_docstring(ast.parse(Path(spec.origin).read_text())) or ""
        assert len(doc.split()) > 40, f"{model.name} needs its opening docstring"
        assert "§" in doc, f"{model.name}: which course section?"


def test_snippet_includes_in_docs_point_at_real_files() -> None:
    for page in (ROOT / "docs").glob("*.md"):
        for included in re.findall(r'--8<-- "([^":]+)(?::[^"]*)?"', page.read_text()):
            assert (ROOT / included).is_file(), f"{page.name} includes missing {included}"


# --- the site: every model has its page, every include is a short, existing section ---

DOCS = ROOT / "docs"
MODEL_PAGES = DOCS / "models"
# Parts of pages, included by them; not pages of their own.
NOT_PAGES = ("hooks/", "models/figures/")
INCLUDE = re.compile(r'^[ \t]*--8<-- "([^":]+)(?::([a-z][-_0-9a-z]*))?"', re.M)
MARKER = r"-{1,}8<-{1,}[ \t]+\[[ \t]*%s[ \t]*:[ \t]*%s[ \t]*\]"
SECTION_LIMIT = 40  # lines of a model page's included part: the idea, not the file
WHOLE_FILE_LIMIT = 60


def models_map() -> dict[str, set[str]]:
    """The home page's table: each page it links to, and the models its row names."""
    home = (DOCS / "index.md").read_text()
    after_marker = home.split("<!-- models-map", 1)[1].split("\n", 1)[1]
    table = after_marker.split("\n\n", 1)[0].splitlines()
    assert table and all(row.startswith("|") for row in table), "no table after models-map"
    rows: dict[str, set[str]] = {}
    for row in table[2:]:
        link = re.search(r"\]\((models/[^)]+\.md)\)", row)
        assert link, f"a row of the home page's model map links to no page: {row}"
        rows.setdefault(link.group(1), set()).update(
            re.findall(r"`((?:classic|modern)\.[a-z_]+)`", row)
        )
    return rows


def section_lines(path: Path, name: str) -> list[str]:
    text = path.read_text()
    start = re.search(MARKER % ("start", name), text)
    end = re.search(MARKER % ("end", name), text)
    assert start and end and start.end() < end.start(), f"{path}: no section [{name}]"
    body = text[start.end() : end.start()].split("\n")[1:-1]
    return [line for line in body if not re.search(MARKER % ("(?:start|end)", "[^]]+"), line)]


def nav_pages(entries: object) -> Iterator[str]:
    """Every page of an mkdocs `nav`, in order, however deeply its sections nest."""
    if isinstance(entries, str):
        yield entries
    elif isinstance(entries, list):
        for entry in entries:
            yield from nav_pages(entry)
    elif isinstance(entries, dict):
        for value in entries.values():
            yield from nav_pages(value)


def pages() -> list[Path]:
    return [
        page
        for page in sorted(DOCS.rglob("*.md"))
        if not page.relative_to(DOCS).as_posix().startswith(NOT_PAGES)
    ]


def test_home_page_maps_every_registered_model_to_its_page() -> None:
    rows = models_map()
    mapped = set().union(*rows.values())
    assert {model.name for model in registry.MODELS} <= mapped
    assert mapped <= {model.name for model in registry.MODELS}, "the map names unknown models"
    assert sorted(rows) == sorted(f"models/{page.name}" for page in MODEL_PAGES.glob("*.md"))
    for page, models in rows.items():
        text = (DOCS / page).read_text()
        for name in models:
            assert f"`{name}`" in text, f"{page} does not speak of {name}"


def test_every_page_is_in_the_navigation_once() -> None:
    nav = list(nav_pages(yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"]))
    assert len(nav) == len(set(nav)), "a page appears twice in the navigation"
    assert sorted(nav) == sorted(page.relative_to(DOCS).as_posix() for page in pages())


def test_every_include_is_an_existing_section_or_a_short_file() -> None:
    for page in sorted(DOCS.rglob("*.md")):
        for included, section in INCLUDE.findall(page.read_text()):
            path = ROOT / included
            assert path.is_file(), f"{page.name} includes missing {included}"
            if not section:
                lines = path.read_text().count("\n")
                assert lines <= WHOLE_FILE_LIMIT, (
                    f"{page.name} includes all {lines} lines of {included}"
                )
                continue
            body = section_lines(path, section)
            assert any(line.strip() for line in body), f"{included}:{section} is empty"
            if page.is_relative_to(MODEL_PAGES):
                assert len(body) <= SECTION_LIMIT, (
                    f"{page.name}: {included}:{section} is {len(body)} lines, over {SECTION_LIMIT}"
                )


def highlights_hook() -> ModuleType:
    """docs/hooks/highlights.py, the code mkdocs runs to place the highlights."""
    spec = importlib.util.spec_from_file_location("highlights", DOCS / "hooks" / "highlights.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HIGHLIGHTED = re.compile(r'^[ \t]*```python (hl=[^\n]*)\n[ \t]*--8<-- "([^":]+):([^"]+)"', re.M)


def test_highlights_are_named_by_their_text_never_by_a_line_number() -> None:
    numbered = re.compile(r'^[ \t]*```[^\n]*hl_lines=[^\n]*\n[ \t]*--8<-- "[^"]+:[^"]+"', re.M)
    for page in pages():
        assert not numbered.search(page.read_text()), (
            f'{page.name}: a highlight by number drifts when the code moves; write hl="text"'
        )


def test_every_highlight_lands_on_the_line_it_names() -> None:
    hook = highlights_hook()
    checked = 0
    for page in sorted(MODEL_PAGES.glob("*.md")):
        for attrs, included, section in HIGHLIGHTED.findall(page.read_text()):
            lines = hook.section_lines(ROOT / included, section)
            texts = hook.texts(attrs)
            numbers = hook.line_numbers(lines, texts, f"{page.name}: {included}:{section}")
            assert len(numbers) == len(texts) >= 1
            for text in texts:
                (line,) = [lines[number - 1] for number in numbers if text in lines[number - 1]]
                assert line.strip(), f"{page.name}: {text!r} picks a blank line"
            checked += len(texts)
        # The hook turns every block of the page, and leaves no `hl=` for the highlighter.
        resolved = hook.resolve(page.read_text(), ROOT)
        assert not re.search(r"\bhl=", resolved), f"{page.name}: a block the hook did not turn"
    assert checked > 50


def test_a_highlight_follows_its_line_and_fails_when_the_line_is_gone(tmp_path: Path) -> None:
    hook = highlights_hook()
    source = tmp_path / "model.py"
    page = '```python hl="conn.recv(" hl=\'b"bye"\'\n--8<-- "model.py:loop"\n```\n'

    def place(*lines: str) -> str:
        source.write_text("\n".join(["# --8<-- [start:loop]", *lines, "# --8<-- [end:loop]", ""]))
        return hook.resolve(page, tmp_path).split("\n", 1)[0]

    assert place("while True:", "    data = conn.recv(1024)", '    send(b"bye")') == (
        '```python hl_lines="2 3"'
    )
    moved = place(
        "# a comment",
        "while True:",
        "    # --8<-- [start:inner]",
        "",
        "    data = conn.recv(1)",
        '    send(b"bye")',
    )
    assert moved == '```python hl_lines="4 5"', "nested markers are not lines of the part"
    leading_blank = place("", "while True:", "    data = conn.recv(1)", '    send(b"bye")')
    assert leading_blank == '```python hl_lines="2 3"', "the highlighter drops leading blanks"
    with pytest.raises(hook.HighlightError, match=r"no line holds 'conn\.recv\('"):
        place("while True:", "    data = conn.read(1024)", '    send(b"bye")')
    with pytest.raises(hook.HighlightError, match="is on lines"):
        place("data = conn.recv(1)", "more = conn.recv(2)", 'b"bye"')
    source.write_text("while True:\n    conn.recv(1)\n")
    with pytest.raises(hook.HighlightError, match="no section"):
        hook.resolve(page, tmp_path)


def test_section_checks_fail_on_a_removed_marker(tmp_path: Path) -> None:
    source = tmp_path / "model.py"
    source.write_text("# --8<-- [start:accept]\nwhile True:\n    accept()\n# --8<-- [end:accept]\n")
    assert section_lines(source, "accept") == ["while True:", "    accept()"]
    source.write_text("while True:\n    accept()\n# --8<-- [end:accept]\n")
    with pytest.raises(AssertionError, match="no section"):
        section_lines(source, "accept")


# --- the model pages' figures: generated from the recorded bench run, never by hand ---

FIGURES = MODEL_PAGES / "figures"
RECORDED = sorted((DOCS / "bench").glob("*.json"))
FIGURES_PAIR = re.compile(
    r'<div class="rosetta-figures" markdown>\n'
    r'<div class="rosetta-figure" markdown>\n(.*?)\n</div>\n'
    r'<div class="rosetta-figure" markdown>\n(.*?)\n</div>\n</div>',
    re.S,
)
FIGURES_INCLUDE = re.compile(r'--8<-- "docs/models/figures/((?:classic|modern)\.[a-z_]+)\.md"')


def test_model_figures_are_the_recorded_bench_run() -> None:
    from rosetta.bench import model_figures

    expected = model_figures.generate(model_figures.load(RECORDED))
    committed = {path.name: path.read_text() for path in FIGURES.glob("*.md")}
    assert sorted(committed) == sorted(expected), (
        "docs/models/figures/ holds other files than the generator writes"
    )
    stale = [name for name in expected if committed[name] != expected[name]]
    assert stale == [], (
        f"stale figures {stale}: run `rosetta bench render docs/bench/*.json "
        "--figures docs/models/figures`"
    )


def test_model_figures_follow_the_recorded_figures() -> None:
    from rosetta.bench import model_figures

    documents = model_figures.load(RECORDED)
    before = model_figures.generate(documents)["classic.select_echo.md"]
    for figure in documents["echo"]["figures"]:
        if figure["contender"] == "classic.select_echo" and figure["point"] == {"conns": 100}:
            figure["median"] = 123_456.0
    after = model_figures.generate(documents)["classic.select_echo.md"]
    assert before != after and "123,456" in after and "123,456" not in before


def test_every_model_page_shows_its_models_figures_classic_beside_modern() -> None:
    for page, models in models_map().items():
        text = (DOCS / page).read_text()
        pair = FIGURES_PAIR.search(text)
        assert pair, f"{page} has no figures pair (classic column, modern column)"
        classic, modern = (FIGURES_INCLUDE.findall(column) for column in pair.groups())
        assert classic and all(name.startswith("classic.") for name in classic), page
        assert modern and all(name.startswith("modern.") for name in modern), page
        shown = set(classic) | set(modern)
        assert models <= shown, f"{page} shows no figures for {sorted(models - shown)}"
        plots = re.findall(r'--8<-- "docs/models/figures/plot-([a-z]+)\.md"', text)
        assert plots, f"{page} shows no plot of the recorded run"
        assert all((DOCS / "bench" / f"{kind}.png").is_file() for kind in plots)


def test_render_writes_the_model_figures_and_drops_stale_ones(tmp_path: Path) -> None:
    import subprocess
    import sys

    (tmp_path / "gone.md").write_text("an old hand-written table\n")
    command = [sys.executable, "-m", "rosetta", "bench", "render", *map(str, RECORDED)]
    done = subprocess.run(
        [*command, "--figures", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    written = sorted(path.name for path in tmp_path.iterdir())
    assert written == sorted(path.name for path in FIGURES.glob("*.md"))
    assert (tmp_path / "modern.protocol.md").read_text() == (
        FIGURES / "modern.protocol.md"
    ).read_text()
    neither = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert neither.returncode != 0 and "Traceback" not in neither.stderr
    assert len(neither.stderr.strip().splitlines()) == 1
