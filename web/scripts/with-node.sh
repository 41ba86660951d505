#!/usr/bin/env bash
# Starts a development node on a free port, runs the given command with
# PARLEY_URL and PARLEY_ADMIN_TOKEN set, and stops the node.
# Usage (from web/): scripts/with-node.sh node scripts/bench.mjs
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
(cd .. && go build -o "$tmp/parley" ./cmd/parley)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$tmp/parley" serve --dev --addr "127.0.0.1:$port" --data "$tmp/data" --admin-token bench-token --log-level warn &
pid=$!
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
PARLEY_URL="http://127.0.0.1:$port" PARLEY_ADMIN_TOKEN=bench-token "$@"
