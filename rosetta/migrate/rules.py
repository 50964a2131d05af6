"""The catalogue of gevent and greenlet idioms: one rule per idiom, with what replaces it.

A rule's `asyncio` says what to write instead; its `caveat` says what differs in meaning,
which is the part a mechanical translation gets wrong. `rewrite` marks the few rules that
`rosetta migrate rewrite` applies by itself (inside `async def` only). docs/migration.md
presents the same table with worked examples; a test keeps the two in step.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    id: str
    gevent: str
    asyncio: str
    caveat: str
    rewrite: bool = False


class UnknownRule(ValueError):
    """A rule id (or pattern) given by the user matches no rule."""


_CANCEL_NOT_KILL = (
    "cancel() only asks: CancelledError is raised at the task's next await, the task may "
    "catch it, and you must await the task to know it has finished"
)

RULES: tuple[Rule, ...] = (
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
        "joinall",
        "gevent.joinall(jobs)",
        "await asyncio.gather(*jobs, return_exceptions=True), or asyncio.wait(jobs, "
        "timeout=...) when a timeout is given",
        "joinall returns the finished greenlets and never raises their errors; gather returns "
        "the results (exceptions in place with return_exceptions=True); asyncio.wait returns "
        "(done, pending) and does not cancel the pending ones on timeout",
        rewrite=True,
    ),
    Rule(
        "joinall-raise-error",
        "gevent.joinall(jobs, raise_error=True)",
        "await asyncio.gather(*jobs), or `async with asyncio.TaskGroup()` to also stop the "
        "others on the first failure",
        "like gather, raise_error re-raises the first error and leaves the others running; a "
        "TaskGroup cancels the others and raises an ExceptionGroup (handle it with except*)",
        rewrite=True,
    ),
    Rule(
        "greenlet-join",
        "greenlet.join(timeout)",
        "await asyncio.wait([task], timeout=...), or `await task` to also get its error",
        "join returns silently on timeout and never raises the greenlet's error; `await task` "
        "raises it; cancelling the task that awaits also cancels the awaited task, unless "
        "shielded",
    ),
    Rule(
        "greenlet-get",
        "greenlet.get(block, timeout)",
        "await task (or asyncio.wait_for(task, timeout)); task.result() for get(block=False)",
        "get(timeout=...) raises gevent.Timeout and leaves the greenlet running; wait_for "
        "raises TimeoutError and cancels the task (wrap it in asyncio.shield to keep it); "
        "task.result() raises InvalidStateError if the task is not done",
    ),
    Rule(
        "greenlet-kill",
        "greenlet.kill() / gevent.kill(greenlet)",
        "task.cancel(), then await the task (suppressing CancelledError)",
        "kill raises GreenletExit inside the greenlet and by default waits until it is dead, "
        "and a killed greenlet counts as successful; " + _CANCEL_NOT_KILL + ", and awaiting a "
        "cancelled task raises CancelledError",
    ),
    Rule(
        "killall",
        "gevent.killall(jobs) / pool.kill()",
        "for task in tasks: task.cancel(); then await asyncio.gather(*tasks, "
        "return_exceptions=True); a TaskGroup does this on the way out of its block",
        "killall waits for the greenlets to die (block=True); " + _CANCEL_NOT_KILL,
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
    ),
    Rule(
        "sleep-zero",
        "gevent.sleep(0) / gevent.sleep() / gevent.idle()",
        "await asyncio.sleep(0)",
        "gevent.sleep(0) lets other runnable greenlets go first but may resume before the loop "
        "polls for I/O (gevent.idle waits for the loop to be idle); asyncio.sleep(0) gives up "
        "one loop iteration, in which ready I/O callbacks also run",
        rewrite=True,
    ),
    Rule(
        "timeout",
        "gevent.Timeout(seconds) (context manager, start(), except gevent.Timeout)",
        "`async with asyncio.timeout(seconds):` (3.11), or asyncio.wait_for(coro, seconds); "
        "catch TimeoutError",
        "gevent.Timeout derives from BaseException, so `except Exception` lets it through; "
        "asyncio's TimeoutError is an Exception and an OSError, so `except Exception` and "
        "`except OSError` now catch timeouts; both only fire at a switch (an await)",
    ),
    Rule(
        "timeout-silent",
        "gevent.Timeout(seconds, False)",
        "`with contextlib.suppress(TimeoutError): async with asyncio.timeout(seconds): ...`",
        "Timeout(s, False) ends the block silently; the suppress must wrap the `async with` "
        "(asyncio.timeout turns its internal cancellation into TimeoutError on the way out)",
    ),
    Rule(
        "with-timeout",
        "gevent.with_timeout(seconds, fn, *args, timeout_value=...)",
        "await asyncio.wait_for(fn(*args), seconds), catching TimeoutError for timeout_value",
        "wait_for cancels the inner coroutine on timeout and waits for it to finish cancelling",
    ),
    # --- pools and groups ---
    Rule(
        "pool",
        "gevent.pool.Pool(size)",
        "asyncio.Semaphore(size) held around each job, inside an asyncio.TaskGroup; or `size` "
        "worker tasks reading an asyncio.Queue",
        "Pool.spawn blocks the caller while the pool is full (backpressure where work is "
        "created); tasks that take a semaphore inside all exist at once and wait in memory: "
        "acquire before create_task, or use workers and a bounded Queue, to keep that bound",
    ),
    Rule(
        "group",
        "gevent.pool.Group()",
        "asyncio.TaskGroup",
        "a Group keeps its other members running when one fails; a TaskGroup cancels them "
        "all at the first failure and raises an ExceptionGroup when its block ends",
    ),
    Rule(
        "pool-spawn",
        "pool.spawn(fn, *args) / pool.apply_async",
        "tg.create_task(job()) with `async with semaphore:` inside job",
        "see pool: the caller no longer waits for a free slot, the task does",
    ),
    Rule(
        "pool-map",
        "pool.map(fn, items) / pool.imap / pool.apply",
        "await asyncio.gather(*(fn(item) for item in items)) with a semaphore bounding fn",
        "gather starts every coroutine at once (only the semaphore bounds the work) and keeps "
        "the input order, like map; an error propagates at once but leaves the others running",
    ),
    Rule(
        "pool-imap-unordered",
        "pool.imap_unordered(fn, items)",
        "`for next_done in asyncio.as_completed(tasks): result = await next_done`",
        "as_completed starts everything at once (bound it with a semaphore) and does not say "
        "which input a result belongs to before 3.13: return it with the result",
    ),
    Rule(
        "pool-join",
        "pool.join() / group.join()",
        "the end of the `async with asyncio.TaskGroup()` block, or await asyncio.gather(...)",
        "join never raises the members' errors; the TaskGroup raises them as an ExceptionGroup",
    ),
    # --- synchronisation and queues ---
    Rule(
        "queue",
        "gevent.queue.Queue / PriorityQueue / LifoQueue / SimpleQueue",
        "asyncio.Queue / PriorityQueue / LifoQueue (await get() / put())",
        "get and put become coroutines with no timeout argument (use asyncio.timeout); "
        "get_nowait raises asyncio.QueueEmpty, not queue.Empty; an asyncio queue belongs to one "
        "loop and is not thread-safe",
    ),
    Rule(
        "joinable-queue",
        "gevent.queue.JoinableQueue",
        "asyncio.Queue (always joinable: task_done(), await join())",
        "join() becomes a coroutine; as in gevent, every get() must be matched by task_done()",
    ),
    Rule(
        "channel",
        "gevent.queue.Channel",
        "no equivalent: asyncio.Queue(maxsize=1) plus a future per item, or an Event, for a "
        "hand-over",
        "a Channel put waits until a getter has taken the item; Queue(maxsize=1).put returns "
        "as soon as the item is buffered",
    ),
    Rule(
        "event",
        "gevent.event.Event",
        "asyncio.Event (await event.wait())",
        "wait() takes no timeout and returns True (wrap it in asyncio.timeout); set() must be "
        "called from the loop's thread (loop.call_soon_threadsafe(event.set) from others)",
    ),
    Rule(
        "async-result",
        "gevent.event.AsyncResult",
        "loop.create_future(): set_result / set_exception, `await future`",
        "a future can be completed once only (a second set_result raises InvalidStateError) "
        "and belongs to one loop; AsyncResult.get(timeout) becomes asyncio.wait_for on a "
        "shielded future",
    ),
    Rule(
        "semaphore",
        "gevent.lock.Semaphore / RLock / DummySemaphore",
        "asyncio.Semaphore / asyncio.Lock (`async with`)",
        "acquire() is a coroutine with no timeout argument; asyncio has no reentrant lock, so "
        "code that re-enters an RLock must be restructured",
    ),
    Rule(
        "bounded-semaphore",
        "gevent.lock.BoundedSemaphore",
        "asyncio.BoundedSemaphore",
        "as with gevent, releasing more than acquired raises ValueError; acquire is awaited",
    ),
    Rule(
        "local",
        "gevent.local.local()",
        "contextvars.ContextVar, one per attribute",
        "a new greenlet starts with an empty local (and an empty context); a task starts with "
        "a copy of its creator's context, so values set before create_task are seen inside "
        "the task, and what the task sets does not come back",
    ),
    # --- servers ---
    Rule(
        "stream-server",
        "gevent.server.StreamServer(address, handle)",
        "await asyncio.start_server(handle, host, port); handle(reader, writer) is an async def; "
        "`async with server: await server.serve_forever()`",
        "handle gets (reader, writer) instead of (socket, address) and must await "
        "writer.drain(); StreamServer(spawn=Pool(n)) bounds connections, start_server does not "
        "(use a semaphore); SSL is the ssl= argument",
    ),
    Rule(
        "datagram-server",
        "gevent.server.DatagramServer(address, handle)",
        "await loop.create_datagram_endpoint(ProtocolFactory, local_addr=...)",
        "datagram_received is a plain callback: it must not block, create a task for slow work",
    ),
    Rule(
        "wsgi-server",
        "gevent.pywsgi.WSGIServer(address, app)",
        "aiohttp.web (rewrite the handlers as async), or keep the WSGI app on a threaded WSGI "
        "server",
        "a WSGI app is synchronous: under gevent its blocking calls yielded through patching; "
        "under asyncio every one must become an await or go to a thread",
    ),
    # --- threads ---
    Rule(
        "threadpool",
        "gevent.threadpool.ThreadPool(n) / ThreadPoolExecutor",
        "await asyncio.to_thread(fn, *args), or loop.run_in_executor(executor, fn, *args) "
        "with a ThreadPoolExecutor(n) of your own",
        "to_thread uses the loop's default executor (min(32, CPUs + 4) threads) and passes the "
        "context along; a running thread cannot be cancelled: cancelling the await only "
        "abandons the result",
    ),
    Rule(
        "hub-threadpool",
        "gevent.get_hub().threadpool",
        "await asyncio.to_thread(fn, *args)",
        "the hub's pool is per-hub (per thread) and sized by gevent's config; see threadpool",
    ),
    # --- modules that gevent makes cooperative ---
    Rule(
        "gevent-select",
        "gevent.select.select / poll",
        "nothing: the event loop does the waiting; use streams, or loop.add_reader / "
        "add_writer for a raw socket",
        "a select loop inside a coroutine blocks the whole event loop",
    ),
    Rule(
        "gevent-socket",
        "gevent.socket",
        "asyncio streams (open_connection / start_server), or loop.sock_recv / sock_sendall "
        "on a non-blocking socket",
        "a gevent socket keeps the blocking API and blocks only its greenlet; an asyncio "
        "socket call is a coroutine and the socket must be non-blocking",
    ),
    Rule(
        "gevent-ssl",
        "gevent.ssl",
        "an ssl.SSLContext passed as ssl= to open_connection / start_server, or "
        "writer.start_tls()",
        "the TLS handshake happens inside the awaited call; wrap_socket on a plain socket "
        "would block the loop",
    ),
    Rule(
        "gevent-subprocess",
        "gevent.subprocess",
        "await asyncio.create_subprocess_exec(...) / create_subprocess_shell(...)",
        "communicate() and wait() become coroutines; the pipes are StreamReader/StreamWriter",
    ),
    # --- raw greenlet ---
    Rule(
        "greenlet-greenlet",
        "greenlet.greenlet(run)",
        "an async def run by the loop (asyncio.create_task), or a generator for a pure "
        "hand-off between two routines",
        "greenlets choose whom to switch to; coroutines only give control back to the loop, "
        "which runs whichever task is ready: express 'now you' as the other task awaiting a "
        "queue or event this one sets",
    ),
    Rule(
        "greenlet-switch",
        "gr.switch(value)",
        "await queue.put(value) to the other task (which awaits queue.get()), or a future",
        "switch transfers control at once and returns when someone switches back; a put or "
        "set only makes the other task ready, and this one goes on until its next await",
    ),
    # --- blocking calls that only worked because the module patches ---
    Rule(
        "patched-time-sleep",
        "time.sleep in a module that patches time",
        "await asyncio.sleep(seconds)",
        "once the patch is gone time.sleep blocks the whole event loop",
        rewrite=True,
    ),
    Rule(
        "patched-socket",
        "socket.socket / create_connection / getaddrinfo ... in a module that patches socket",
        "asyncio streams or loop.sock_* (await loop.getaddrinfo for lookups)",
        "unpatched, a blocking socket call blocks the whole event loop",
    ),
    Rule(
        "patched-urllib",
        "urllib.request.urlopen / http.client in a module that patches socket",
        "an aiohttp.ClientSession, or await asyncio.to_thread(urlopen, ...)",
        "unpatched, urlopen blocks the whole event loop; aiohttp reads the body with await "
        "and raises its own exceptions (aiohttp.ClientError), not URLError",
    ),
    Rule(
        "patched-requests",
        "requests.get / post / Session ... in a module that patches socket",
        "an aiohttp.ClientSession (or httpx.AsyncClient), or await asyncio.to_thread(...)",
        "unpatched, requests blocks the whole event loop; one ClientSession is meant to be "
        "shared, not made per request",
    ),
    Rule(
        "patched-select",
        "select.select / poll / epoll / selectors in a module that patches select",
        "nothing: the event loop does the waiting (streams, loop.add_reader)",
        "unpatched, select blocks the whole event loop",
    ),
    Rule(
        "patched-threading",
        "threading.Thread / Lock / Event / local ... in a module that patches thread",
        "tasks (asyncio.create_task) for what were greenlets in disguise, asyncio.to_thread "
        "for real threads, asyncio locks for both... and ContextVar for threading.local",
        "patched, these were greenlets; unpatched they are OS threads that run in parallel "
        "with the loop and must talk to it through call_soon_threadsafe",
    ),
    Rule(
        "patched-subprocess",
        "subprocess.run / Popen ... in a module that patches subprocess",
        "await asyncio.create_subprocess_exec(...)",
        "unpatched, waiting for a child blocks the whole event loop",
    ),
    Rule(
        "other",
        "any other gevent or greenlet name",
        "see docs/migration.md",
        "no rule of its own yet: read what it does before porting it",
    ),
)

RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}
REWRITABLE: frozenset[str] = frozenset(rule.id for rule in RULES if rule.rewrite)


def select_rules(specs: Iterable[str]) -> frozenset[str]:
    """Rule ids from `--select` values: comma-separated ids or shell patterns (`patched-*`)."""
    chosen: set[str] = set()
    for spec in specs:
        for item in spec.split(","):
            pattern = item.strip()
            if not pattern:
                continue
            matched = fnmatch.filter(RULES_BY_ID, pattern)
            if not matched:
                raise UnknownRule(f"unknown rule {pattern!r} (see `rosetta migrate rules`)")
            chosen.update(matched)
    if not chosen:
        raise UnknownRule("--select names no rule")
    return frozenset(chosen)
