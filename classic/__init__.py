"""The course's models, faithfully: same structure, data structures, defaults and messages.

Each module is one listing of the course (see `rosetta models`), with the listing's bugs fixed
and named in its docstring. They share the protocol core in `rosetta.protocol` and, for the
models that talk to one client per thread of control, the blocking conversations in
`classic.conversation`.
"""
