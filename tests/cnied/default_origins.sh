#!/usr/bin/env bash
# Without --allow-origin (and no config file), cnied allows the portal's
# origins compiled in (CNIED_DEFAULT_ORIGINS) and nothing else; one
# --allow-origin replaces that list.
set -euo pipefail
build=${CNIE_BUILD_DIR:?}
cnied=$build/src/cnied/cnied
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
export XDG_CONFIG_HOME=$tmp/config XDG_CACHE_HOME=$tmp/cache CNIE_NO_CACHE=1
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
fail() { echo "FAIL: $*"; exit 1; }
checks=0
# expect WANT GOT WHAT: one counted check.
expect() { checks=$((checks + 1)); [ "$1" = "$2" ] || fail "$3 (got $2)"; }

# code ORIGIN: HTTP status of GET /v1/status with that Origin, over TLS
# trusting the bridge's own CA.
code() {
  curl -s -o /dev/null -w '%{http_code}' --cacert "$tmp/state/ca.pem" \
    -H "Origin: $1" "https://127.0.0.1:$port/v1/status"
}
start() {
  "$cnied" --foreground --reference-card --listen "127.0.0.1:$port" --state-dir "$tmp/state" \
    "$@" 2> "$tmp/log" &
  pid=$!
  for _ in $(seq 100); do
    [ -s "$tmp/state/cnied.port" ] && curl -s -o /dev/null --cacert "$tmp/state/ca.pem" \
      "https://127.0.0.1:$port/v1/status" && return 0
    sleep 0.1
  done
  cat "$tmp/log"; fail "cnied did not start"
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; rm -f "$tmp/state/cnied.port"; }

read -r -a defaults <<< "${CNIED_DEFAULT_ORIGINS:?}"
# An empty list would make the loops below check nothing.
[ "${#defaults[@]}" -gt 0 ] || fail "CNIED_DEFAULT_ORIGINS names no origin"
start
for o in "${defaults[@]}"; do
  expect 200 "$(code "$o")" "default origin $o refused"
  expect 403 "$(code "${o/https:/http:}")" "http:// variant of $o allowed"
done
expect 403 "$(code https://evil.example)" "another origin allowed by default"
stop
start --allow-origin https://portal.example
expect 200 "$(code https://portal.example)" "--allow-origin not allowed"
for o in "${defaults[@]}"; do
  expect 403 "$(code "$o")" "--allow-origin did not replace the default $o"
done
stop
[ "$checks" -gt 0 ] || fail "no check ran"
echo "PASS: default origins ($checks checks)"
