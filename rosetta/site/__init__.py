"""The bundled site (the course's `html/`), served when `rosetta serve http` has no `--root`."""

from __future__ import annotations

from pathlib import Path

BUNDLED_SITE = Path(__file__).resolve().parent / "html"
