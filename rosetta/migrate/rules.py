"""The catalogue of gevent and greenlet idioms: one rule per idiom, with what replaces it.

A rule's `asyncio` says what to write instead; its `caveat` says what differs in meaning,
which is the part a mechanical translation gets wrong. `rewrite` marks the few rules that
`rosetta migrate rewrite` applies by itself (inside `async def` only). docs/migration.md
presents the same table with worked examples; a test keeps the two in step.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable

from rosetta.migrate.rule import Rule
from rosetta.migrate.rules_resources import RESOURCES
from rosetta.migrate.rules_tasks import PATCHING_AND_GREENLETS

__all__ = ["REWRITABLE", "RULES", "RULES_BY_ID", "Rule", "UnknownRule", "select_rules"]

RULES: tuple[Rule, ...] = PATCHING_AND_GREENLETS + RESOURCES
RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}
REWRITABLE: frozenset[str] = frozenset(rule.id for rule in RULES if rule.rewrite)
AWAITING: frozenset[str] = frozenset(rule.id for rule in RULES if rule.awaits)


class UnknownRule(ValueError):
    """A rule id (or pattern) given by the user matches no rule."""


def select_rules(specs: Iterable[str]) -> frozenset[str]:
    """Rule ids from `--select` values: comma-separated ids or shell patterns (`patched-*`)."""
    chosen: set[str] = set()
    for spec in specs:
        for item in spec.split(","):
            pattern = item.strip()
            if not pattern:
                continue
            matched = fnmatch.filter(RULES_BY_ID, pattern)
            if not matched:
                raise UnknownRule(f"unknown rule {pattern!r} (see `rosetta migrate rules`)")
            chosen.update(matched)
    if not chosen:
        raise UnknownRule("--select names no rule")
    return frozenset(chosen)
