#!/usr/bin/env bash
# Rebuilds web/dist from the sources (npm ci, npm run build) and fails if
# the result differs from what is committed: the binary embeds web/dist,
# so what is committed must be what the sources make.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error
npm run build --silent
if ! git diff --quiet --exit-code -- dist || [ -n "$(git ls-files --others --exclude-standard -- dist)" ]; then
  echo "web/dist differs from a rebuild of the sources; run 'cd web && npm ci && npm run build' and commit web/dist:" >&2
  git status --short -- dist >&2
  exit 1
fi
echo "web/dist matches its sources"
