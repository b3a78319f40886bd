#!/usr/bin/env bash
# Runs every SensorHub test and ends with one line: "N passed, N failed[, N skipped]", counted from the results.
# It first installs what the tests need where it is missing: the .NET 10 SDK it expects; Node.js and npm (the server's
# build bundles the dashboard in web/), Debian's chromium (the browser tests), redis-server (the Redis engine's tests)
# and mosquitto (the MQTT ingest's tests) it installs with apt-get.
set -uo pipefail
cd "$(dirname "$0")"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if ! command -v dotnet >/dev/null 2>&1; then
  echo "test.sh: the .NET 10 SDK is needed (https://learn.microsoft.com/dotnet/core/install/linux-debian)." >&2
  echo "0 passed, 1 failed"
  exit 1
fi

# apt-get install, retried while another install holds the dpkg lock.
apt_install() {
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  for attempt in 1 2 3 4 5 6; do
    if $sudo apt-get update -qq && $sudo apt-get install -y -qq "$@"; then return 0; fi
    echo "test.sh: apt-get install $* failed (attempt $attempt); retrying in 10 s" >&2
    sleep 10
  done
  return 1
}
command -v npm >/dev/null 2>&1 || apt_install nodejs npm >/dev/null || echo "test.sh: could not install Node.js and npm" >&2
command -v chromium >/dev/null 2>&1 || apt_install chromium >/dev/null || echo "test.sh: could not install chromium" >&2
# The Redis engine's tests start redis-servers of their own (Debian's, 7.0) on free loopback ports.
command -v redis-server >/dev/null 2>&1 || apt_install redis-server >/dev/null || echo "test.sh: could not install redis-server" >&2
# The MQTT ingest's tests start mosquitto brokers of their own (Debian's, 2.0) on free loopback ports. Debian puts it in
# /usr/sbin, which a non-root PATH may lack; mosquitto-clients brings mosquitto_pub, which the README's example uses.
{ command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ]; } \
  || apt_install mosquitto mosquitto-clients >/dev/null || echo "test.sh: could not install mosquitto" >&2

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

# npm ci in a folder whose node_modules is missing or older than its package-lock.json; its status.
npm_ci_when_needed() {
  if [ ! -f "$1/node_modules/.package-lock.json" ] || [ "$1/package-lock.json" -nt "$1/node_modules/.package-lock.json" ]; then
    (cd "$1" && npm ci --no-audit --no-fund)
  fi
}

# One count of a TAP file's summary written by Node's test runner ("# pass 12"): 0 when the file or the line is missing.
tap_count() {
  local n=""
  [ -f "$2" ] && n=$(sed -n "s/^# $1 \([0-9]*\)$/\1/p" "$2" | tail -n 1)
  echo "${n:-0}"
}

# Adds a Node test run's TAP counts ($1: the .tap file) to the totals; $2 is the run's exit status. A run that failed
# without a failing test (npm, a build, Chromium or the server did not start) counts as one failure.
add_tap_results() {
  local run_failed
  run_failed=$(tap_count fail "$1")
  if [ "$2" -ne 0 ] && [ "$run_failed" -eq 0 ]; then run_failed=1; fi
  passed=$((passed + $(tap_count pass "$1")))
  failed=$((failed + run_failed))
  skipped=$((skipped + $(tap_count skipped "$1")))
  if [ "$2" -ne 0 ]; then status=$2; fi
}

# The browser tests: headless Chromium against the real server (built above) on 127.0.0.1; see tests/browser/.
browser_results=artifacts/browser
rm -rf "$browser_results"
mkdir -p "$browser_results"
browser_status=0
npm_ci_when_needed tests/browser || browser_status=$?
if [ "$browser_status" -eq 0 ]; then
  (cd tests/browser && timeout 300 npm test) || browser_status=$?
fi
add_tap_results "$browser_results/results.tap" "$browser_status"

# The JavaScript client library (clients/js, @sensorhub/client): installed, built (tsc) and tested under Node's test
# runner against the server built above, over both protocols; its TAP goes to artifacts/jsclient/results.tap.
js_results=artifacts/jsclient
rm -rf "$js_results"
mkdir -p "$js_results"
js_status=0
npm_ci_when_needed clients/js || js_status=$?
if [ "$js_status" -eq 0 ]; then
  (cd clients/js && npm run build) || js_status=$?
fi
if [ "$js_status" -eq 0 ]; then
  (cd clients/js && timeout 300 node --test --test-concurrency=1 \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="../../$js_results/results.tap" test/*.test.mjs) || js_status=$?
fi
add_tap_results "$js_results/results.tap" "$js_status"

# The bench's JavaScript subscribers (bench/js/loadgen.mjs, the official SignalR client under Node) need their packages
# before the smoke runs them; a failed install shows there, as a failed smoke.
npm_ci_when_needed bench/js || echo "test.sh: npm ci in bench/js failed" >&2

# The benchmark tool's smoke mode: every scenario for a moment against both servers, so that the tool keeps working.
# It asserts no time; it counts as one result, failed when the tool fails or a round of it does.
if timeout 300 dotnet run -c Release --project bench -- smoke > artifacts/bench-smoke.log 2>&1; then
  passed=$((passed + 1))
  echo "test.sh: bench smoke passed ($(tail -n 1 artifacts/bench-smoke.log))"
else
  failed=$((failed + 1))
  echo "test.sh: bench smoke failed; its output:" >&2
  tail -n 40 artifacts/bench-smoke.log >&2
fi

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # The build or the test host failed before any result was written: count that as a failure.
  failed=1
fi

# The names of the failed .NET tests and the first lines of their messages, again here, so that the end of a long
# log (all that CI may keep) says what failed.
shopt -s nullglob
for trx in "$results"/*.trx; do
  python3 - "$trx" >&2 <<'PY' 2>/dev/null || grep -o 'testName="[^"]*" [^>]*outcome="Failed"' "$trx" >&2
import sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
for r in ET.parse(sys.argv[1]).getroot().iterfind(".//t:UnitTestResult[@outcome='Failed']", ns):
    message = r.findtext(".//t:ErrorInfo/t:Message", default="", namespaces=ns).strip().splitlines()
    print("test.sh: FAILED " + r.get("testName") + (": " + " | ".join(message[:3]) if message else ""))
PY
done
shopt -u nullglob

summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
