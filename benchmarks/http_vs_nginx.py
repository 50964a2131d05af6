"""Static HTTP targets: the modern servers against nginx, 50 keep-alive connections.

    python benchmarks/http_vs_nginx.py [--rounds 5] [--duration 5] [--models modern.protocol]
                                       [--files 128]

A thin wrapper over `rosetta bench http` (nginx with one worker, `sendfile on`, `access_log
off`; wrk rotating over many files and browser-like header sets), once with 1 KiB files and
once with 1 MiB files; writes benchmarks/results/http_vs_nginx.{json,md}. The targets:
modern.protocol >= 1.0x nginx on 1 KiB files (and no more server CPU per request than nginx's
worker) and on 1 MiB files; modern.streams >= 0.6x on 1 KiB files. `--files 1` asks for one
URL only (the 1 KiB target holds there too).
"""

from __future__ import annotations

import argparse

from _bench import bench, figure, markdown_table, verdict, write

TARGETS = {
    ("modern.protocol", 1024): 1.0,
    ("modern.protocol", 1024 * 1024): 1.0,
    ("modern.streams", 1024): 0.6,
}
FILES = {1024: "128", 1024 * 1024: "16"}  # 16 MiB of 1 MiB files is plenty to rotate over


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", default="5")
    parser.add_argument("--duration", default="5")
    parser.add_argument("--models", default="modern.protocol")
    parser.add_argument("--files", default=FILES[1024], help="1 KiB files to rotate over")
    args = parser.parse_args()
    models = [name for name in args.models.split(",") if name]
    documents, rows = [], []
    for size, files in {**FILES, 1024: args.files}.items():
        document = bench(
            "http",
            "--models",
            ",".join(["nginx", *models]),
            "--conns",
            "50",
            "--size",
            str(size),
            "--files",
            files,
            "--rounds",
            args.rounds,
            "--duration",
            args.duration,
        )
        documents.append(document)
        nginx = figure(document, "nginx", conns=50)
        for name in models:
            found = figure(document, name, conns=50)
            target = TARGETS.get((name, size))
            rows.append(
                (
                    f"`{name}`",
                    f"{size} B",
                    f"{found['median']:.0f}",
                    f"{nginx['median']:.0f}",
                    f"**{found['ratio']:.2f}x**",
                    f">= {target:.1f}x" if target else "-",
                    verdict(found["ratio"], target) if target else "",
                )
            )
    write(
        "http_vs_nginx",
        documents,
        markdown_table(
            ("server", "file", "req/s", "nginx req/s", "median ratio", "target", ""), rows
        ),
    )


if __name__ == "__main__":
    main()
