"""Rules for pools, queues, locks, servers, threads and the calls monkey patching hid."""

from __future__ import annotations

from rosetta.migrate.rule import Rule

RESOURCES: tuple[Rule, ...] = (
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
        "asyncio.TaskGroup for a group that lives within one block; for a long-lived group "
        "used as a registry (len(), iteration, kill on quit): a set of tasks, "
        "task.add_done_callback(tasks.discard), and cancel + gather on quit",
        "a Group keeps its other members running when one fails; a TaskGroup cancels them "
        "all at the first failure and raises an ExceptionGroup when its block ends, and it "
        "cannot be counted, iterated or outlive its async with block",
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
        "the input order, like map; an error propagates at once but leaves the others running, "
        "and cancelling the caller cancels every coroutine gather runs",
        awaits=True,
    ),
    Rule(
        "pool-imap-unordered",
        "pool.imap_unordered(fn, items)",
        "`for next_done in asyncio.as_completed(tasks): result = await next_done`",
        "as_completed starts everything at once (bound it with a semaphore) and does not say "
        "which input a result belongs to before 3.13: return it with the result",
        awaits=True,
    ),
    Rule(
        "pool-join",
        "pool.join(timeout) / group.join()",
        "the end of the `async with asyncio.TaskGroup()` block, or await asyncio.wait(tasks, "
        "timeout=...) for join(timeout)",
        "join() does not raise the members' errors (the TaskGroup raises them as an "
        "ExceptionGroup); join(timeout) returns True if the group emptied and False on "
        "timeout, where asyncio.wait returns (done, pending): test `not pending`",
        awaits=True,
    ),
    Rule(
        "pool-join-raise-error",
        "group.join(raise_error=True)",
        "await asyncio.gather(*tasks) (raises the first error, leaves the others running), or "
        "the end of an asyncio.TaskGroup block (cancels them, raises an ExceptionGroup)",
        "join(raise_error=True) does raise: one of the errors of the members present when "
        "join was called, which one is not determined; a TaskGroup raises all of them "
        "together (except*)",
        awaits=True,
    ),
    Rule(
        "group-add",
        "group.add(greenlet) / discard / start",
        "tasks.add(task) and task.add_done_callback(tasks.discard) on a set of your own (or "
        "tg.create_task in a TaskGroup, which adds it for you)",
        "a Group drops a member when it finishes by itself; a plain set keeps finished tasks "
        "unless the done callback discards them; Pool.add waits for a free slot",
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
        "code that re-enters an RLock must be restructured; asyncio locks are not "
        "thread-safe: a lock shared with threads stays a threading.Lock",
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
        awaits=True,
    ),
    Rule(
        "hub-threadpool",
        "gevent.get_hub().threadpool",
        "await asyncio.to_thread(fn, *args)",
        "the hub's pool is per-hub (per thread) and sized by gevent's config; see threadpool",
        awaits=True,
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
        "an ssl.SSLContext passed as ssl= to open_connection / start_server, or writer.start_tls()",
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
        awaits=True,
    ),
    # --- blocking calls that only worked because the module patches ---
    Rule(
        "patched-time-sleep",
        "time.sleep in a module that patches time",
        "await asyncio.sleep(seconds)",
        "once the patch is gone time.sleep blocks the whole event loop",
        rewrite=True,
        awaits=True,
    ),
    Rule(
        "patched-socket",
        "socket.socket / create_connection / getaddrinfo ... in a module that patches socket",
        "asyncio streams or loop.sock_* (await loop.getaddrinfo for lookups)",
        "unpatched, a blocking socket call blocks the whole event loop",
        awaits=True,
    ),
    Rule(
        "patched-urllib",
        "urllib.request.urlopen / http.client in a module that patches socket",
        "an aiohttp.ClientSession, or await asyncio.to_thread(urlopen, ...)",
        "unpatched, urlopen blocks the whole event loop; aiohttp reads the body with await "
        "and raises its own exceptions (aiohttp.ClientError), not URLError",
        awaits=True,
    ),
    Rule(
        "patched-requests",
        "requests.get / post / Session ... in a module that patches socket",
        "an aiohttp.ClientSession (or httpx.AsyncClient), or await asyncio.to_thread(...)",
        "unpatched, requests blocks the whole event loop; one ClientSession is meant to be "
        "shared, not made per request",
        awaits=True,
    ),
    Rule(
        "patched-select",
        "select.select / poll / epoll / selectors in a module that patches select",
        "nothing: the event loop does the waiting (streams, loop.add_reader)",
        "unpatched, select blocks the whole event loop",
        awaits=True,
    ),
    Rule(
        "patched-threading",
        "threading.Thread / Lock / Event / local ... in a module that patches thread",
        "tasks (asyncio.create_task) for what were greenlets in disguise, with asyncio "
        "locks between tasks; asyncio.to_thread for real threads, with threading locks where "
        "threads are involved; ContextVar for threading.local",
        "patched, these were greenlets; unpatched they are OS threads that run in parallel "
        "with the loop and must talk to it through call_soon_threadsafe or "
        "run_coroutine_threadsafe; asyncio locks, events and queues are not thread-safe, so "
        "they cannot guard state shared with a thread",
    ),
    Rule(
        "patched-subprocess",
        "subprocess.run / Popen ... in a module that patches subprocess",
        "await asyncio.create_subprocess_exec(...)",
        "unpatched, waiting for a child blocks the whole event loop",
        awaits=True,
    ),
    Rule(
        "other",
        "any other gevent or greenlet name",
        "see docs/migration.md",
        "no rule of its own yet: read what it does before porting it",
    ),
)
