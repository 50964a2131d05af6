"""Find gevent and greenlet idioms in Python source without importing or running it.

libcst parses each file and its scope analysis resolves every name to what it was imported as,
so `from gevent import spawn as go; go(f)` is found and a local `def spawn()` is not. Method
calls (`.join()`, `.kill()`, `.switch()`, `pool.map()`) are recognised on objects whose origin is
visible in the file: a name bound, in scope, to a spawn, a pool or a greenlet (directly, through
a list of them, or a `for` over such a list). Blocking standard calls (`time.sleep`, sockets,
`urllib`, `requests`, ...) are reported only in modules that monkey-patch them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import (
    Assignment,
    MetadataWrapper,
    ParentNodeProvider,
    PositionProvider,
    QualifiedNameProvider,
    QualifiedNameSource,
    ScopeProvider,
)

from rosetta.migrate.rules import RULES_BY_ID, Rule

# What a name or expression holds, as far as the file shows.
GREENLET = "greenlet"  # a gevent Greenlet (spawn, Greenlet(...), pool.spawn)
GREENLETS = "greenlets"  # a list/tuple/comprehension of Greenlets
RAW_GREENLET = "raw-greenlet"  # greenlet.greenlet(...)
POOL = "pool"  # gevent.pool.Pool / Group

_GREENLET_MAKERS = frozenset({
    "gevent.spawn", "gevent.spawn_later",
    "gevent.Greenlet", "gevent.greenlet.Greenlet",
    "gevent.Greenlet.spawn", "gevent.greenlet.Greenlet.spawn",
    "gevent.Greenlet.spawn_later", "gevent.greenlet.Greenlet.spawn_later",
})
_RAW_GREENLET_MAKERS = frozenset({"greenlet.greenlet"})
_POOL_MAKERS = frozenset({"gevent.pool.Pool", "gevent.pool.Group"})

_METHOD_RULES: dict[str, dict[str, str]] = {
    GREENLET: {
        "join": "greenlet-join",
        "get": "greenlet-get",
        "kill": "greenlet-kill",
        "link": "greenlet-link",
        "link_value": "greenlet-link",
        "link_exception": "greenlet-link",
        "rawlink": "greenlet-link",
    },
    RAW_GREENLET: {"switch": "greenlet-switch"},
    POOL: {
        "spawn": "pool-spawn",
        "apply_async": "pool-spawn",
        "map": "pool-map",
        "imap": "pool-map",
        "map_async": "pool-map",
        "apply": "pool-map",
        "imap_unordered": "pool-imap-unordered",
        "join": "pool-join",
        "kill": "killall",
    },
}
_POOL_SPAWNERS = frozenset({"spawn", "apply_async"})

# gevent and greenlet names, by the longest prefix that has a rule; anything else under
# gevent or greenlet is "other".
_API_RULES: dict[str, str] = {
    "gevent.monkey.patch_all": "monkey-patch-all",
    **{
        f"gevent.monkey.patch_{part}": "monkey-patch-partial"
        for part in (
            "builtins", "contextvars", "dns", "item", "module", "os", "queue", "select",
            "selectors", "signal", "socket", "ssl", "subprocess", "sys", "thread", "time",
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
    "gevent.wsgi.WSGIServer": "wsgi-server",
    "gevent.threadpool": "threadpool",
    "gevent.select": "gevent-select",
    "gevent.socket": "gevent-socket",
    "gevent.ssl": "gevent-ssl",
    "gevent.subprocess": "gevent-subprocess",
    "greenlet.greenlet": "greenlet-greenlet",
}
_HUB_GETTERS = frozenset({"gevent.get_hub", "gevent.hub.get_hub"})
_SILENT_TIMEOUTS = frozenset({"gevent.Timeout", "gevent.timeout.Timeout"})

# What each patch makes cooperative, and the standard names that relied on it.
_SOCKET, _TIME, _SELECT, _THREAD, _SUBPROCESS = "socket", "time", "select", "thread", "subprocess"
_PATCH_CATEGORIES: dict[str, frozenset[str]] = {
    "gevent.monkey.patch_socket": frozenset({_SOCKET}),
    "gevent.monkey.patch_time": frozenset({_TIME}),
    "gevent.monkey.patch_select": frozenset({_SELECT}),
    "gevent.monkey.patch_selectors": frozenset({_SELECT}),
    "gevent.monkey.patch_thread": frozenset({_THREAD}),
    "gevent.monkey.patch_subprocess": frozenset({_SUBPROCESS}),
}
_PATCH_ALL = "gevent.monkey.patch_all"
_PATCH_ALL_KEYWORDS = {
    "socket": _SOCKET, "time": _TIME, "select": _SELECT, "thread": _THREAD,
    "subprocess": _SUBPROCESS,
}


def _names(module: str, names: str, rule: str, category: str) -> dict[str, tuple[str, str]]:
    return {f"{module}.{name}": (rule, category) for name in names.split()}


_PATCHED_NAMES: dict[str, tuple[str, str]] = {
    "time.sleep": ("patched-time-sleep", _TIME),
    **_names(
        "socket",
        "socket create_connection create_server socketpair fromfd getaddrinfo gethostbyname "
        "gethostbyname_ex gethostbyaddr getnameinfo getfqdn",
        "patched-socket", _SOCKET,
    ),
    **_names(
        "urllib.request", "urlopen urlretrieve build_opener", "patched-urllib", _SOCKET
    ),
    **_names("http.client", "HTTPConnection HTTPSConnection", "patched-urllib", _SOCKET),
    **_names("urllib2", "urlopen build_opener", "patched-urllib", _SOCKET),
    **_names(
        "requests", "get post put patch delete head options request Session session",
        "patched-requests", _SOCKET,
    ),
    **_names("select", "select poll epoll kqueue devpoll", "patched-select", _SELECT),
    **_names(
        "selectors",
        "DefaultSelector SelectSelector PollSelector EpollSelector KqueueSelector "
        "DevpollSelector",
        "patched-select", _SELECT,
    ),
    **_names(
        "threading",
        "Thread Timer Lock RLock Event Condition Semaphore BoundedSemaphore local",
        "patched-threading", _THREAD,
    ),
    **_names("_thread", "start_new_thread allocate_lock", "patched-threading", _THREAD),
    **_names(
        "subprocess", "run Popen call check_call check_output getoutput getstatusoutput",
        "patched-subprocess", _SUBPROCESS,
    ),
}


class Unparsable(Exception):
    """The file is not Python that libcst can parse (or not readable as text)."""


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    column: int  # 1-based, like compilers and linters print it
    rule: str
    name: str  # what was found: a resolved name ("gevent.sleep") or a method (".join")

    @property
    def details(self) -> Rule:
        return RULES_BY_ID[self.rule]

    def as_json(self) -> dict[str, object]:
        rule = self.details
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "rule": self.rule,
            "name": self.name,
            "asyncio": rule.asyncio,
            "caveat": rule.caveat,
            "rewrite": rule.rewrite,
        }


@dataclass(frozen=True)
class Hit:
    """A finding still attached to its syntax tree, for the rewrite."""

    rule: str
    name: str
    node: cst.CSTNode
    call: cst.Call | None
    line: int
    column: int
    in_async: bool
    is_statement: bool


@dataclass
class Skipped:
    path: str
    error: str


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    files: int = 0


def parse(source: bytes | str) -> cst.Module:
    try:
        return cst.parse_module(source)
    except cst.ParserSyntaxError as error:
        raise Unparsable(f"syntax error at line {error.raw_line}: {error.message}") from None
    except (UnicodeDecodeError, LookupError, SyntaxError, ValueError, RecursionError) as error:
        raise Unparsable(f"cannot parse: {error}") from None


def _is_false_literal(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value in ("False", "None")


def _is_zero_literal(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.Integer | cst.Float):
        try:
            return float(node.value.replace("_", "")) == 0
        except ValueError:
            return False
    return False


def _argument(call: cst.Call, position: int, keyword: str) -> cst.BaseExpression | None:
    positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    if position < len(positional):
        return positional[position].value
    return None


class _Reader(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (
        QualifiedNameProvider, ScopeProvider, PositionProvider, ParentNodeProvider,
    )

    def __init__(self, kinds: dict[cst.CSTNode, str]) -> None:
        super().__init__()
        # Assigned names, parameters (by annotation) and functions (by return annotation),
        # each with what it holds or returns.
        self.kinds = kinds

    def imported(self, node: cst.CSTNode) -> set[str]:
        """The imported names `node` may stand for (its local definitions do not count)."""
        names = self.get_metadata(QualifiedNameProvider, node, set())
        return {name.name for name in names if name.source is QualifiedNameSource.IMPORT}

    def assignments(self, name: cst.Name) -> list[Assignment]:
        scope = self.get_metadata(ScopeProvider, name, None)
        if scope is None:
            return []
        return [found for found in scope[name.value] if isinstance(found, Assignment)]

    def annotation_kind(self, annotation: cst.BaseExpression) -> str | None:
        """`gevent.Greenlet`, `Greenlet | None`, `list[Greenlet]`, `Pool`... as a kind."""
        if isinstance(annotation, cst.Name | cst.Attribute):
            names = self.imported(annotation)
            if names & {"gevent.Greenlet", "gevent.greenlet.Greenlet"}:
                return GREENLET
            if names & _RAW_GREENLET_MAKERS:
                return RAW_GREENLET
            if names & _POOL_MAKERS:
                return POOL
            return None
        if isinstance(annotation, cst.BinaryOperation):  # X | None
            return self.annotation_kind(annotation.left) or self.annotation_kind(
                annotation.right
            )
        if isinstance(annotation, cst.Subscript):
            inner = {
                self.annotation_kind(element.slice.value)
                for element in annotation.slice
                if isinstance(element.slice, cst.Index)
            }
            wrapper = annotation.value
            optional = isinstance(wrapper, cst.Name | cst.Attribute) and (
                self.imported(wrapper) & {"typing.Optional"}
            )
            if GREENLET in inner:
                return GREENLET if optional else GREENLETS
        return None

    def kind_of(self, expr: cst.BaseExpression) -> str | None:
        if isinstance(expr, cst.Call):
            if isinstance(expr.func, cst.Name):
                for assignment in self.assignments(expr.func):
                    if isinstance(assignment.node, cst.FunctionDef):
                        returned = self.kinds.get(assignment.node)
                        if returned is not None:
                            return returned
            names = self.imported(expr.func)
            if names & _GREENLET_MAKERS:
                return GREENLET
            if names & _RAW_GREENLET_MAKERS:
                return RAW_GREENLET
            if names & _POOL_MAKERS:
                return POOL
            func = expr.func
            if (
                isinstance(func, cst.Attribute)
                and func.attr.value in _POOL_SPAWNERS
                and self.kind_of(func.value) == POOL
            ):
                return GREENLET
            return None
        if isinstance(expr, cst.List | cst.Tuple | cst.Set):
            for element in expr.elements:
                inner = self.kind_of(element.value)
                if inner == GREENLET and isinstance(element, cst.Element):
                    return GREENLETS
                if inner == GREENLETS and isinstance(element, cst.StarredElement):
                    return GREENLETS
            return None
        if isinstance(expr, cst.ListComp | cst.SetComp | cst.GeneratorExp):
            return GREENLETS if self.kind_of(expr.elt) == GREENLET else None
        if isinstance(expr, cst.Name):
            found = {
                self.kinds.get(assignment.node)
                for assignment in self.assignments(expr)
                if not isinstance(assignment.node, cst.FunctionDef)
            }
            found.discard(None)
            return sorted(kind for kind in found if kind is not None)[0] if found else None
        return None


class _Bindings(_Reader):
    """First pass: what each assigned name holds, and which modules the file patches."""

    def __init__(self, kinds: dict[cst.CSTNode, str]) -> None:
        super().__init__(kinds)
        self.patched: set[str] = set()

    def _bind(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            kind = self.kind_of(value)
            if kind is not None:
                self.kinds[target] = kind
        elif (
            isinstance(target, cst.Tuple | cst.List)
            and isinstance(value, cst.Tuple | cst.List)
            and len(target.elements) == len(value.elements)
        ):
            for target_element, value_element in zip(
                target.elements, value.elements, strict=True
            ):
                if isinstance(target_element, cst.Element) and isinstance(
                    value_element, cst.Element
                ):
                    self._bind(target_element.value, value_element.value)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node.returns is not None:
            kind = self.annotation_kind(node.returns.annotation)
            if kind is not None:
                self.kinds[node] = kind

    def visit_Param(self, node: cst.Param) -> None:
        if node.annotation is not None:
            kind = self.annotation_kind(node.annotation.annotation)
            if kind is not None:
                self.kinds[node] = kind

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._bind(node.target, node.value)
        declared = self.annotation_kind(node.annotation.annotation)
        if isinstance(node.target, cst.Name) and declared is not None:
            self.kinds.setdefault(node.target, declared)

    def _bind_loop(self, target: cst.BaseExpression, iterable: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name) and self.kind_of(iterable) == GREENLETS:
            self.kinds[target] = GREENLET

    def visit_For(self, node: cst.For) -> None:
        self._bind_loop(node.target, node.iter)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bind_loop(node.target, node.iter)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.attr.value in ("append", "add", "extend")
            and node.args
        ):
            wanted = GREENLETS if func.attr.value == "extend" else GREENLET
            if self.kind_of(node.args[0].value) == wanted:
                for assignment in self.assignments(func.value):
                    self.kinds[assignment.node] = GREENLETS
        for name in self.imported(func):
            self.patched |= _PATCH_CATEGORIES.get(name, frozenset())
            if name == _PATCH_ALL:
                switched_off = {
                    _PATCH_ALL_KEYWORDS[arg.keyword.value]
                    for arg in node.args
                    if arg.keyword is not None
                    and arg.keyword.value in _PATCH_ALL_KEYWORDS
                    and _is_false_literal(arg.value)
                }
                self.patched |= set(_PATCH_ALL_KEYWORDS.values()) - switched_off


class _Uses(_Reader):
    """Second pass: every use of gevent or greenlet, and the blocking calls patching hid."""

    def __init__(self, kinds: dict[cst.CSTNode, str], patched: Collection[str]) -> None:
        super().__init__(kinds)
        self.patched = patched
        self.hits: list[Hit] = []

    def _record(
        self, rule: str, name: str, node: cst.CSTNode, call: cst.Call | None
    ) -> None:
        start = self.get_metadata(PositionProvider, node).start
        statement = call is not None and isinstance(
            self.get_metadata(ParentNodeProvider, call, None), cst.Expr
        )
        self.hits.append(
            Hit(rule, name, node, call, start.line, start.column + 1, self._in_async(node),
                statement)
        )

    def _is_base_class(self, node: cst.CSTNode) -> bool:
        parent = self.get_metadata(ParentNodeProvider, node, None)
        above = self.get_metadata(ParentNodeProvider, parent, None) if parent else None
        return (
            isinstance(parent, cst.Arg)
            and isinstance(above, cst.ClassDef)
            and any(base is parent for base in above.bases)
        )

    def _in_async(self, node: cst.CSTNode) -> bool:
        current: cst.CSTNode | None = node
        while current is not None:
            current = self.get_metadata(ParentNodeProvider, current, None)
            if isinstance(current, cst.FunctionDef):
                return current.asynchronous is not None
            if isinstance(current, cst.Lambda | cst.ClassDef):
                return False
        return False

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        if isinstance(node.names, cst.ImportStar) and node.module is not None:
            module = get_full_name_for_node(node.module) or ""
            if module.split(".")[0] in ("gevent", "greenlet") and not node.relative:
                self._record("other", f"{module}.*", node, None)
        return False

    def _outermost(self, node: cst.Name | cst.Attribute) -> bool:
        """The whole of a dotted name: `a.b.c`, not `a.b` inside it nor `f().c` after a call."""
        parent = self.get_metadata(ParentNodeProvider, node, None)
        if isinstance(parent, cst.Attribute):
            return False
        inner: cst.BaseExpression = node
        while isinstance(inner, cst.Attribute):
            inner = inner.value
        return isinstance(inner, cst.Name)

    def visit_Name(self, node: cst.Name) -> None:
        if self._outermost(node):
            self._reference(node)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if self._outermost(node):
            self._reference(node)

    def _reference(self, node: cst.Name | cst.Attribute) -> None:
        parent = self.get_metadata(ParentNodeProvider, node, None)
        call = parent if isinstance(parent, cst.Call) and parent.func is node else None
        for name in sorted(self.imported(node)):
            rule = self._rule_for(name, node, call)
            if rule is not None:
                self._record(rule, name, node, call)
                return

    def _rule_for(
        self, name: str, node: cst.CSTNode, call: cst.Call | None
    ) -> str | None:
        patched = _PATCHED_NAMES.get(name)
        if patched is not None:
            rule, category = patched
            # Only a call (or a class built on a patched class) runs the patched code;
            # `conn: socket.socket` or `Callable[[socket.socket], None]` only name a type.
            if category not in self.patched or not (call or self._is_base_class(node)):
                return None
            return rule
        parts = name.split(".")
        if parts[0] not in ("gevent", "greenlet"):
            return None
        if name in _HUB_GETTERS and call is not None:
            above = self.get_metadata(ParentNodeProvider, call, None)
            if isinstance(above, cst.Attribute) and above.attr.value == "threadpool":
                return "hub-threadpool"
        rule = next(
            (
                _API_RULES[prefix]
                for prefix in (".".join(parts[:size]) for size in range(len(parts), 0, -1))
                if prefix in _API_RULES
            ),
            "other",
        )
        if call is None:
            return rule
        if rule == "sleep":
            seconds = _argument(call, 0, "seconds")
            return "sleep-zero" if seconds is None or _is_zero_literal(seconds) else rule
        if rule == "joinall":
            raise_error = _argument(call, 2, "raise_error")
            if raise_error is not None and not _is_false_literal(raise_error):
                return "joinall-raise-error"
        if rule == "timeout" and any(
            name.startswith(timeout) for timeout in _SILENT_TIMEOUTS
        ):
            exception = _argument(call, 1, "exception")
            if isinstance(exception, cst.Name) and exception.value == "False":
                return "timeout-silent"
        return rule

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute):
            return
        kind = self.kind_of(func.value)
        if kind is None:
            return
        rule = _METHOD_RULES.get(kind, {}).get(func.attr.value)
        if rule is not None:
            self._record(rule, f".{func.attr.value}", func.attr, node)


def analyse(wrapper: MetadataWrapper) -> list[Hit]:
    """Every hit in the module, in source order."""
    kinds: dict[cst.CSTNode, str] = {}
    patched: set[str] = set()
    # A binding may depend on one seen later in the file (a list filled after a loop that
    # reads it is rare, but a name used before its definition in a function body is not).
    for _ in range(4):
        before = dict(kinds)
        bindings = _Bindings(kinds)
        wrapper.visit(bindings)
        patched = bindings.patched
        if kinds == before:
            break
    uses = _Uses(kinds, frozenset(patched))
    wrapper.visit(uses)
    return sorted(uses.hits, key=lambda hit: (hit.line, hit.column, hit.rule))


def scan_source(
    source: bytes | str, path: str = "<string>", select: Collection[str] | None = None
) -> list[Finding]:
    """The findings of one file's source; raises Unparsable."""
    module = parse(source)
    # Every finding starts from an import of gevent or greenlet, so a file that never spells
    # either has none; it is still parsed, so that a broken file is reported either way.
    text = source if isinstance(source, str) else source.decode("latin-1")
    if "gevent" not in text and "greenlet" not in text:
        return []
    wrapper = MetadataWrapper(module)
    return [
        Finding(path, hit.line, hit.column, hit.rule, hit.name)
        for hit in analyse(wrapper)
        if select is None or hit.rule in select
    ]


_SKIPPED_DIRECTORIES = frozenset({"__pycache__", "node_modules", "site-packages"})


def python_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Each path given, or the *.py files under it, sorted; missing paths raise."""
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(path)
        if path.is_dir():
            yield from sorted(
                found
                for found in path.rglob("*.py")
                if found.is_file()
                and not any(
                    part.startswith(".") or part in _SKIPPED_DIRECTORIES
                    for part in found.relative_to(path).parts[:-1]
                )
            )
        else:
            yield path


def scan_paths(paths: Iterable[Path], select: Collection[str] | None = None) -> Report:
    report = Report()
    for path in python_files(paths):
        report.files += 1
        try:
            source = path.read_bytes()
            report.findings.extend(scan_source(source, str(path), select))
        except OSError as error:
            report.skipped.append(Skipped(str(path), error.strerror or str(error)))
        except Unparsable as error:
            report.skipped.append(Skipped(str(path), str(error)))
        except Exception as error:  # one odd file must not stop the scan of the others
            report.skipped.append(Skipped(str(path), f"cannot analyse: {error!r}"))
    return report
