"""A package that patches on import: every module of it, and every importer, runs patched."""

from gevent import monkey

monkey.patch_all()  # expect: monkey-patch-all
