from __future__ import annotations

from rosetta.cli import main

raise SystemExit(main())
