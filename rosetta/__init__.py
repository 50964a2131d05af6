"""concurrency-rosetta: one course of concurrent servers, written classic and modern.

The shared core lives here: what is said on the wire (`rosetta.protocol`), the list of models
(`rosetta.registry`) and the command line (`rosetta.cli`). Nothing here imports `classic` or
`modern` at import time: models are loaded by name, on demand.
"""

from __future__ import annotations

__version__ = "0.1.0"
