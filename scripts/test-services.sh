#!/usr/bin/env bash
# npm run test:services: starts the real servers (scripts/services.sh), runs the suites that
# need them with TICKCAST_SERVICES=1 (a server that is not there fails the run instead of
# skipping), then stops the servers this run started, also on failure or Ctrl-C.
# Arguments go to vitest (e.g. a file filter). SERVICES="kafka questdb" picks the servers
# (default: all four; SERVICES=chroma is enough for the vector store's suite).
set -euo pipefail
cd "$(dirname "$0")/.."

read -r -a services <<<"${SERVICES:-kafka questdb schema-registry chroma}"
started=()
stop_started() {
  if ((${#started[@]} > 0)); then bash scripts/services.sh down "${started[@]}" || true; fi
}
trap stop_started EXIT

for name in "${services[@]}"; do
  # A server a developer already runs is used and left running.
  if bash scripts/services.sh status "$name" | grep -q '^up'; then continue; fi
  started+=("$name")
  bash scripts/services.sh up "$name"
done

set -a
# shellcheck disable=SC1091 # written by services.sh up
source .services/env
set +a
TICKCAST_SERVICES=1 npx vitest run --config vitest.services.config.ts "$@"
