#!/usr/bin/env bash
# The recorded run of docs/benchmarks.md: every kind, every registered server model.
set -u
cd "$(dirname "$0")/.." 2>/dev/null || true
ulimit -n "$(ulimit -Hn)"
out=docs/bench
for kind in switch echo http scale idle download; do
  case $kind in
    switch)   args=(--rounds 3 --duration 1s) ;;
    echo)     args=(--rounds 2 --duration 1s --conns 1,10,100,1000 --size 1k) ;;
    http)     args=(--rounds 2 --duration 1s --conns 1,10,100,1000 --size 1k --files 128) ;;
    scale)    args=(--rounds 1 --duration 1s --idle 0,100,1000,4000,10000 --active 10) ;;
    idle)     args=(--rounds 1 --duration 2s --max 10000) ;;
    download) args=(--rounds 3 --latency 0,50ms --files 200 --size 16k -j 16) ;;
  esac
  echo "== $(date -u +%H:%M:%S) rosetta bench $kind ${args[*]}"
  python -m rosetta bench "$kind" "${args[@]}" --out "$out/$kind.json"
done
echo "== $(date -u +%H:%M:%S) done"
