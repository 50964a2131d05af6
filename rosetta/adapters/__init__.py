"""The static site as an application for other servers: StaticSite behind their HTTP stacks.

    wsgi.py          a WSGI application, for `gunicorn -k gevent` (the course's gevent web
                     server, scaled out with pre-forked workers)
    aiohttp_web.py   an `aiohttp.web` application: the `modern.aiohttp` model runs it, and so
                     does gunicorn with `aiohttp.GunicornUVLoopWebWorker`

Their server parses the request and writes the head; `rosetta.protocol` still decides the
answer: which file a target names, the limits of a head (`head_refusal`), the error pages and
the `ResponsePlan`'s header pairs. As gunicorn app factories they take the document root as
an argument, or from $ROSETTA_ROOT, else serve the bundled site (docs/scale-out.md).
"""

from __future__ import annotations

import os

from rosetta.site import BUNDLED_SITE

ROOT_ENV = "ROSETTA_ROOT"


def document_root(root: str | os.PathLike[str] | None) -> str | os.PathLike[str]:
    """`root` if given, else $ROSETTA_ROOT, else the bundled site."""
    if root is not None:
        return root
    return os.environ.get(ROOT_ENV) or BUNDLED_SITE
