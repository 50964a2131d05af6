"""Rules for greenlets, their life cycle and time: spawning, joining, killing, sleeping.

Each rule's `asyncio` says what to write instead, its `caveat` what differs in meaning.
`awaits` marks the rules whose asyncio form is awaited, so that the function holding the use
must become `async def` (the report's colouring starts there).
"""

from __future__ import annotations

from rosetta.migrate.rule import CANCEL_NOT_KILL, Rule

PATCHING_AND_GREENLETS: tuple[Rule, ...] = (
    # --- monkey patching ---
    Rule(
        "monkey-patch-all",
        "gevent.monkey.patch_all()",
        "delete it; start the program with asyncio.run(main()) and use asyncio's own I/O "
        "(streams, loop.sock_*, to_thread for what stays blocking)",
        "patching swaps socket, ssl, time, select, threading, subprocess... for the whole "
        "process; an asyncio loop in a patched process would run on gevent's select and "
        "greenlet 'threads' (to_thread would no longer leave the loop's thread), so the two "
        "must not share a process: migrate one process at a time",
    ),
    Rule(
        "monkey-patch-partial",
        "gevent.monkey.patch_socket() / patch_time() / patch_thread() / ...",
        "delete it, and change every call it made cooperative (see the patched-* findings)",
        "even a partial patch changes the standard library for every module of the process, "
        "asyncio's included; it must go before asyncio runs in that process",
    ),
    # --- greenlets ---
    Rule(
        "spawn",
        "gevent.spawn(fn, *args) / Greenlet.spawn",
        "asyncio.create_task(fn(*args)) with fn an async def, or tg.create_task(...) inside "
        "`async with asyncio.TaskGroup() as tg`",
        "create_task takes a coroutine object, not a function and its arguments; the loop "
        "keeps only a weak reference to a task, so keep one yourself (a set, or a TaskGroup); "
        "a failed task's exception is seen only when it is awaited",
    ),
    Rule(
        "spawn-later",
        "gevent.spawn_later(seconds, fn, *args)",
        "loop.call_later(seconds, callback) for a plain callback, or a task whose coroutine "
        "starts with `await asyncio.sleep(seconds)`",
        "call_later runs a plain function that must not block; the returned TimerHandle can "
        "be cancelled but not joined",
    ),
    Rule(
        "spawn-raw",
        "gevent.spawn_raw(fn, *args)",
        "loop.call_soon(fn, *args)",
        "a raw greenlet may block cooperatively; a call_soon callback runs on the loop and must "
        "return quickly (make it create a task if it needs to wait)",
    ),
    Rule(
        "greenlet-class",
        "gevent.Greenlet(fn) / subclassing Greenlet",
        "a coroutine function run with asyncio.create_task; keep per-task state in the "
        "coroutine's locals or a small object the coroutine closes over",
        "asyncio.Task is not meant to be subclassed; Greenlet(fn) does not start until "
        ".start(), while create_task schedules at once",
    ),
    Rule(
        "greenlet-start",
        "greenlet.start() / start_later(seconds)",
        "asyncio.create_task(coro) where the greenlet was made, or a task whose coroutine "
        "starts with `await asyncio.sleep(seconds)` for start_later",
        "a task is scheduled when it is created: there is no separate start, and no "
        "not-yet-started state to test (Greenlet.started); keep a reference to the task",
    ),
    Rule(
        "greenlet-run",
        "_run() of a Greenlet subclass",
        "an async def (the body of _run) given to asyncio.create_task; the subclass's state "
        "moves to a plain object the coroutine receives",
        "the greenlet's own methods (self.kill(), self.join(), self.value) become operations "
        "on the task that runs the coroutine, which the coroutine itself does not hold "
        "(asyncio.current_task() inside it)",
    ),
    Rule(
        "joinall",
        "gevent.joinall(jobs)",
        "await asyncio.gather(*jobs, return_exceptions=True), or asyncio.wait(jobs, "
        "timeout=...) when a timeout is given",
        "joinall returns the finished greenlets and never raises their errors; gather returns "
        "the results (exceptions in place with return_exceptions=True); asyncio.wait returns "
        "(done, pending) and does not cancel the pending ones on timeout; if the task awaiting "
        "gather is cancelled, gather cancels every child (a killed joinall left its greenlets "
        "running); shield them, or use asyncio.wait, to keep them",
        rewrite=True,
        awaits=True,
    ),
    Rule(
        "joinall-raise-error",
        "gevent.joinall(jobs, raise_error=True)",
        "await asyncio.gather(*jobs), or `async with asyncio.TaskGroup()` to also stop the "
        "others on the first failure",
        "like gather, raise_error re-raises the first error and leaves the others running; a "
        "TaskGroup cancels the others and raises an ExceptionGroup (handle it with except*); "
        "a cancelled gather cancels its children, a killed joinall did not",
        rewrite=True,
        awaits=True,
    ),
    Rule(
        "greenlet-join",
        "greenlet.join(timeout)",
        "await asyncio.wait([task], timeout=...), or `await task` to also get its error",
        "join returns silently on timeout and never raises the greenlet's error; `await task` "
        "raises it; cancelling the task that awaits also cancels the awaited task, unless "
        "shielded",
        awaits=True,
    ),
    Rule(
        "greenlet-get",
        "greenlet.get(block, timeout)",
        "await task (or asyncio.wait_for(task, timeout)); task.result() for get(block=False)",
        "get(timeout=...) raises gevent.Timeout and leaves the greenlet running; wait_for "
        "raises TimeoutError and cancels the task (wrap it in asyncio.shield to keep it); "
        "task.result() raises InvalidStateError if the task is not done",
        awaits=True,
    ),
    Rule(
        "greenlet-kill",
        "greenlet.kill() / gevent.kill(greenlet)",
        "task.cancel(), then await the task (suppressing CancelledError)",
        "kill raises GreenletExit inside the greenlet and by default waits until it is dead, "
        "and a killed greenlet counts as successful; " + CANCEL_NOT_KILL + ", and awaiting a "
        "cancelled task raises CancelledError",
        awaits=True,
    ),
    Rule(
        "kill-exception",
        "greenlet.kill(SomeError) / gevent.kill(g, exception) / killall(jobs, exception)",
        "no asyncio equivalent: task.cancel(msg) always raises CancelledError; tell the task "
        "why through state it reads (an Event, a field) and cancel it, or have it raise "
        "the error itself",
        "kill(exception) raises the chosen exception inside the other greenlet at its next "
        "switch; asyncio can only inject CancelledError (the message is in its args), so "
        "handlers written for the chosen exception never run: move that logic",
    ),
    Rule(
        "killall",
        "gevent.killall(jobs) / pool.kill()",
        "for task in tasks: task.cancel(); then await asyncio.gather(*tasks, "
        "return_exceptions=True); a TaskGroup does this on the way out of its block",
        "killall waits for the greenlets to die (block=True); " + CANCEL_NOT_KILL,
        awaits=True,
    ),
    Rule(
        "greenlet-state",
        "greenlet.ready() / greenlet.successful()",
        "task.done(); `task.done() and not task.cancelled() and task.exception() is None` "
        "for successful()",
        "a cancelled task is done too (a killed greenlet is ready, and successful: GreenletExit "
        "counts as success); task.exception() raises CancelledError on a cancelled task and "
        "InvalidStateError on one not done",
    ),
    Rule(
        "greenlet-link",
        "greenlet.link(callback) / link_exception / link_value",
        "task.add_done_callback(callback)",
        "a done callback gets the task (not the greenlet) and runs on the loop, once, whether "
        "the task succeeded, failed or was cancelled: test task.cancelled() and "
        "task.exception() yourself",
    ),
    Rule(
        "getcurrent",
        "gevent.getcurrent() / greenlet.getcurrent()",
        "asyncio.current_task()",
        "current_task() is None outside a task (in a plain callback or before the loop runs), "
        "where getcurrent() always returns some greenlet (the main one or the hub)",
    ),
    Rule(
        "greenlet-exit",
        "gevent.GreenletExit",
        "asyncio.CancelledError",
        "both derive from BaseException; a greenlet may catch GreenletExit, clean up and "
        "return, but a task that catches CancelledError must re-raise it after cleaning up, "
        "or TaskGroup and asyncio.timeout stop working",
    ),
    Rule(
        "wait",
        "gevent.wait(objects) / gevent.iwait(objects)",
        "await asyncio.wait(tasks, ...) / `for next_done in asyncio.as_completed(tasks)`",
        "gevent.wait() with no argument waits for the whole hub (every greenlet); asyncio has "
        "no such call: wait for the tasks you hold, or let asyncio.run return",
        awaits=True,
    ),
    Rule(
        "signal-handler",
        "gevent.signal_handler(signum, handler, *args)",
        "loop.add_signal_handler(signum, callback, *args) (Unix), or nothing for SIGINT: "
        "asyncio.run / asyncio.Runner already cancel the main task on Ctrl-C",
        "gevent runs the handler in a new greenlet, where it may wait; add_signal_handler runs "
        "a plain callback on the loop, which must not block (make it create a task or set an "
        "event), and loop.remove_signal_handler(signum) replaces .cancel()",
    ),
    # --- time ---
    Rule(
        "sleep",
        "gevent.sleep(seconds)",
        "await asyncio.sleep(seconds)",
        "only an awaited sleep yields to other tasks; a gevent.sleep left in a coroutine runs "
        "gevent's hub instead and blocks the event loop for the whole duration",
        rewrite=True,
        awaits=True,
    ),
    Rule(
        "sleep-zero",
        "gevent.sleep(0) / gevent.sleep() / gevent.idle()",
        "await asyncio.sleep(0)",
        "gevent.sleep(0) lets other runnable greenlets go first but may resume before the loop "
        "polls for I/O (gevent.idle waits for the loop to be idle); asyncio.sleep(0) gives up "
        "one loop iteration, in which ready I/O callbacks also run",
        rewrite=True,
        awaits=True,
    ),
    Rule(
        "timeout",
        "gevent.Timeout(seconds) (context manager, start(), except gevent.Timeout)",
        "`async with asyncio.timeout(seconds):` (3.11), or asyncio.wait_for(coro, seconds); "
        "catch TimeoutError",
        "gevent.Timeout derives from BaseException, so `except Exception` lets it through; "
        "asyncio's TimeoutError is an Exception and an OSError, so `except Exception` and "
        "`except OSError` now catch timeouts; both only fire at a switch (an await)",
        awaits=True,
    ),
    Rule(
        "timeout-start",
        "timeout = gevent.Timeout(s); timeout.start() ... timeout.cancel() / Timeout.start_new",
        "`async with asyncio.timeout(s) as scope:` around the same code; scope.reschedule(None) "
        "where cancel() was called early, scope.reschedule(loop.time() + s) to move it",
        "a started gevent.Timeout fires in whatever the greenlet is doing until cancelled, "
        "across function boundaries; asyncio.timeout is bound to its block and must be "
        "entered in the task it is to interrupt; forgetting cancel() has no counterpart",
        awaits=True,
    ),
    Rule(
        "timeout-silent",
        "gevent.Timeout(seconds, False)",
        "`with contextlib.suppress(TimeoutError): async with asyncio.timeout(seconds): ...`",
        "Timeout(s, False) ends the block silently; the suppress must wrap the `async with` "
        "(asyncio.timeout turns its internal cancellation into TimeoutError on the way out)",
        awaits=True,
    ),
    Rule(
        "with-timeout",
        "gevent.with_timeout(seconds, fn, *args, timeout_value=...)",
        "await asyncio.wait_for(fn(*args), seconds), catching TimeoutError for timeout_value",
        "wait_for cancels the inner coroutine on timeout and waits for it to finish cancelling",
        awaits=True,
    ),
)
