#!/usr/bin/env bash
# Same-process A/B of distcache-core's sources: the working tree (NEW) against a commit (OLD), both
# bundled into one script (scenarios.mjs) and measured in alternating rounds. See bench/README.md,
# "Same-process A/B of two builds".
#
#   bash bench/ab-source/ab-source.sh 27591ad                      # miss, get-16, getmany-16
#   AB_SCENARIOS=get-1,get-128 AB_ROUNDS=20 bash bench/ab-source/ab-source.sh HEAD~2
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: bash bench/ab-source/ab-source.sh OLD_COMMIT" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/../.." && pwd)
old=$root/node_modules/.ab-old
out=$(mktemp -d)
trap 'rm -rf "$old" "$out"' EXIT
rm -rf "$old" && mkdir -p "$old"
git -C "$root" archive "$1" packages/distcache-core/src | tar -x -C "$old"
# The optional integrations stay outside the bundle (they resolve from the workspace if used).
"$root/node_modules/.bin/esbuild" "$root/bench/ab-source/scenarios.mjs" --bundle --platform=node \
  --format=esm --log-level=error --outfile="$out/ab.mjs" \
  --external:lru-cache --external:opossum --external:@opentelemetry/api --external:nats \
  --external:@kubernetes/client-node --external:ioredis
cp "$out/ab.mjs" "$root/bench/ab-source/.ab-bundle.mjs"
trap 'rm -rf "$old" "$out" "$root/bench/ab-source/.ab-bundle.mjs"' EXIT
echo "ab-source: NEW = working tree, OLD = $(git -C "$root" rev-parse --short "$1"), $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
node ${AB_NODE_FLAGS:-} "$root/bench/ab-source/.ab-bundle.mjs"
