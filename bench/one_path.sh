#!/usr/bin/env bash
# One path of the side-by-side kit against a fresh Ostiary server, for comparing two versions
# of the code quickly (the kit itself takes half an hour and measures the peer too):
#   bash bench/one_path.sh [token|introspect|resource] [sqlite|postgres] [seconds]
# A fresh data directory (and PostgreSQL database), a two-worker server on port 5199 (WORKERS
# to change it), the kit's client and lua scripts, 2 s of warm-up, then wrk -t2 -c16. To
# measure another checkout, point OSTIARY_BIN at a script running it, e.g. for a worktree:
#   PYTHONPATH=/path/to/worktree/src exec .venv/bin/python -m ostiary "$@"
# and run the two alternately: this machine's noise between runs is 10% and more.
set -euo pipefail
what=${1:-token}; backend=${2:-sqlite}; secs=${3:-10}
here=$(cd "$(dirname "$0")/.." && pwd)
O=${OSTIARY_BIN:-$here/.venv/bin/ostiary}
export WRK_LUA_DIR=${WRK_LUA_DIR:-$here/../shared/bench-peers/lua}
DATA=$(mktemp -d "${TMPDIR:-/tmp}/one-path.XXXX")
export OSTIARY_DATA_DIR=$DATA OSTIARY_RATE_LIMIT_CAPACITY=1000000000
unset OSTIARY_DATABASE_URL
DB=""
if [[ $backend == postgres ]]; then
  DB=one_path_$$; psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $DB" >/dev/null
  export OSTIARY_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:5432/$DB"
fi
$O db upgrade >/dev/null 2>&1
KEY=$(echo "wrk load test passphrase 123456" | $O accounts create bench@example.com --password-stdin --print-api-key | tail -1)
PORT=5199
( exec $O serve --host 127.0.0.1 --port $PORT --insecure-http --workers ${WORKERS:-2} > $DATA/server.log 2>&1 ) &
PID=$!
for _ in $(seq 1 150); do curl -s -o /dev/null http://127.0.0.1:$PORT/health && break; sleep 0.2; done
CLIENT=$(curl -s http://127.0.0.1:$PORT/oauth/clients -H 'Accept: application/vnd.heroku+json; version=3' \
  -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
  -d '{"name":"bench","redirect_uri":"https://example.com/cb","client_credentials_scopes":["read","identity"]}')
CID=$(echo "$CLIENT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
CSEC=$(echo "$CLIENT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
export BASIC_AUTH=$(python3 -c 'import sys,base64,urllib.parse as u; q=lambda s:u.quote_plus(s,safe=""); print(base64.b64encode(f"{q(sys.argv[1])}:{q(sys.argv[2])}".encode()).decode())' "$CID" "$CSEC")
export TOKEN_PATH=/oauth/token INTROSPECT_PATH=/oauth/introspect RESOURCE_PATH=/account RESOURCE_ACCEPT="application/vnd.heroku+json; version=3"
TOK=$(curl -s -u $CID:$CSEC -d grant_type=client_credentials http://127.0.0.1:$PORT/oauth/token | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
export INTROSPECT_TOKEN=$TOK RESOURCE_TOKEN=$TOK
wrk -t2 -c16 -d2s -s $WRK_LUA_DIR/$what.lua http://127.0.0.1:$PORT >/dev/null
wrk -t2 -c16 -d${secs}s --latency -s $WRK_LUA_DIR/$what.lua http://127.0.0.1:$PORT | grep -E "Requests/sec|99%|Non-2xx|Socket"
kill $PID; wait $PID 2>/dev/null || true
if [[ -n $DB ]]; then psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE $DB WITH (FORCE)" >/dev/null; fi
rm -rf "$DATA"
