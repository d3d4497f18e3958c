#!/usr/bin/env bash
# Everything a fresh machine needs before `npm start` or `npm test`: a supported Node, the system
# tools the test suites use, and the npm dependencies from the lock file.
set -euo pipefail
cd "$(dirname "$0")/.."

need_node="20.19.0"
have_node="$(node -p 'process.versions.node' 2>/dev/null || echo 0)"
if ! node -e "const [a,b]=process.argv[1].split('.').map(Number),[c,d]=process.argv[2].split('.').map(Number);process.exit(a>c||(a===c&&b>=d)?0:1)" "$have_node" "$need_node" 2>/dev/null; then
  echo "setup: Node >= $need_node is required (found $have_node). Install it from nodejs.org or your package manager." >&2
  exit 1
fi

# System binaries used by the test suites: openssl (certificates for the TLS tests),
# nats-server (discovery tests start their own on a free port) and chromium (the admin dashboard's
# browser test drives /usr/bin/chromium with playwright-core).
missing=()
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v nats-server >/dev/null 2>&1 || missing+=(nats-server)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${missing[*]} with apt-get"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  else
    echo "setup: missing system packages: ${missing[*]}. Install them (Debian/Ubuntu: sudo apt-get install ${missing[*]}) and run again." >&2
    exit 1
  fi
fi

npm ci --no-audit --no-fund --loglevel=error
