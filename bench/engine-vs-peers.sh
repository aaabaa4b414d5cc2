#!/usr/bin/env bash
# Compares faceoff's load engine with wrk and oha on the same loopback server, in one run.
#
# The server (examples/hello_server.rs, one thread) is pinned to one CPU and each load tool in
# turn to another, with the same connections and duration. For each tool it prints requests/s
# and CPU microseconds per request (user + system time of the tool's process / requests), then
# the ratios faceoff/wrk and faceoff/oha (below 1.0 means faceoff is cheaper). Then faceoff
# alone at a constant rate, and holding many connections (memory per 1,000 connections).
#
# Usage: bench/engine-vs-peers.sh [DURATION_S] [CONNECTIONS] [ROUNDS]
# Env: SERVER_CPU (default 1), LOAD_CPU (default 0), RATE (default 20000), MANY (default 10000).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${1:-10}
CONNS=${2:-64}
ROUNDS=${3:-3}
SERVER_CPU=${SERVER_CPU:-1}
LOAD_CPU=${LOAD_CPU:-0}
RATE=${RATE:-20000}
MANY=${MANY:-10000}

need() { command -v "$1" >/dev/null 2>&1; }
if ! need wrk; then
  echo "installing wrk (apt-get)..." >&2
  (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null
fi
if ! need oha && [ ! -x "$HOME/.cargo/bin/oha" ]; then
  echo "installing oha (cargo install, a few minutes)..." >&2
  cargo install oha --locked >/dev/null 2>&1
fi
OHA=$(command -v oha || echo "$HOME/.cargo/bin/oha")
if [ ! -x /usr/bin/time ]; then
  (apt-get update -qq && apt-get install -y -qq time) >/dev/null
fi

cargo build --release --quiet --bin faceoff --example hello_server
FACEOFF=target/release/faceoff
ulimit -n "$(ulimit -Hn)"

taskset -c "$SERVER_CPU" target/release/examples/hello_server 0 >/tmp/faceoff-bench-port.$$ &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -f /tmp/faceoff-bench-*.$$' EXIT
for _ in $(seq 50); do [ -s /tmp/faceoff-bench-port.$$ ] && break; sleep 0.1; done
PORT=$(head -1 /tmp/faceoff-bench-port.$$)
URL="http://127.0.0.1:$PORT/"

# Runs a command pinned to LOAD_CPU; prints "cpu_seconds max_rss_kib" of it to fd 3.
timed() {
  /usr/bin/time -f "%U %S %M" -o /tmp/faceoff-bench-time.$$ taskset -c "$LOAD_CPU" "$@"
  # A newline first: some tools end their output without one.
  echo
  awk '{printf "%.4f %d\n", $1 + $2, $3}' /tmp/faceoff-bench-time.$$
}

run_faceoff() {
  local out cpu
  out=$(timed "$FACEOFF" bench "$URL" -c "$CONNS" -d "${DURATION}s" --cpus "$LOAD_CPU" --json 2>/dev/null | tee /tmp/faceoff-bench-json.$$ | tail -1)
  cpu=$(echo "$out" | cut -d' ' -f1)
  python3 - "$cpu" /tmp/faceoff-bench-json.$$ <<'PY'
import json, sys
cpu = float(sys.argv[1]); d = json.loads(open(sys.argv[2]).readline())
print(d["requests"], d["rps"], cpu)
PY
}
run_wrk() {
  local out cpu
  out=$(timed wrk -t1 -c "$CONNS" -d "${DURATION}s" "$URL" 2>&1 | tee /tmp/faceoff-bench-wrk.$$ | tail -1)
  cpu=$(echo "$out" | cut -d' ' -f1)
  local reqs rps
  reqs=$(grep -Eo '^ *[0-9]+ requests in' /tmp/faceoff-bench-wrk.$$ | grep -Eo '[0-9]+')
  rps=$(grep -Eo 'Requests/sec: *[0-9.]+' /tmp/faceoff-bench-wrk.$$ | grep -Eo '[0-9.]+$')
  echo "$reqs $rps $cpu"
}
run_oha() {
  local out cpu
  out=$(timed "$OHA" -c "$CONNS" -z "${DURATION}s" --no-tui --output-format json "$URL" 2>/dev/null | tee /tmp/faceoff-bench-oha.$$ | tail -1)
  cpu=$(echo "$out" | cut -d' ' -f1)
  python3 - "$cpu" /tmp/faceoff-bench-oha.$$ "$DURATION" <<'PY'
import json, sys
cpu = float(sys.argv[1]); text = open(sys.argv[2]).read()
d = json.loads(text[:text.rindex("}") + 1])
ok = sum(d.get("statusCodeDistribution", {}).values())
print(ok, d["summary"]["requestsPerSec"], cpu)
PY
}

printf 'server: hello_server on CPU %s; load tools on CPU %s; %s connections, %ss, %s rounds\n' \
  "$SERVER_CPU" "$LOAD_CPU" "$CONNS" "$DURATION" "$ROUNDS"
printf '%-8s %6s %12s %12s %14s\n' tool round requests req/s cpu_us/req
declare -A SUM
for round in $(seq "$ROUNDS"); do
  for tool in faceoff wrk oha; do
    read -r reqs rps cpu < <("run_$tool")
    per=$(python3 -c "print(f'{$cpu * 1e6 / max($reqs, 1):.2f}')")
    printf '%-8s %6s %12s %12.0f %14s\n' "$tool" "$round" "$reqs" "$rps" "$per"
    SUM[$tool]=$(python3 -c "print(${SUM[$tool]:-0} + $per)")
  done
done
f=${SUM[faceoff]}; w=${SUM[wrk]}; o=${SUM[oha]}
python3 - "$f" "$w" "$o" "$ROUNDS" <<'PY'
import sys
f, w, o, n = (float(x) for x in sys.argv[1:])
print(f"mean cpu_us/req: faceoff {f/n:.2f}  wrk {w/n:.2f}  oha {o/n:.2f}")
print(f"ratio faceoff/wrk: {f/w:.2f}   (target <= 1.00)")
print(f"ratio faceoff/oha: {f/o:.2f}   (target <= 0.60)")
PY

echo
echo "faceoff at a constant $RATE req/s:"
read -r _ _ < <(timed "$FACEOFF" bench "$URL" -c "$CONNS" -r "$RATE" -d "${DURATION}s" --cpus "$LOAD_CPU" --json 2>/dev/null > /tmp/faceoff-bench-json.$$ ; echo x x)
python3 - /tmp/faceoff-bench-json.$$ "$(cat /tmp/faceoff-bench-time.$$)" <<'PY'
import json, sys
d = json.loads(open(sys.argv[1]).readline())
u, s, _ = sys.argv[2].split()
cpu = float(u) + float(s)
print(f"  {d['requests']} responses, {d['rps']:.0f} req/s, late sends {d['late_sends']}, "
      f"p99 {d['latency_us']['p99']} us (uncorrected {d['latency_uncorrected_us']['p99']} us), "
      f"{cpu * 1e6 / max(d['requests'], 1):.2f} cpu_us/req")
PY

echo
echo "faceoff holding $MANY connections (closed loop, 5s):"
timed "$FACEOFF" bench "$URL" -c "$MANY" -d 5s --cpus "$LOAD_CPU" --timeout 20s --json 2>/dev/null > /tmp/faceoff-bench-json.$$ || true
python3 - /tmp/faceoff-bench-json.$$ "$(cat /tmp/faceoff-bench-time.$$)" "$MANY" <<'PY'
import json, sys
d = json.loads(open(sys.argv[1]).readline())
u, s, rss_kib = sys.argv[2].split()
many = int(sys.argv[3])
errors = sum(d["errors"].values())
print(f"  {d['requests']} responses, {d['rps']:.0f} req/s, errors {errors}, connects {d['connects']}, "
      f"peak RSS {int(rss_kib)/1024:.1f} MiB = {int(rss_kib)/1024/(many/1000):.2f} MiB per 1,000 connections (target <= 2)")
PY
