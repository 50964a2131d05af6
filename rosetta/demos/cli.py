"""`rosetta demo NAME --model M`: run one of the course's coroutine demos and print its trace.

Only light modules are imported here; the model (and with it greenlet, gevent or asyncio) is
imported when the demo runs. Mistakes in the arguments end with one line on stderr, exit 2.
"""

from __future__ import annotations

import argparse

from rosetta import registry
from rosetta.demos import catalog
from rosetta.demos.trace import Event, render
from rosetta.usage import UsageError, find_model, load_model

DEFAULT_MODEL = "classic.greenlets"


def _rounds(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if value != value:  # NaN passes every range check by comparing false
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    listing = "; ".join(
        f"{spec.name} ({spec.section}, {spec.rounds} rounds"
        + (f", {spec.delay:g} s" if spec.pauses else "")
        + f"): {spec.summary}"
        for spec in catalog.DEMOS.values()
    )
    parser = subparsers.add_parser(
        "demo",
        help="run one of the course's coroutine demos (§7-§9b), classic or modern",
        description=f"Demos: {listing}.",
    )
    parser.add_argument("name", metavar="NAME", help=", ".join(catalog.DEMOS))
    demo_models = [model.name for model in registry.serving("demo")]
    parser.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help=f"{' | '.join(demo_models) or 'a model serving demo'} (default {DEFAULT_MODEL})",
    )
    parser.add_argument(
        "--rounds",
        type=_rounds,
        help=f"rounds of the demo's loop, 1 to {catalog.MAX_ROUNDS} (default: per demo)",
    )
    parser.add_argument(
        "--delay",
        type=_seconds,
        help=f"pause in seconds, 0 to {catalog.MAX_DELAY:g} (default: per demo)",
    )
    parser.add_argument(
        "--driver",
        choices=("tasks", "send"),
        help="modern.coroutines handoff only: asyncio tasks (default) or coro.send(None)",
    )
    parser.add_argument(
        "--trace",
        action="store_true",
        help="print the trace as JSON (events with their times) instead of the course's lines",
    )
    parser.set_defaults(handler=run)


def _print_event(event: Event) -> None:
    try:
        print(render(event), flush=True)
    except BrokenPipeError:
        # The reader left (`| head`): the demo runs to its end quietly, whichever greenlet or
        # task printed; raising here would end only that one, with a traceback.
        from rosetta.cli import reader_gone

        reader_gone()


def run(args: argparse.Namespace) -> int:
    """The demo's trace printed; a mistake in the arguments raises `UsageError`."""
    find_model(args.model, "demo")
    try:
        catalog.check(args.name, args.rounds, args.delay)
    except ValueError as error:
        raise UsageError(str(error)) from None
    model, module = load_model(args.model, "demo")
    if args.name not in getattr(module, "DEMOS", ()):
        raise UsageError(f"model {model.name} has no demo {args.name!r}")
    options: dict[str, str] = {}
    if args.driver is not None:
        if model.name != "modern.coroutines" or args.name != "handoff":
            raise UsageError("--driver is for the handoff demo of modern.coroutines only")
        options["driver"] = args.driver

    trace = module.run_demo(
        args.name,
        rounds=args.rounds,
        delay=args.delay,
        on_event=None if args.trace else _print_event,
        **options,
    )
    if args.trace:
        print(trace.json_text(), flush=True)
    else:
        for line in catalog.summary(trace):
            print(line, flush=True)
    return 0


def module_main(model: str, arguments: list[str]) -> int:
    """`python -m <demo model> [NAME] [options]`: the course's first listing unless a demo is
    named, through the same command line as `rosetta demo`."""
    from rosetta.cli import main

    if not arguments or arguments[0].startswith("-"):
        arguments = ["handoff", *arguments]
    return main(["demo", arguments[0], "--model", model, *arguments[1:]])
