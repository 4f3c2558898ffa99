#!/usr/bin/env bash
# Browser test of the kiosk (docs/kiosk.md): cnied in kiosk mode (--kiosk:
# no dialog; a pinentry that records any start, which must never happen)
# on PC/SC through a private pcscd with the project's virtual readers, all
# empty at the start (CNIE_VIRTUAL_CARDS="- - -"), the example kiosk page
# (web/kiosk/server.py), and headless Debian chromium driven by
# playwright-core (tests/browser/kiosk.test.mjs): insert a card in the
# PIN-pad reader (2), consent on the page, the PIN typed on the pad
# (cnie-sim keys), logged in, card removed, logged out; then two cards (the
# reader choice; the contact reader without keypad is refused with
# pinpad-required; Cancel on the keypad), and the page in Arabic.
# The browser trusts the bridge CA the way docs/kiosk.md tells a kiosk to:
# `cnie-tool bridge trust --state-dir PUBLIC` on cnied's public copy
# (--public-dir), never the 0700 state dir.
# Screenshots: BUILD_DIR/browser-artifacts/kiosk/.  Exit 77 (skip) only when
# chromium or node is missing or with-pcscd cannot make its namespaces, and
# only outside CI (tests/harness/skip.sh).
# Usage: kiosk.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "$1" && pwd)
chromium=${CHROMIUM:-/usr/bin/chromium}
# shellcheck source=tests/harness/skip.sh
. "$src/tests/harness/skip.sh"
[ -x "$chromium" ] || cnie_skip "$chromium not installed (apt-get install chromium)"
command -v node >/dev/null 2>&1 || cnie_skip "node not installed (apt-get install nodejs npm)"
command -v npm >/dev/null 2>&1 || { echo "FAIL: node without npm (apt-get install npm)"; exit 1; }

artifacts="$build/browser-artifacts/kiosk"
if [ -z "${CNIE_SIM_BASE:-}" ]; then
  # First pass: the private pcscd with three empty virtual readers, then
  # this script again inside it.
  mkdir -p "$artifacts"
  rm -f "$artifacts"/*.png "$artifacts"/axe-*.json
  # Its own copy of the test's npm packages (run.sh may run at the same time).
  work="$build/browser-kiosk"
  mkdir -p "$work"
  if ! cmp -s "$here/package-lock.json" "$work/package-lock.json" || [ ! -d "$work/node_modules/playwright-core" ]; then
    cp "$here/package.json" "$here/package-lock.json" "$work/"
    (cd "$work" && npm ci --no-audit --no-fund --prefer-offline --loglevel=error)
  fi
  export CNIE_BUILD_DIR="$build" CNIE_VIRTUAL_CARDS="- - -"
  exec "$src/tests/harness/with-pcscd" --virtual --hide-usb --keep-log "$artifacts/pcscd.log" -- "$0" "$@"
fi

work="$build/browser-kiosk"
cp "$here/kiosk.test.mjs" "$work/"
tmp=$(mktemp -d)
pids=()
cleanup() {
  local rc=$? p
  set +e
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
export HOME="$tmp/home"
mkdir -p "$HOME"

# Any dialog in kiosk mode is a failure: this "pinentry" only records that it ran.
cat > "$tmp/no-pinentry" <<EOF
#!/bin/sh
echo "pinentry started in kiosk mode" >> "$tmp/pinentry-ran"
exit 1
EOF
chmod +x "$tmp/no-pinentry"

kport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
origin="https://127.0.0.1:$kport"
public="$tmp/public"
mkdir -m 0755 "$public"
cnied_pid=
"$build/src/cnied/cnied" --foreground --kiosk --allow-origin "$origin" --allow-user "$(id -un)" \
  --listen 127.0.0.1:0 --state-dir "$tmp/cnied" --public-dir "$public" \
  --pinentry "$tmp/no-pinentry" -v 2>"$artifacts/cnied.log" &
cnied_pid=$!
pids+=($cnied_pid)
for _ in $(seq 100); do [ -s "$public/cnied.port" ] && break; sleep 0.1; done
[ -s "$public/cnied.port" ] || { echo "FAIL: cnied did not start"; cat "$artifacts/cnied.log"; exit 1; }
bridge="https://$(head -n1 "$public/cnied.port")"

python3 "$src/web/kiosk/server.py" --listen "127.0.0.1:$kport" --bridge "$bridge" \
  --bridge-ca "$public/ca.pem" --cnie-tool "$build/tools/cnie-tool/cnie-tool" \
  --card-ca "$build/cards/pki/citizen-ca.pem" --tls-dir "$tmp/kiosk-tls" \
  --port-file "$tmp/kiosk.url" 2>"$artifacts/kiosk-server.log" &
pids+=($!)
for _ in $(seq 300); do [ -s "$tmp/kiosk.url" ] && break; sleep 0.1; done
[ -s "$tmp/kiosk.url" ] || { echo "FAIL: the kiosk page server did not start"; cat "$artifacts/kiosk-server.log"; exit 1; }

# The kiosk user's browser trusts the page's CA and, through cnied's public
# copy, the bridge CA (docs/kiosk.md "CA trust").
if command -v certutil >/dev/null 2>&1; then
  mkdir -p "$HOME/.pki/nssdb"
  certutil -N -d "sql:$HOME/.pki/nssdb" --empty-password </dev/null
  certutil -A -d "sql:$HOME/.pki/nssdb" -t C,, -n kiosk-page -i "$tmp/kiosk-tls/ca.pem" </dev/null
  "$build/tools/cnie-tool/cnie-tool" bridge trust --state-dir "$public"
else
  echo "certutil missing (libnss3-tools): ignoring certificate errors"
  export IGNORE_TLS=1
fi

export KIOSK_URL="$origin" ARTIFACTS="$artifacts" CHROMIUM="$chromium" USER_DATA_DIR="$tmp/profile"
export SIM="$build/drivers/ifd/cnie-sim" CARDS="$build/cards"
set +e
(cd "$work" && NODE_EXTRA_CA_CERTS="$tmp/kiosk-tls/ca.pem" node kiosk.test.mjs)
rc=$?
set -e
if [ -e "$tmp/pinentry-ran" ]; then
  echo "FAIL: a dialog was started in kiosk mode"
  rc=1
else
  echo "PASS no dialog was started in kiosk mode"
fi
# cnied stops cleanly (exit 0 after SIGTERM; a sanitizer build reports leaks then).
kill -TERM "$cnied_pid"
crc=0
wait "$cnied_pid" || crc=$?
if [ "$crc" != 0 ]; then
  echo "FAIL: cnied exited with $crc after SIGTERM"
  rc=1
fi
if grep -q 'Sanitizer' "$artifacts/cnied.log"; then
  echo "FAIL: sanitizer report in cnied's log:"
  cat "$artifacts/cnied.log"
  rc=1
fi
echo "screenshots: $artifacts"
exit "$rc"
