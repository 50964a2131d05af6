"""mkdocs hook: the project's source files, published with the site as plain text.

Each model page links to the whole file it shows parts of: `source/classic/blocking.py.txt` in
the built site is `classic/blocking.py` of the checkout that built it, so the link is always
to the code that was included.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

PUBLISHED = ("classic", "modern", "rosetta", "parity_tests", "tests")


def on_files(files: Files, config: Any) -> Files:
    root = Path(config["config_file_path"]).resolve().parent
    for folder in PUBLISHED:
        for path in sorted((root / folder).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            files.append(File.generated(config, f"source/{relative}.txt", abs_src_path=str(path)))
    return files
