#!/usr/bin/env bash
# WebSocket load engine against the rust-axum reference contestant, in one run (issue 10):
#  1. hold: the engine holds HOLD (default 10,000) WebSocket connections; its peak RSS against
#     the 150 MiB target;
#  2. echo CPU: engine CPU per echoed message against rust-axum's CPU per message in the same
#     trial (/proc/PID/stat of the server; the engine's own figure from `bench --json`);
#  3. fan-out overhead: p50 delivery latency of a room (1 publisher, 1 subscriber) against the
#     p50 round trip of a plain echo at the same low rate, target at most 1 ms above.
# Each prints its ratio (below 1.0 meets the target).
#
# Usage: bench/ws.sh [DURATION_S]
# Env: SERVER_CPU (default 1), LOAD_CPU (default 0), HOLD (default 10000), RATE (default 200),
#      FACEOFF_CACHE_DIR (where rust-axum is installed; `faceoff verify --only rust-axum`
#      installs it).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${1:-5}
SERVER_CPU=${SERVER_CPU:-1}
LOAD_CPU=${LOAD_CPU:-0}
HOLD=${HOLD:-10000}
RATE=${RATE:-200}
CACHE=${FACEOFF_CACHE_DIR:-target/faceoff-test-cache}

cargo build --release --quiet --bin faceoff
FACEOFF=target/release/faceoff
AXUM=$(ls -t "$CACHE"/contestants/rust-axum-*/target/release/rust-axum 2>/dev/null | head -1 || true)
if [ -z "$AXUM" ]; then
  echo "rust-axum is not installed under $CACHE; run: faceoff verify --only rust-axum" >&2
  exit 1
fi
HARD=$(ulimit -Hn)
if [ "$HARD" != unlimited ] && [ "$HARD" -lt $((HOLD + 100)) ]; then
  echo "the hard descriptor limit ($HARD) is below the $HOLD connections asked; raise it or set HOLD" >&2
  exit 1
fi
ulimit -n "$HARD"

WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# A minimal dataset: the server checks its tables at start-up; the WebSocket paths read none.
python3 - "$WORK/db.sqlite" <<'PY'
import random, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("CREATE TABLE world (id INTEGER PRIMARY KEY, randomNumber INTEGER NOT NULL)")
db.execute("CREATE TABLE fortune (id INTEGER PRIMARY KEY, message TEXT NOT NULL)")
db.executemany("INSERT INTO world VALUES (?, ?)", [(i, random.randint(1, 10000)) for i in range(1, 10001)])
db.execute("INSERT INTO fortune VALUES (1, 'fortune: No such file or directory')")
db.commit()
PY
PORT=$PORT WORKERS=1 DB_PATH="$WORK/db.sqlite" taskset -c "$SERVER_CPU" "$AXUM" >"$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break
  sleep 0.1
done
URL="ws://127.0.0.1:$PORT"
bench() { "$FACEOFF" bench --cpus "$LOAD_CPU" --json "$@"; }
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {}, {'d': d}))" "$1"; }
ticks() { awk '{ print $14 + $15 }' "/proc/$SERVER/stat"; }
HZ=$(getconf CLK_TCK)

echo "rust-axum (1 worker) on CPU $SERVER_CPU, faceoff on CPU $LOAD_CPU, ${DURATION}s loads"

# 1. Hold.
OUT=$(bench "$URL/ws" --hold -c "$HOLD" -d "${DURATION}s" --timeout 30s)
HELD=$(echo "$OUT" | field "d['ws']['held']")
RSS=$(echo "$OUT" | field "d['ws']['engine_rss_peak_bytes']")
echo "hold: $HELD of $HOLD connections held, engine peak RSS $((RSS / 1048576)) MiB" \
  "($((RSS / HOLD)) bytes per connection)"
echo "  ratio engine RSS / 150 MiB target = $(python3 -c "print(f'{$RSS / (150 * 1048576):.3f}')")"

# 2. Echo CPU per message, same trial.
BEFORE=$(ticks)
OUT=$(bench "$URL/ws" -c 64 -d "${DURATION}s" -t 1)
AFTER=$(ticks)
MSGS=$(echo "$OUT" | field "d['requests']")
ENGINE_US=$(echo "$OUT" | field "d['engine_cpu_us_per_request']")
SERVER_US=$(python3 -c "print(($AFTER - $BEFORE) / $HZ * 1e6 / $MSGS)")
echo "echo: $MSGS messages, $(echo "$OUT" | field "round(d['rps'])") msg/s;" \
  "engine $(python3 -c "print(f'{$ENGINE_US:.2f}')") µs CPU per message," \
  "rust-axum $(python3 -c "print(f'{$SERVER_US:.2f}')") µs"
echo "  ratio engine / rust-axum CPU per message = $(python3 -c "print(f'{$ENGINE_US / $SERVER_US:.3f}')")"

# 3. Fan-out overhead at a low rate.
ECHO=$(bench "$URL/ws" -c 1 --rate "$RATE" -d "${DURATION}s" -t 1 | field "d['latency_us']['p50']")
ROOM=$(bench "$URL/ws/room" --room --publishers 1 --subscribers 1 --rate "$RATE" -d "${DURATION}s" -t 1 \
  | field "(d['latency_us']['p50'], d['ws']['fanout']['delivered'], d['ws']['fanout']['expected'])")
ROOM_P50=$(python3 -c "print($ROOM[0])")
echo "fan-out: room delivery p50 ${ROOM_P50} µs vs echo round trip p50 ${ECHO} µs at $RATE msg/s;" \
  "delivered/expected $(python3 -c "r=$ROOM; print(f'{r[1]}/{r[2]}')")"
echo "  ratio (room p50 - echo p50) / 1 ms target = $(python3 -c "print(f'{($ROOM_P50 - $ECHO) / 1000:.3f}')")"
