#!/usr/bin/env bash
# Browser test of the demo portal: headless Debian chromium driven by
# playwright-core (npm, pinned in package-lock.json, never a downloaded
# browser) through scripts/demo --run: cnied on a fresh copy of the
# reference card with the scripted pinentry (PIN 1234), the demo portal,
# then tests/browser/demo.test.mjs.  The browser trusts the portal's and
# the bridge's local CAs through an NSS database in its private HOME
# (certutil), or ignores certificate errors when certutil is missing.
# Screenshots: BUILD_DIR/browser-artifacts/.  Exit 77 (skip) only when
# chromium or node is missing.
#
# --pcsc: the same flow through PC/SC: scripts/demo --pcsc (cnied without
# --reference-card) under tests/harness/with-pcscd --virtual --hide-usb, a
# private pcscd with the project's virtual readers on fresh card state.
# Only reader 0 (contact) holds the EC card (CNIE_VIRTUAL_CARDS="ec - -"):
# with the default second EC card in reader 2 cnied would answer
# multiple-cards, as the page names no reader.  This variant also removes
# the card (cnie-sim --reader 0 remove) while the page listens to
# /v1/events and checks the page shows the removal, then puts it back.
# Screenshots: BUILD_DIR/browser-artifacts/pcsc/.  Exit 77 also when
# with-pcscd cannot make its namespaces.
# Usage: run.sh BUILD_DIR [--pcsc]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "$1" && pwd)
pcsc=0
[ "${2:-}" = --pcsc ] && pcsc=1
chromium=${CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || { echo "SKIP: $chromium not installed (apt-get install chromium)"; exit 77; }
command -v node >/dev/null 2>&1 || { echo "SKIP: node not installed (apt-get install nodejs npm)"; exit 77; }
command -v npm >/dev/null 2>&1 || { echo "FAIL: node without npm (apt-get install npm)"; exit 1; }

work="$build/browser"
artifacts="$build/browser-artifacts"
[ "$pcsc" = 1 ] && artifacts="$artifacts/pcsc"
mkdir -p "$work" "$artifacts"
rm -f "$artifacts"/*.png
# npm ci only when the lock changed: the installed copy remembers its lock.
if ! cmp -s "$here/package-lock.json" "$work/package-lock.json" || [ ! -d "$work/node_modules/playwright-core" ]; then
  cp "$here/package.json" "$here/package-lock.json" "$work/"
  (cd "$work" && npm ci --no-audit --no-fund --prefer-offline --loglevel=error)
fi
cp "$here/demo.test.mjs" "$work/"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HOME="$tmp/home"
mkdir -p "$HOME"
cat > "$tmp/browse.sh" <<EOS
#!/usr/bin/env bash
set -euo pipefail
# Trust the two local CAs in the browser's NSS database (Chromium on Linux
# reads \$HOME/.pki/nssdb).
if command -v certutil >/dev/null 2>&1; then
  mkdir -p "\$HOME/.pki/nssdb"
  certutil -N -d "sql:\$HOME/.pki/nssdb" --empty-password
  certutil -A -d "sql:\$HOME/.pki/nssdb" -t C,, -n cnie-demo-portal -i "\$PORTAL_CA"
  certutil -A -d "sql:\$HOME/.pki/nssdb" -t C,, -n cnied-local -i "\$BRIDGE_CA"
else
  echo "certutil missing (libnss3-tools): ignoring certificate errors"
  export IGNORE_TLS=1
fi
export ARTIFACTS="$artifacts" CHROMIUM="$chromium" USER_DATA_DIR="$tmp/profile"
# PC/SC: the test removes and re-inserts the card of virtual reader 0
# (CNIE_SIM_BASE comes from with-pcscd).
if [ "\$DEMO_TRANSPORT" = pcsc ]; then
  export CARD_REMOVE_CMD="$build/drivers/ifd/cnie-sim --reader 0 remove"
  export CARD_INSERT_CMD="$build/drivers/ifd/cnie-sim --reader 0 insert $build/cards/ec"
fi
cd "$work"
node demo.test.mjs
EOS
chmod +x "$tmp/browse.sh"
export PINENTRY_SCRIPT_PIN=1234 PINENTRY_SCRIPT_CAN=123456 PINENTRY_SCRIPT_LOG="$tmp/pinentry.log" CNIE_NO_CACHE=1
demo=("$src/scripts/demo" --no-install --no-build --build-dir "$build" --state-dir "$tmp/cnied"
  --pinentry "$src/tests/harness/pinentry-script")
set +e
if [ "$pcsc" = 1 ]; then
  export CNIE_BUILD_DIR="$build" CNIE_VIRTUAL_CARDS="ec - -"
  "$src/tests/harness/with-pcscd" --virtual --hide-usb --keep-log "$artifacts/pcscd.log" -- \
    "${demo[@]}" --pcsc --run "$tmp/browse.sh"
else
  "${demo[@]}" --run "$tmp/browse.sh"
fi
rc=$?
set -e
if [ -f "$PINENTRY_SCRIPT_LOG" ]; then
  echo "--- pinentry dialogs"
  cat "$PINENTRY_SCRIPT_LOG"
  # Every dialog must name the requesting origin.
  if grep -q '^DESC' "$PINENTRY_SCRIPT_LOG" && ! grep '^DESC' "$PINENTRY_SCRIPT_LOG" | grep -q '127.0.0.1'; then
    echo "FAIL: the PIN dialog does not name the origin"
    rc=1
  fi
fi
# A sanitizer build of cnied reports into its log (scripts/demo keeps it).
if grep -q 'Sanitizer' "$build/demo/cnied.log" 2>/dev/null; then
  echo "FAIL: sanitizer report in cnied's log:"
  cat "$build/demo/cnied.log"
  rc=1
fi
echo "screenshots: $artifacts"
exit "$rc"
