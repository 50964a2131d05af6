"""The kinds' PNG plots (matplotlib, drawn off screen): one picture per claim of the course.

- echo, http: throughput against connections, a line per contender (log axes);
- scale: throughput of the busy clients against idle connections held (the C10K view),
  refused and limited points marked;
- idle: memory per idle connection, a bar per contender (log axis);
- switch: switches per second, a bar per mechanism, with the million-a-second line;
- download: download time against the latency of every answer, a line per downloader.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

MARKERS = "os^Dv<>pPhX*"


def draw(document: dict[str, Any], directory: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    directory.mkdir(parents=True, exist_ok=True)
    kind = document["kind"]
    drawer = {
        "echo": _against_connections,
        "http": _against_connections,
        "scale": _scale,
        "idle": _idle,
        "switch": _switch,
        "download": _download,
    }[kind]
    return [drawer(document, directory / f"{kind}.png")]


def _series(document: dict[str, Any], axis: str) -> dict[str, list[tuple[float, dict]]]:
    series: dict[str, list[tuple[float, dict]]] = {}
    for figure in document["figures"]:
        series.setdefault(figure["contender"], []).append((figure["point"][axis], figure))
    for points in series.values():
        points.sort(key=lambda pair: pair[0])
    return series


def _subtitle(document: dict[str, Any]) -> str:
    machine = document["machine"]
    return (
        f"{machine['cores']} cores, {machine['cpu']}; median of "
        f"{document['settings'].get('rounds')} rounds, bars min-max"
    )


def _finish(figure: Any, axes: Any, document: dict[str, Any], title: str, path: Path) -> Path:
    axes.set_title(f"{title}\n{_subtitle(document)}", fontsize=10)
    axes.grid(True, which="major", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(figure)
    return path


def _error_bars(points: list[tuple[float, dict]]) -> tuple[list, list, list]:
    xs, ys, spread = [], [], [[], []]
    for x, figure in points:
        if figure["median"] is None or figure["status"] in ("capped", "failed", "stopped"):
            continue
        xs.append(x)
        ys.append(figure["median"])
        spread[0].append(figure["median"] - figure["min"])
        spread[1].append(figure["max"] - figure["median"])
    return xs, ys, spread


def _lines(document: dict[str, Any], axis: str, axes: Any) -> None:
    for index, (label, points) in enumerate(_series(document, axis).items()):
        xs, ys, spread = _error_bars(points)
        if not xs:
            continue
        style = "--" if label == document["baseline"] else "-"
        line = axes.errorbar(
            xs,
            ys,
            yerr=spread,
            marker=MARKERS[index % len(MARKERS)],
            linestyle=style,
            capsize=2,
            label=label,
            markersize=4,
            color=_color(index),
        )
        for x, figure in points:
            if figure["status"] in ("refused", "limit") and figure["median"] is not None:
                axes.annotate(
                    figure["status"],
                    (x, max(figure["median"], 1)),
                    fontsize=6,
                    color=line[0].get_color(),
                    xytext=(3, 3),
                    textcoords="offset points",
                )


def _color(index: int) -> Any:
    """Twenty distinct colours (a plot may hold seventeen contenders)."""
    import matplotlib

    return matplotlib.colormaps["tab20"](index % 20)


def _legend(axes: Any) -> None:
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)


def _against_connections(document: dict[str, Any], path: Path) -> Path:
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(11, 5.5))
    _lines(document, "conns", axes)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("concurrent connections (log)")
    axes.set_ylabel("requests per second (log)")
    _legend(axes)
    size = document["settings"]["size"]
    what = "echo" if document["kind"] == "echo" else "static HTTP"
    return _finish(
        figure, axes, document, f"{what}, {size} B: throughput against connections", path
    )


def _scale(document: dict[str, Any], path: Path) -> Path:
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(11, 5.5))
    _lines(document, "idle", axes)
    axes.set_xscale("symlog", linthresh=100)
    axes.set_yscale("symlog", linthresh=1000)
    axes.set_xlabel("idle connections held open (0, then log)")
    axes.set_ylabel(f"requests per second of {document['settings']['active']} busy clients")
    _legend(axes)
    return _finish(
        figure,
        axes,
        document,
        "the C10K view: busy clients' throughput among idle connections",
        path,
    )


def _last_measured(points: list[tuple[float, dict]]) -> tuple[float, dict] | None:
    usable = [
        (x, f)
        for x, f in points
        if f["median"] is not None and f["status"] in ("ok", "refused", "limit")
    ]
    return usable[-1] if usable else None


def _idle(document: dict[str, Any], path: Path) -> Path:
    import matplotlib.pyplot as plt

    labels, values, notes = [], [], []
    for label, points in _series(document, "connections").items():
        last = _last_measured(points)
        if last is None:
            continue
        count, figure = last
        labels.append(label)
        values.append(max(figure["median"], 1.0) / 1024)
        note = f"at {int(figure.get('held', count)):,}"
        if figure["median"] <= 0:
            note = f"0 B (nothing in user space) {note}"
        if figure["status"] != "ok":
            note += f" ({figure['status']})"
        notes.append(note)
    figure, axes = plt.subplots(figsize=(11, 5.5))
    bars = axes.barh(labels, values)
    axes.set_xscale("log")
    axes.invert_yaxis()
    for bar, note in zip(bars, notes, strict=True):
        axes.text(
            bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {note}", va="center", fontsize=7
        )
    axes.set_xlabel("server memory per idle connection, KiB (log)")
    return _finish(figure, axes, document, "what an idle connection costs the server", path)


def _switch(document: dict[str, Any], path: Path) -> Path:
    import matplotlib.pyplot as plt

    figures = [f for f in document["figures"] if f["median"] is not None]
    figure, axes = plt.subplots(figsize=(9, 4.5))
    labels = [f["contender"] for f in figures]
    medians = [f["median"] for f in figures]
    spread = [[f["median"] - f["min"] for f in figures], [f["max"] - f["median"] for f in figures]]
    axes.barh(labels, medians, xerr=spread, capsize=3)
    axes.axvline(1e6, color="crimson", linestyle="--", label="a million a second")
    axes.set_xscale("log")
    axes.invert_yaxis()
    axes.set_xlabel("switches per second (log)")
    axes.legend(fontsize=8)
    return _finish(figure, axes, document, "context switches per second", path)


def _download(document: dict[str, Any], path: Path) -> Path:
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(11, 5.5))
    for index, (label, points) in enumerate(_series(document, "latency").items()):
        xs, ys, spread = _error_bars(points)
        style = "--" if label == document["baseline"] else "-"
        axes.errorbar(
            [x * 1000 for x in xs],
            ys,
            yerr=spread,
            label=label,
            linestyle=style,
            marker=MARKERS[index % len(MARKERS)],
            capsize=2,
            markersize=4,
            color=_color(index),
        )
    axes.set_yscale("log")
    axes.set_xlabel("delay of every answer, ms")
    axes.set_ylabel("wall time of the whole download, s (log)")
    _legend(axes)
    settings = document["settings"]
    return _finish(
        figure,
        axes,
        document,
        f"{settings['files']} files of {settings['size']} B, -j {settings['jobs']}: "
        "time against latency",
        path,
    )
