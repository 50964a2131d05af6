"""Every server target in one run: echo vs C epoll, static HTTP vs nginx, idle memory.

    python benchmarks/server_targets.py [--quick]

Runs echo_vs_ref.py, http_vs_nginx.py and idle_memory.py one after the other (their own
JSON and markdown land in benchmarks/results/), then writes benchmarks/results/
server_targets.md: the three tables under the machine, the date and the load average before
and after, ready to be copied into docs/benchmarks.md. `--quick` runs fewer, shorter rounds
(a check that everything works, not figures to record).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from bench_common import RESULTS, ROOT, load_average, machine


def run(script: str, *args: str) -> None:
    print(f"== {script} {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    about = machine()
    start_load = load_average()
    if args.quick:
        run("echo_vs_ref.py", "--rounds", "1", "--seconds", "2")
        run("http_vs_nginx.py", "--rounds", "1", "--duration", "2s")
        run("idle_memory.py", "--connections", "2000")
    else:
        run("echo_vs_ref.py")
        run("http_vs_nginx.py", "--models", "modern.protocol,modern.streams")
        run("idle_memory.py")
    sections = [
        "# Server targets: the modern servers against C epoll, nginx and idle memory",
        "",
        f"- date: {about['date_utc']}",
        f"- machine: {about['cpu']}, {about['cores']} cores, {about['platform']}",
        f"- Python {about['python']}, uvloop {about['uvloop']}, {about['nginx']}, {about['wrk']}",
        f"- load average (1/5/15 min) before: {start_load}; after: {load_average()}",
        "",
    ]
    for name, title in (
        ("echo_vs_ref", "Echo, 50 connections, closed loop, vs the C epoll reference"),
        ("http_vs_nginx", "Static HTTP, `wrk -t1 -c50 -d5s`, vs nginx"),
        ("idle_memory", "Idle connections: server RSS growth per connection"),
    ):
        table = (RESULTS / f"{name}.md").read_text().strip()
        loads = json.loads((RESULTS / f"{name}.json").read_text())
        sections += [
            f"## {title}",
            "",
            table,
            "",
            f"Load average at its start: {loads['machine']['load_average_at_start']}; "
            f"at its end: {loads['load_average_at_end']}.",
            "",
        ]
    (RESULTS / "server_targets.md").write_text("\n".join(sections))
    print("\n".join(sections))


if __name__ == "__main__":
    main()
