#!/usr/bin/env bash
# npm run test:coverage: the unit suite and the services suite (real servers, scripts/test-services.sh)
# with v8 coverage, merged into one report (.tmp/coverage), printed per folder with one JSON line
# last (scripts/coverage-report.ts). Fails when a suite fails or the totals miss their targets.
set -uo pipefail
cd "$(dirname "$0")/.."
rm -rf .tmp/coverage .tmp/coverage-blobs
status=0
npx vitest run --coverage.enabled --reporter=dot --reporter=blob --outputFile.blob=.tmp/coverage-blobs/unit.json || status=1
bash scripts/test-services.sh --coverage.enabled --reporter=dot --reporter=blob \
  --outputFile.blob=.tmp/coverage-blobs/services.json || status=1
# Merges the two runs' results and coverage (vitest blob reports), with the root config's coverage options.
npx vitest run --merge-reports=.tmp/coverage-blobs --coverage.enabled --reporter=dot >/dev/null || status=1
npx tsx scripts/coverage-report.ts --enforce || status=1
exit $status
