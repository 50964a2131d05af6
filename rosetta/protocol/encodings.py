"""Precompressed files: which of a file's ready-made siblings (`style.css.br`, `.zst`, `.gz`) a
request's `Accept-Encoding` lets us send instead of the file itself.

Nothing is compressed at request time: a site ships its assets compressed beside the originals,
and the server only chooses. The client's q-values decide first; between codings of equal
weight we prefer br, then zstd, then gzip (smallest first). `identity` is always acceptable
here: a file without a sibling the client accepts is sent as it is.
"""

from __future__ import annotations

import functools

# (coding, the sibling's suffix), in our order of preference.
PRECOMPRESSED: tuple[tuple[str, str], ...] = (("br", ".br"), ("zstd", ".zst"), ("gzip", ".gz"))
_PREFERENCE = {coding: rank for rank, (coding, _) in enumerate(PRECOMPRESSED)}
_ALIASES = {"x-gzip": "gzip"}
SUFFIXES = dict(PRECOMPRESSED)


def _weight(parameters: list[str]) -> float | None:
    for parameter in parameters:
        name, _, value = parameter.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                weight = float(value.strip())
            except ValueError:
                return None
            return weight if 0.0 <= weight <= 1.0 else None
    return 1.0


@functools.lru_cache(maxsize=256)  # browsers send a handful of distinct values, every time
def acceptable_encodings(header: bytes | None) -> tuple[str, ...]:
    """The precompressed codings `header` accepts, best first (empty: send the file itself)."""
    if not header:
        return ()
    weights: dict[str, float] = {}
    wildcard: float | None = None
    for item in header.decode("latin-1").split(","):
        coding, *parameters = item.split(";")
        coding = coding.strip().lower()
        coding = _ALIASES.get(coding, coding)
        weight = _weight(parameters)
        if weight is None or not coding:
            continue
        if coding == "*":
            wildcard = weight
        elif coding in _PREFERENCE:
            weights[coding] = max(weight, weights.get(coding, 0.0))
    if wildcard is not None:
        for coding in _PREFERENCE:
            weights.setdefault(coding, wildcard)
    accepted = [coding for coding, weight in weights.items() if weight > 0]
    return tuple(sorted(accepted, key=lambda coding: (-weights[coding], _PREFERENCE[coding])))
