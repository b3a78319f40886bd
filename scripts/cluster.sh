#!/usr/bin/env bash
# A local SensorHub cluster on one machine: a redis-server of its own and three server nodes on Redis, sharing one
# data folder, one signing key (made for this run) and one key prefix; simulated sensors on the first node only.
# It prints the nodes' addresses and runs until Ctrl+C; then, and whenever it ends, it stops everything it started,
# by pid, and removes its temporary folder.
#
#   scripts/cluster.sh                       # nodes on 5101, 5102, 5103; Redis on a free port
#   scripts/cluster.sh --ports 6001,6002,6003 --redis-port 6390 --aof
#
# Options (each also as an environment variable, in brackets):
#   --ports P1,P2,P3   the nodes' ports [SENSORHUB_CLUSTER_PORTS], default 5101,5102,5103 (any number of nodes)
#   --host ADDRESS     the address the nodes listen on [SENSORHUB_CLUSTER_HOST], default 127.0.0.1
#   --redis-port N     the redis-server's port [SENSORHUB_CLUSTER_REDIS_PORT], default the first free one from 6380
#   --aof              Redis with an append-only file (appendfsync everysec) instead of no persistence
#   --data DIR         the shared upload folder [SENSORHUB_CLUSTER_DATA], default one in the temporary folder (removed)
#   --prefix PREFIX    the Redis key prefix [SENSORHUB_CLUSTER_PREFIX], default sensorhub:
#   --no-build         run what the last `dotnet build -c Release` of the server built
# Other settings reach every node as environment variables, e.g. SensorHub__Feeds__HistoryCapacity=50000.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
ports=${SENSORHUB_CLUSTER_PORTS:-5101,5102,5103}
host=${SENSORHUB_CLUSTER_HOST:-127.0.0.1}
redis_port=${SENSORHUB_CLUSTER_REDIS_PORT:-}
data=${SENSORHUB_CLUSTER_DATA:-}
prefix=${SENSORHUB_CLUSTER_PREFIX:-sensorhub:}
aof=no
build=yes

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --ports) ports=$2; shift 2 ;;
    --host) host=$2; shift 2 ;;
    --redis-port) redis_port=$2; shift 2 ;;
    --aof) aof=yes; shift ;;
    --data) data=$2; shift 2 ;;
    --prefix) prefix=$2; shift 2 ;;
    --no-build) build=no; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "cluster.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done

for tool in dotnet redis-server curl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "cluster.sh: $tool is needed (apt-get install redis-server curl; .NET 10 SDK)." >&2; exit 1; }
done

in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
IFS=, read -r -a node_ports <<<"$ports"
[ ${#node_ports[@]} -ge 1 ] || { echo "cluster.sh: --ports names no port" >&2; exit 2; }
for port in "${node_ports[@]}"; do
  [[ $port =~ ^[0-9]+$ ]] || { echo "cluster.sh: '$port' is not a port" >&2; exit 2; }
  if in_use "$port"; then echo "cluster.sh: port $port is in use; choose others with --ports" >&2; exit 1; fi
done
if [ -z "$redis_port" ]; then
  redis_port=6380
  while in_use "$redis_port"; do redis_port=$((redis_port + 1)); done
elif in_use "$redis_port"; then
  echo "cluster.sh: port $redis_port (for redis-server) is in use" >&2; exit 1
fi

# Everything this run started, stopped by pid however the script ends (Ctrl+C, SIGTERM, an error, redis-server ending).
work=$(mktemp -d "${TMPDIR:-/tmp}/sensorhub-cluster.XXXXXX")
# The logs outlive the run (the rest of $work goes with it), so that a node that died can still be looked at.
logs=$(mktemp -d "${TMPDIR:-/tmp}/sensorhub-cluster-logs.XXXXXX")
pids=()
stopping=no
# Sends TERM to the given pids, waits up to 10 s for them, then KILLs what is left.
stop_pids() {
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 100); do
    alive=no
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=yes; done
    [ "$alive" = no ] && break
    sleep 0.1
  done
  for pid in "$@"; do
    if kill -0 "$pid" 2>/dev/null; then echo "cluster.sh: $pid did not stop in 10 s; killing it" >&2; kill -KILL "$pid" 2>/dev/null || true; fi
    wait "$pid" 2>/dev/null || true
  done
}
stop_all() {
  [ "$stopping" = yes ] && return
  stopping=yes
  trap '' INT TERM
  if [ ${#pids[@]} -gt 0 ]; then
    echo "cluster.sh: stopping the nodes (${pids[*]:1}), then redis-server (${pids[0]}); logs stay in $logs" >&2
    # The nodes first (they end their streams and leave their sessions), Redis (pids[0]) last.
    [ ${#pids[@]} -gt 1 ] && stop_pids "${pids[@]:1}"
    stop_pids "${pids[0]}"
  fi
  rm -rf "$work"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "$build" = yes ]; then
  echo "cluster.sh: building the server (Release)..." >&2
  dotnet build "$repo/server/SensorHub.Server.csproj" -c Release -v quiet -nologo >"$work/build.log" 2>&1 \
    || { tail -n 30 "$work/build.log" >&2; echo "cluster.sh: the build failed (log above)" >&2; exit 1; }
fi
dll=$(ls "$repo"/server/bin/Release/net*/SensorHub.Server.dll 2>/dev/null | tail -n 1)
[ -n "$dll" ] || { echo "cluster.sh: no server/bin/Release/*/SensorHub.Server.dll; run without --no-build" >&2; exit 1; }

mkdir -p "$work/redis"
persistence=(--appendonly no)
[ "$aof" = yes ] && persistence=(--appendonly yes --appendfsync everysec)
# Each process in a session of its own (setsid): Ctrl+C in the terminal then reaches this script alone, which stops
# the nodes first (they end their streams and leave their sessions) and redis-server last.
setsid redis-server --port "$redis_port" --bind 127.0.0.1 --save '' "${persistence[@]}" --dir "$work/redis" \
  --daemonize no --logfile "$logs/redis.log" &
pids+=($!)
for _ in $(seq 1 100); do
  redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
  sleep 0.1
done
redis-cli -p "$redis_port" ping >/dev/null 2>&1 || { echo "cluster.sh: redis-server did not answer on $redis_port (see $logs/redis.log)" >&2; exit 1; }

if [ -z "$data" ]; then data="$work/data"; fi
mkdir -p "$data"
data=$(cd "$data" && pwd)
# 32 random bytes: every node signs and checks tokens with it, so a token from one is good on all.
signing_key=$(head -c 32 /dev/urandom | base64 | tr -d '\n')

urls=()
for i in "${!node_ports[@]}"; do
  port=${node_ports[$i]}
  simulation=false
  [ "$i" -eq 0 ] && simulation=true
  ASPNETCORE_ENVIRONMENT=${ASPNETCORE_ENVIRONMENT:-Development} \
  setsid dotnet "$dll" \
    --contentRoot "$repo/server" \
    --urls "http://$host:$port" \
    --SensorHub:Redis:Configuration="127.0.0.1:$redis_port" \
    --SensorHub:Redis:KeyPrefix="$prefix" \
    --SensorHub:Auth:SigningKey="$signing_key" \
    --SensorHub:Uploads:DataPath="$data" \
    --SensorHub:Simulation:Enabled="$simulation" \
    >"$logs/node$((i + 1)).log" 2>&1 &
  pids+=($!)
  urls+=("http://$host:$port")
done

for i in "${!urls[@]}"; do
  ready=no
  for _ in $(seq 1 300); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "${urls[$i]}/healthz/ready")" = 200 ]; then ready=yes; break; fi
    kill -0 "${pids[$((i + 1))]}" 2>/dev/null || break
    sleep 0.2
  done
  if [ "$ready" != yes ]; then
    echo "cluster.sh: node $((i + 1)) (${urls[$i]}) did not become ready; its log:" >&2
    tail -n 40 "$logs/node$((i + 1)).log" >&2
    exit 1
  fi
done

cat <<EOF
SensorHub cluster ready: redis-server on 127.0.0.1:$redis_port (pid ${pids[0]}, key prefix '$prefix'), data in $data
$(for i in "${!urls[@]}"; do echo "  node $((i + 1)): ${urls[$i]}   (pid ${pids[$((i + 1))]}$([ "$i" -eq 0 ] && echo ", simulated sensors"), log $logs/node$((i + 1)).log)"; done)
Dashboard: open any node, e.g. ${urls[$((${#urls[@]} - 1))]}/
Sample:    dotnet run --project client-sample -- subscribe plant-1/line-1/temperature --url $(IFS=,; echo "${urls[*]}")
Ctrl+C (or SIGTERM to pid $$) stops everything; a node that dies is reported and the others go on.
EOF

# Until Ctrl+C (or SIGTERM). A node that ends by itself (killed, crashed) is reported and the others go on, so that
# failing over to them can be tried; the cluster stops when redis-server ends or when no node is left.
set +e
live=("${pids[@]}")
while true; do
  wait -n "${live[@]}"
  status=$?
  [ "$stopping" = yes ] && exit 0
  still=()
  for pid in "${live[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then still+=("$pid"); continue; fi
    if [ "$pid" = "${pids[0]}" ]; then
      echo "cluster.sh: redis-server ended (status $status); stopping the nodes" >&2
      exit 1
    fi
    for i in "${!urls[@]}"; do
      if [ "${pids[$((i + 1))]}" = "$pid" ]; then
        echo "cluster.sh: node $((i + 1)) (${urls[$i]}, pid $pid) ended (status $status); the others go on. The end of its log:" >&2
        tail -n 20 "$logs/node$((i + 1)).log" >&2
      fi
    done
  done
  live=("${still[@]}")
  if [ ${#live[@]} -le 1 ]; then
    echo "cluster.sh: no node is left; stopping redis-server" >&2
    exit 1
  fi
done
