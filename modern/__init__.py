"""The asyncio / uvloop / aiohttp counterpart of each classic model.

Every model module names the classic models it replaces and what changes for someone
migrating. A module whose name starts with an underscore is a helper the models share:

    _runtime.py     the loop, the signals, the graceful stop, the life of a server
    _workers.py     `--workers N`: pre-forked workers sharing one port
    _transport.py   flow control and stop for `modern.protocol`'s protocols
    _sendfile.py    a file body on an asyncio transport, without a task
"""
