"""The course's coroutine demos (§7–§9b), run by `classic.greenlets` and `modern.coroutines`.

A demo records what happens in a `Trace`; what `rosetta demo` prints is a view of that trace,
and the parity tests compare the traces of the two models. Nothing here imports greenlet,
gevent or asyncio, so the CLI stays light until a model is chosen.
"""

from __future__ import annotations
