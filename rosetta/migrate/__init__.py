"""gevent -> asyncio migration: find every gevent and greenlet idiom, say what replaces it.

`rules` is the catalogue (one entry per idiom: its asyncio equivalent and what differs in
meaning), `scanner` finds uses by reading the source with Python's `ast` (the scanned code is
never imported or run), `rewrite` applies, with libcst (which keeps formatting and comments),
the few rewrites that are mechanical inside `async def`, and
`cli` is `rosetta migrate`. docs/migration.md is the guide built on the same catalogue.
"""

from __future__ import annotations
