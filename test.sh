#!/usr/bin/env bash
# Runs every SensorHub test and ends with one line: "N passed, N failed[, N skipped]", counted from the results.
# It first installs what the tests need where it is missing; today that is only the .NET 10 SDK, which it expects.
set -uo pipefail
cd "$(dirname "$0")"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if ! command -v dotnet >/dev/null 2>&1; then
  echo "test.sh: the .NET 10 SDK is needed (https://learn.microsoft.com/dotnet/core/install/linux-debian)." >&2
  echo "0 passed, 1 failed"
  exit 1
fi

results=artifacts/test-results
rm -rf "$results"
mkdir -p "$results"

status=0
# A hung test fails the run after five minutes instead of holding CI until its limit.
dotnet test SensorHub.sln \
  --logger "trx" \
  --logger "console;verbosity=normal" \
  --results-directory "$results" \
  --blame-hang-timeout 5m || status=$?

passed=0 failed=0 skipped=0
shopt -s nullglob
for trx in "$results"/*.trx; do
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  value() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
  passed=$((passed + $(value passed)))
  failed=$((failed + $(value failed) + $(value error) + $(value timeout) + $(value aborted)))
  skipped=$((skipped + $(value notExecuted)))
done
shopt -u nullglob

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # The build or the test host failed before any result was written: count that as a failure.
  failed=1
fi

summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
