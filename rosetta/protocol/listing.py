"""Directory listings: the entries of a directory without `index.html`, as an HTML page or,
for `Accept: application/json`, a JSON array.

What is listed is what the site would serve: entries whose real path is inside the root (a
symlink leading out is left out), regular files and directories only, and no dot files unless
the site shows hidden ones. Names are escaped for where they go (HTML text, a percent-encoded
link), whatever bytes they hold; the order is the names' code-point order, directories and
files mixed, so every model and every machine give the same bytes.
"""

from __future__ import annotations

import html
import json
import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

# Control characters in a name reach the page as character references, never as raw bytes.
_CONTROLS = {code: f"&#x{code:x};" for code in (*range(0x20), 0x7F)}


def _escape(text: str) -> str:
    return html.escape(text).translate(_CONTROLS)


@dataclass(frozen=True, slots=True)
class Entry:
    name: str  # as the file system gives it (surrogate-escaped where not UTF-8)
    is_directory: bool
    size: int
    mtime: float

    @property
    def text(self) -> str:
        """The name as text for a page: bytes that are not UTF-8 shown as U+FFFD."""
        return os.fsencode(self.name).decode("utf-8", "replace")

    @property
    def href(self) -> str:
        link = quote(os.fsencode(self.name), safe="")
        return link + "/" if self.is_directory else link

    @property
    def modified(self) -> str:
        return datetime.fromtimestamp(int(self.mtime), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def entries(directory: str, root_prefix: str, *, show_hidden: bool) -> list[Entry]:
    """What a listing of `directory` shows; [] if it cannot be read."""
    found = []
    try:
        with os.scandir(directory) as scan:
            names = [item.name for item in scan]
    except OSError:
        return []
    for name in sorted(names):
        if name.startswith(".") and not show_hidden:
            continue
        path = os.path.join(directory, name)
        real = os.path.realpath(path)
        if not real.startswith(root_prefix):
            continue
        try:
            info = os.stat(real)
        except OSError:
            continue
        is_directory = stat.S_ISDIR(info.st_mode)
        if not is_directory and not stat.S_ISREG(info.st_mode):
            continue
        found.append(Entry(name, is_directory, 0 if is_directory else info.st_size, info.st_mtime))
    return found


def wants_json(accept: bytes | None) -> bool:
    """`Accept` names application/json (with a q-value above 0)."""
    if not accept:
        return False
    for item in accept.decode("latin-1").split(","):
        media, *parameters = item.split(";")
        if media.strip().lower() != "application/json":
            continue
        for parameter in parameters:
            name, _, value = parameter.strip().partition("=")
            if name.strip().lower() == "q" and value.strip() in ("0", "0.0", "0.00", "0.000"):
                return False
        return True
    return False


def json_listing(found: list[Entry]) -> bytes:
    rows = [
        {
            "name": entry.text,
            "type": "directory" if entry.is_directory else "file",
            "size": entry.size,
            "mtime": entry.modified,
        }
        for entry in found
    ]
    return json.dumps(rows, indent=1).encode("ascii") + b"\n"


def html_listing(url_path: str, found: list[Entry]) -> bytes:
    """The page for the directory at `url_path` (decoded, ending in `/`)."""
    title = _escape(f"Index of {url_path}")
    rows = [] if url_path == "/" else ['<tr><td><a href="../">../</a></td><td></td><td></td></tr>']
    for entry in found:
        shown = _escape(entry.text + ("/" if entry.is_directory else ""))
        size = "" if entry.is_directory else str(entry.size)
        rows.append(
            f'<tr><td><a href="{html.escape(entry.href)}">{shown}</a></td>'
            f"<td>{size}</td><td>{entry.modified}</td></tr>"
        )
    page = (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{title}</title></head>\n'
        f"<body><h1>{title}</h1>\n<table>\n"
        "<tr><th>Name</th><th>Size</th><th>Modified (UTC)</th></tr>\n"
        + "".join(row + "\n" for row in rows)
        + "</table></body></html>\n"
    )
    return page.encode("utf-8", "replace")
