"""`rosetta download`: everything about a download run that is not said on the wire.

    cli.py       the command line: `register(subparsers)`, and `module_main` for `python -m M`
    settings.py  the options of a run (`Settings`, which becomes argv and comes back) and the
                 URLs it was given
    run.py       a run in this process, or in a process of its own for a model that patches
    files.py     NAME.part, then an atomic rename: what the drivers write through
    report.py    what the user is told: `Report` (the drivers' side), the summary, exit codes
    console.py   the `Report` on a terminal (a rich bar) or a pipe (plain lines)

The decisions (which file a URL becomes, retries, redirects, what a complete body is) are in
`rosetta.protocol.download`; the models in `classic/` and `modern/` drive it. Nothing here
imports an HTTP stack, and this package's `__init__` imports nothing at all, so that the
command line costs only what the chosen model needs.
"""
