"""The course's models, faithfully: same structure, data structures, defaults and messages.

Each module is one listing of the course (see `rosetta models`), with the listing's bugs fixed
and named in its docstring. A module whose name starts with an underscore is a helper the
listings share, not a listing:

    _conversation.py       the blocking conversations of §1, §2, §3 and §10 (one client per
                           flow of control)
    _outbox.py             the outgoing buffer of §4, §5b and §6 (non-blocking sockets)
    _replies.py            what §4, §5b and §6 answer into that buffer, per job
    _descriptors.py        the open-files limit, accept without descriptors, FD_SETSIZE
    _nonblocking_client.py §4's client (`python -m classic._nonblocking_client`)
"""
