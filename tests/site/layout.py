"""What a reader must see on a model page, checked in the browser that renders it.

`layout_problems(page)` runs in the page and returns one line per problem: a pair of code
columns that is not side by side, a column with no code (an include that came out empty), an
include left as text, an
element whose content is wider than its box and that hides the rest (scrolled or clipped
code), an image that did not load. An empty list is a page a reader can read.
"""

from __future__ import annotations

from typing import Any

WIDE_SCREEN = {"width": 1400, "height": 900}

_CHECK = """
() => {
  const problems = [];
  const describe = (el) => {
    const text = (el.textContent || "").trim().split("\\n")[0].slice(0, 60);
    return `<${el.tagName.toLowerCase()} class="${el.className}"> "${text}"`;
  };
  const pairs = [...document.querySelectorAll(".rosetta-pair")];
  if (pairs.length === 0) problems.push("no pair of code columns on the page");
  pairs.forEach((pair, index) => {
    const columns = [...pair.querySelectorAll(":scope > .rosetta-column")];
    if (columns.length !== 2) {
      problems.push(`pair ${index + 1}: ${columns.length} columns, not 2`);
      return;
    }
    const [left, right] = columns.map((column) => column.getBoundingClientRect());
    if (Math.abs(left.top - right.top) > 2 || left.right > right.left + 1) {
      problems.push(`pair ${index + 1}: the columns are not side by side`);
    }
    columns.forEach((column, side) => {
      const code = column.querySelector("pre code");
      if (!code || code.textContent.trim() === "") {
        problems.push(`pair ${index + 1}, column ${side + 1}: no code in it`);
      }
    });
  });
  const content = document.querySelector(".md-content") || document.body;
  for (const element of content.querySelectorAll("*")) {
    if (element.clientWidth === 0 || element.scrollWidth <= element.clientWidth + 1) continue;
    const overflow = getComputedStyle(element).overflowX;
    const insideColumn = element.closest(".rosetta-column") !== null;
    if (overflow !== "visible" || insideColumn) {
      const widths = `${element.scrollWidth}px wide in ${element.clientWidth}px`;
      problems.push(`cut off: ${describe(element)} is ${widths}`);
    }
  }
  if (content.innerText.includes("--8<--")) {
    problems.push("an include was left as text: --8<-- shows on the page");
  }
  for (const image of document.images) {
    if (!image.complete || image.naturalWidth === 0) {
      problems.push(`image did not load: ${image.getAttribute("src")}`);
    }
  }
  return problems;
}
"""


def layout_problems(page: Any) -> list[str]:
    """Problems a reader would see on the page open in `page` (a Playwright Page)."""
    return list(page.evaluate(_CHECK))
