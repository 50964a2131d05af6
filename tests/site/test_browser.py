"""The built site, opened in headless Chromium as a reader would: on every model page the two
code columns stand side by side at 1400 px with nothing cut off, and every image loads.
Screenshots go to $ROSETTA_ARTIFACTS, or to a folder under pytest's temporary directory."""

from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import sync_playwright

from tests.site.building import ROOT
from tests.site.layout import WIDE_SCREEN, layout_problems

CHROMIUM = Path("/usr/bin/chromium")
MODEL_PAGES = sorted(path.stem for path in (ROOT / "docs" / "models").glob("*.md"))
CSS = (ROOT / "docs" / "stylesheets" / "side-by-side.css").read_text()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (as .ci/run does)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox"], headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=WIDE_SCREEN)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def site_url(built_site: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(built_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("ROSETTA_ARTIFACTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.mark.parametrize("stem", MODEL_PAGES)
def test_model_page_reads_side_by_side(
    page: Any, site_url: str, artifacts: Path, stem: str
) -> None:
    page.goto(f"{site_url}/models/{stem}/", wait_until="load")
    page.screenshot(path=str(artifacts / f"models-{stem}.png"), full_page=True)
    assert layout_problems(page) == []


def test_columns_stack_classic_first_on_a_narrow_screen(
    browser: Any, site_url: str, artifacts: Path
) -> None:
    narrow = browser.new_page(viewport={"width": 600, "height": 900})
    try:
        narrow.goto(f"{site_url}/models/{MODEL_PAGES[0]}/", wait_until="load")
        narrow.screenshot(path=str(artifacts / f"narrow-{MODEL_PAGES[0]}.png"), full_page=True)
        stacked = narrow.evaluate(
            """() => [...document.querySelectorAll(".rosetta-pair")].every((pair) => {
                 const [classic, modern] = [...pair.children].map((c) => c.getBoundingClientRect());
                 return classic.bottom <= modern.top && classic.width === modern.width;
               })"""
        )
        assert stacked
        assert [p for p in layout_problems(narrow) if not p.endswith("not side by side")] == []
    finally:
        narrow.close()


def test_home_page_has_the_model_map(page: Any, site_url: str, artifacts: Path) -> None:
    page.goto(f"{site_url}/", wait_until="load")
    page.screenshot(path=str(artifacts / "home.png"), full_page=True)
    links = page.locator(".md-content table a[href*='models/']")
    assert links.count() == len(MODEL_PAGES)
    broken = [
        image.get_attribute("src")
        for image in page.locator("img").all()
        if not image.evaluate("i => i.complete && i.naturalWidth > 0")
    ]
    assert broken == []


# The checker itself, on crafted pages: each must fail for its own reason.

GOOD_COLUMN = (
    '<div class="rosetta-column"><div class="highlight"><pre><code>x = 1</code></pre></div></div>'
)
EMPTY_COLUMN = (
    '<div class="rosetta-column"><div class="highlight"><pre><code></code></pre></div></div>'
)
LONG_LINE = "y = " + "1 + " * 200 + "1"
OVERFLOWING_COLUMN = (
    '<div class="rosetta-column"><div class="highlight">'
    f'<pre style="overflow:auto"><code style="white-space:pre">{LONG_LINE}</code></pre></div></div>'
)


def _crafted(page: Any, body: str, width: int = WIDE_SCREEN["width"]) -> list[str]:
    page.set_viewport_size({"width": width, "height": 900})
    page.set_content(f"<style>{CSS}</style><div class='md-content'>{body}</div>")
    try:
        return layout_problems(page)
    finally:
        page.set_viewport_size(WIDE_SCREEN)


def _pair(*columns: str) -> str:
    return f'<div class="rosetta-pair">{"".join(columns)}</div>'


def test_checker_passes_a_good_pair(page: Any) -> None:
    assert _crafted(page, _pair(GOOD_COLUMN, GOOD_COLUMN)) == []


def test_checker_finds_an_empty_include(page: Any) -> None:
    assert _crafted(page, _pair(GOOD_COLUMN, EMPTY_COLUMN)) == ["pair 1, column 2: no code in it"]


def test_checker_finds_a_column_that_hides_code(page: Any) -> None:
    problems = _crafted(page, _pair(GOOD_COLUMN, OVERFLOWING_COLUMN))
    assert problems and all(problem.startswith("cut off: ") for problem in problems)


def test_checker_finds_an_include_left_as_text(page: Any) -> None:
    body = _pair(GOOD_COLUMN, GOOD_COLUMN) + '<p>--8<-- "docs/models/figures/gone.md"</p>'
    assert _crafted(page, body) == ["an include was left as text: --8<-- shows on the page"]


def test_checker_finds_stacked_columns(page: Any) -> None:
    assert _crafted(page, _pair(GOOD_COLUMN, GOOD_COLUMN), width=700) == [
        "pair 1: the columns are not side by side"
    ]


def test_checker_finds_a_missing_image_and_a_page_without_columns(page: Any) -> None:
    problems = _crafted(page, '<img src="data:image/png;base64,AAAA">')
    assert problems == [
        "no pair of code columns on the page",
        "image did not load: data:image/png;base64,AAAA",
    ]
