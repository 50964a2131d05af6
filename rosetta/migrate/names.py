"""The name tables: which gevent and standard names the scanner knows, and what they hold.

A *kind* says what an expression holds as far as the file shows: a greenlet, a collection of
greenlets, a pool, a thread pool, a timeout, or one of these classes itself (a subclass
defined in the file, or a parameter whose default is the class). Method tables map a kind
and a method name to a rule; the API table maps gevent names, by their longest known prefix,
to a rule; the patched table lists the standard calls that monkey patching makes cooperative.
"""

from __future__ import annotations

# What a name or expression holds.
GREENLET = "greenlet"  # a gevent Greenlet (spawn, Greenlet(...), pool.spawn)
GREENLETS = "greenlets"  # a list/tuple/set/comprehension of Greenlets
GREENLET_MAP = "greenlet-map"  # a dict whose values are Greenlets
RAW_GREENLET = "raw-greenlet"  # greenlet.greenlet(...)
POOL = "pool"  # gevent.pool.Pool / Group
THREADPOOL = "threadpool"  # gevent.threadpool.ThreadPool, the hub's threadpool
TIMEOUT = "timeout"  # a gevent.Timeout instance
QUEUE = "queue-object"  # a gevent.queue.Queue (or Priority, Lifo, Joinable) instance
EVENT = "event-object"  # a gevent.event.Event instance
ASYNC_RESULT = "async-result-object"  # a gevent.event.AsyncResult instance
SEMAPHORE = "semaphore-object"  # a gevent.lock.Semaphore, BoundedSemaphore or RLock
HUB = "hub"  # gevent's hub, its loop and its watchers: no asyncio counterpart of their own
SESSION = "requests-session"  # a requests.Session: its requests relied on the socket patch
CLASS_PREFIX = "class:"  # the class itself: "class:greenlet" is Greenlet or a subclass
ALIAS_PREFIX = "alias:"  # a parameter whose default is a gevent name: "alias:gevent.Timeout"


def class_of(kind: str) -> str:
    return CLASS_PREFIX + kind


# The classes whose instances the scanner follows, by qualified name.
CLASS_KINDS: dict[str, str] = {
    "gevent.Greenlet": GREENLET,
    "gevent.greenlet.Greenlet": GREENLET,
    "greenlet.greenlet": RAW_GREENLET,
    "gevent.pool.Pool": POOL,
    "gevent.pool.Group": POOL,
    "gevent.threadpool.ThreadPool": THREADPOOL,
    "gevent.Timeout": TIMEOUT,
    "gevent.timeout.Timeout": TIMEOUT,
    **{
        f"gevent.queue.{name}": QUEUE
        for name in ("Queue", "PriorityQueue", "LifoQueue", "JoinableQueue")
    },
    "gevent.event.Event": EVENT,
    "gevent.event.AsyncResult": ASYNC_RESULT,
    **{
        f"gevent.{module}.{name}": SEMAPHORE
        for module in ("lock", "coros")
        for name in ("Semaphore", "BoundedSemaphore", "RLock")
    },
    "requests.Session": SESSION,
    "requests.session": SESSION,
    "requests.sessions.Session": SESSION,
}
# Calls that return one of them without being the class.
MAKER_KINDS: dict[str, str] = {
    "gevent.spawn": GREENLET,
    "gevent.spawn_later": GREENLET,
    "gevent.Greenlet.spawn": GREENLET,
    "gevent.greenlet.Greenlet.spawn": GREENLET,
    "gevent.Greenlet.spawn_later": GREENLET,
    "gevent.greenlet.Greenlet.spawn_later": GREENLET,
    "gevent.Timeout.start_new": TIMEOUT,
    "gevent.timeout.Timeout.start_new": TIMEOUT,
    "gevent.get_hub": HUB,
    "gevent.hub.get_hub": HUB,
}
CLASS_METHODS_MAKING: dict[str, dict[str, str]] = {
    GREENLET: {"spawn": GREENLET, "spawn_later": GREENLET},
    TIMEOUT: {"start_new": TIMEOUT},
}
CLASS_METHOD_RULES: dict[str, dict[str, str]] = {
    GREENLET: {"spawn": "spawn", "spawn_later": "spawn-later"},
    TIMEOUT: {"start_new": "timeout-start"},
}

_KILL = {"kill": "greenlet-kill"}
METHOD_RULES: dict[str, dict[str, str]] = {
    GREENLET: {
        "join": "greenlet-join",
        "get": "greenlet-get",
        **_KILL,
        "link": "greenlet-link",
        "link_value": "greenlet-link",
        "link_exception": "greenlet-link",
        "rawlink": "greenlet-link",
        "start": "greenlet-start",
        "start_later": "greenlet-start",
        "ready": "greenlet-state",
        "successful": "greenlet-state",
    },
    RAW_GREENLET: {"switch": "greenlet-switch", "throw": "greenlet-switch"},
    POOL: {
        "spawn": "pool-spawn",
        "apply_async": "pool-spawn",
        "apply_cb": "pool-spawn",
        "map": "pool-map",
        "imap": "pool-map",
        "map_async": "pool-map",
        "map_cb": "pool-map",
        "apply": "pool-map",
        "imap_unordered": "pool-imap-unordered",
        "join": "pool-join",
        "kill": "killall",
        "killone": "greenlet-kill",
        "add": "group-add",
        "discard": "group-add",
        "start": "group-add",
        "wait_available": "pool-spawn",
    },
    THREADPOOL: {
        name: "threadpool"
        for name in [
            "spawn",
            "apply",
            "apply_async",
            "apply_cb",
            "map",
            "map_async",
            "map_cb",
            "imap",
            "imap_unordered",
            "join",
            "kill",
        ]
    },
    TIMEOUT: {"start": "timeout-start", "cancel": "timeout-start", "close": "timeout-start"},
    # Only the methods whose asyncio form differs (awaited, or renamed).
    QUEUE: {"put": "queue", "get": "queue", "peek": "queue", "join": "joinable-queue"},
    EVENT: {"wait": "event"},
    SEMAPHORE: {"acquire": "semaphore", "wait": "semaphore"},
    ASYNC_RESULT: {name: "async-result" for name in ("get", "wait", "set", "set_exception")},
    SESSION: {
        name: "patched-requests"
        for name in ("get", "post", "put", "patch", "delete", "head", "options", "request", "send")
    },
}
# Methods that hand back a greenlet of the pool.
POOL_SPAWNERS = frozenset({"spawn", "apply_async"})
# Where a call's arguments say which variant of a rule applies.
KILL_METHODS = frozenset({"kill", "killone"})

# gevent and greenlet names, by the longest prefix that has a rule; anything else under
# gevent or greenlet is "other".
API_RULES: dict[str, str] = {
    "gevent.monkey.patch_all": "monkey-patch-all",
    **{
        f"gevent.monkey.patch_{part}": "monkey-patch-partial"
        for part in (
            "builtins",
            "contextvars",
            "dns",
            "item",
            "module",
            "os",
            "queue",
            "select",
            "selectors",
            "signal",
            "socket",
            "ssl",
            "subprocess",
            "sys",
            "thread",
            "time",
        )
    },
    "gevent.spawn": "spawn",
    "gevent.Greenlet.spawn": "spawn",
    "gevent.greenlet.Greenlet.spawn": "spawn",
    "gevent.spawn_later": "spawn-later",
    "gevent.Greenlet.spawn_later": "spawn-later",
    "gevent.greenlet.Greenlet.spawn_later": "spawn-later",
    "gevent.spawn_raw": "spawn-raw",
    "gevent.Greenlet": "greenlet-class",
    "gevent.greenlet.Greenlet": "greenlet-class",
    "gevent.joinall": "joinall",
    "gevent.greenlet.joinall": "joinall",
    "gevent.killall": "killall",
    "gevent.greenlet.killall": "killall",
    "gevent.kill": "greenlet-kill",
    "gevent.hub.kill": "greenlet-kill",
    "gevent.getcurrent": "getcurrent",
    "gevent.hub.getcurrent": "getcurrent",
    "greenlet.getcurrent": "getcurrent",
    "gevent.GreenletExit": "greenlet-exit",
    "gevent.greenlet.GreenletExit": "greenlet-exit",
    "greenlet.GreenletExit": "greenlet-exit",
    "gevent.wait": "wait",
    "gevent.iwait": "wait",
    "gevent.hub.wait": "wait",
    "gevent.hub.iwait": "wait",
    "gevent.signal_handler": "signal-handler",
    "gevent.hub.signal": "signal-handler",
    "gevent.signal": "signal-handler",
    "gevent.sleep": "sleep",
    "gevent.hub.sleep": "sleep",
    "gevent.idle": "sleep-zero",
    "gevent.hub.idle": "sleep-zero",
    "gevent.Timeout": "timeout",
    "gevent.timeout.Timeout": "timeout",
    "gevent.Timeout.start_new": "timeout-start",
    "gevent.timeout.Timeout.start_new": "timeout-start",
    "gevent.with_timeout": "with-timeout",
    "gevent.timeout.with_timeout": "with-timeout",
    "gevent.pool.Pool": "pool",
    "gevent.pool.Group": "group",
    "gevent.queue.Queue": "queue",
    "gevent.queue.PriorityQueue": "queue",
    "gevent.queue.LifoQueue": "queue",
    "gevent.queue.SimpleQueue": "queue",
    "gevent.queue.Empty": "queue",
    "gevent.queue.Full": "queue",
    "gevent.queue.JoinableQueue": "joinable-queue",
    "gevent.queue.Channel": "channel",
    "gevent.event.Event": "event",
    "gevent.event.AsyncResult": "async-result",
    "gevent.lock.Semaphore": "semaphore",
    "gevent.lock.RLock": "semaphore",
    "gevent.lock.DummySemaphore": "semaphore",
    "gevent.lock.BoundedSemaphore": "bounded-semaphore",
    "gevent.coros.Semaphore": "semaphore",
    "gevent.coros.RLock": "semaphore",
    "gevent.coros.BoundedSemaphore": "bounded-semaphore",
    "gevent.local.local": "local",
    "gevent.server.StreamServer": "stream-server",
    "gevent.server.DatagramServer": "datagram-server",
    "gevent.pywsgi.WSGIServer": "wsgi-server",
    "gevent.pywsgi.WSGIHandler": "wsgi-server",
    "gevent.wsgi.WSGIServer": "wsgi-server",
    "gevent.threadpool": "threadpool",
    "gevent.select": "gevent-select",
    "gevent.socket": "gevent-socket",
    "gevent.ssl": "gevent-ssl",
    "gevent.subprocess": "gevent-subprocess",
    "greenlet.greenlet": "greenlet-greenlet",
}
HUB_GETTERS = frozenset({"gevent.get_hub", "gevent.hub.get_hub"})
SILENT_TIMEOUTS = frozenset({"gevent.Timeout", "gevent.timeout.Timeout"})
SLEEPS = frozenset({"gevent.sleep", "gevent.hub.sleep"})

# What each patch makes cooperative, and the standard names that relied on it.
SOCKET, TIME, SELECT, THREAD, SUBPROCESS = "socket", "time", "select", "thread", "subprocess"
ALL_CATEGORIES = frozenset({SOCKET, TIME, SELECT, THREAD, SUBPROCESS})
PATCH_CATEGORIES: dict[str, frozenset[str]] = {
    "gevent.monkey.patch_socket": frozenset({SOCKET}),
    "gevent.monkey.patch_time": frozenset({TIME}),
    "gevent.monkey.patch_select": frozenset({SELECT}),
    "gevent.monkey.patch_selectors": frozenset({SELECT}),
    "gevent.monkey.patch_thread": frozenset({THREAD}),
    "gevent.monkey.patch_subprocess": frozenset({SUBPROCESS}),
}
PATCH_ALL = "gevent.monkey.patch_all"
PATCH_ALL_KEYWORDS = {
    "socket": SOCKET,
    "time": TIME,
    "select": SELECT,
    "thread": THREAD,
    "subprocess": SUBPROCESS,
}


def _names(module: str, names: str, rule: str, category: str) -> dict[str, tuple[str, str]]:
    return {f"{module}.{name}": (rule, category) for name in names.split()}


PATCHED_NAMES: dict[str, tuple[str, str]] = {
    "time.sleep": ("patched-time-sleep", TIME),
    **_names(
        "socket",
        "socket create_connection create_server socketpair fromfd getaddrinfo gethostbyname "
        "gethostbyname_ex gethostbyaddr getnameinfo getfqdn",
        "patched-socket",
        SOCKET,
    ),
    **_names("urllib.request", "urlopen urlretrieve build_opener", "patched-urllib", SOCKET),
    **_names("http.client", "HTTPConnection HTTPSConnection", "patched-urllib", SOCKET),
    **_names("urllib2", "urlopen build_opener", "patched-urllib", SOCKET),
    **_names("six.moves.urllib.request", "urlopen build_opener", "patched-urllib", SOCKET),
    **_names(
        "requests",
        "get post put patch delete head options request Session session",
        "patched-requests",
        SOCKET,
    ),
    **_names("select", "select poll epoll kqueue devpoll", "patched-select", SELECT),
    **_names(
        "selectors",
        "DefaultSelector SelectSelector PollSelector EpollSelector KqueueSelector DevpollSelector",
        "patched-select",
        SELECT,
    ),
    **_names(
        "threading",
        "Thread Timer Lock RLock Event Condition Semaphore BoundedSemaphore local",
        "patched-threading",
        THREAD,
    ),
    **_names("_thread", "start_new_thread allocate_lock", "patched-threading", THREAD),
    **_names(
        "subprocess",
        "run Popen call check_call check_output getoutput getstatusoutput",
        "patched-subprocess",
        SUBPROCESS,
    ),
}
