#!/usr/bin/env bash
# Alternating A/B of two builds of distcache-core on this noisy machine: runs a bench script RUNS
# times for each build, A then B, swapping packages/distcache-core/dist between runs, and prints
# each run's table rows. The build in place when it started is put back at the end.
#
#   npm run build -w distcache-core && cp -r packages/distcache-core/dist /tmp/dist-b
#   git stash && npm run build -w distcache-core && cp -r packages/distcache-core/dist /tmp/dist-a && git stash pop
#   bash bench/ab-builds.sh /tmp/dist-a /tmp/dist-b 3 bench/get-many/get-many.bench.mjs --rounds=1
set -euo pipefail
if [ $# -lt 4 ]; then
  echo "usage: bash bench/ab-builds.sh DIST_A DIST_B RUNS BENCH_SCRIPT [bench flags...]" >&2
  exit 2
fi
a=$1 b=$2 runs=$3
shift 3
root=$(cd "$(dirname "$0")/.." && pwd)
dist=$root/packages/distcache-core/dist
saved=$(mktemp -d)
cp -r "$dist" "$saved/dist"
restore() { rm -rf "$dist" && cp -r "$saved/dist" "$dist" && rm -rf "$saved"; }
trap restore EXIT
for run in $(seq 1 "$runs"); do
  for side in A B; do
    if [ $side = A ]; then from=$a; else from=$b; fi
    rm -rf "$dist" && cp -r "$from" "$dist"
    echo "== $side, run $run ($from)"
    node "$@" --no-results | grep -E '^\| +[0-9]+ \|' || true
  done
done
