"""A star import hides every name: reported once, as itself."""

from gevent import *  # noqa: F403  # expect: other
