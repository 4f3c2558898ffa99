#!/usr/bin/env bash
# Browser test of the demo portal: headless Debian chromium driven by
# playwright-core (npm, pinned in package-lock.json, never a downloaded
# browser) through scripts/demo --run: cnied on a fresh copy of the
# reference card with the scripted pinentry (PIN 1234), the demo portal,
# then tests/browser/demo.test.mjs.  The browser trusts the portal's and
# the bridge's local CAs through an NSS database in its private HOME
# (certutil), or ignores certificate errors when certutil is missing.
# Screenshots: BUILD_DIR/browser-artifacts/.  Exit 77 (skip) only when
# chromium or node is missing, and only outside CI: under CI=true that is a
# failure (tests/harness/skip.sh).
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
# --no-reader: PC/SC with no reader at all (with-pcscd --hide-usb, no
# virtual readers), then with no PC/SC service (--no-pcscd): the page must
# say so and how to go on.  Screenshots: BUILD_DIR/browser-artifacts/states/.
#
# Every variant also drives the page through its states (bridge not
# installed, card ready, a failure), audits each with axe-core (fails on
# WCAG A violations, reports AA), and runs the Web eID-compatible API of the
# npm-packed web/ package (npm pack, unpacked, imported by the page) against
# cnied, its token checked with cnie-tool verify-token.
# Usage: run.sh BUILD_DIR [--pcsc|--no-reader]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "$1" && pwd)
variant=reference-card
case "${2:-}" in
  --pcsc) variant=pcsc ;;
  --no-reader) variant=no-reader ;;
  "") ;;
  *) echo "usage: run.sh BUILD_DIR [--pcsc|--no-reader]"; exit 2 ;;
esac
chromium=${CHROMIUM:-/usr/bin/chromium}
# shellcheck source=tests/harness/skip.sh
. "$src/tests/harness/skip.sh"
[ -x "$chromium" ] || cnie_skip "$chromium not installed (apt-get install chromium)"
command -v node >/dev/null 2>&1 || cnie_skip "node not installed (apt-get install nodejs npm)"
command -v npm >/dev/null 2>&1 || { echo "FAIL: node without npm (apt-get install npm)"; exit 1; }

work="$build/browser"
artifacts="$build/browser-artifacts"
[ "$variant" = pcsc ] && artifacts="$artifacts/pcsc"
[ "$variant" = no-reader ] && artifacts="$artifacts/states"
mkdir -p "$work" "$artifacts"
rm -f "$artifacts"/*.png "$artifacts"/axe-*.json
# npm ci only when the lock changed: the installed copy remembers its lock.
if ! cmp -s "$here/package-lock.json" "$work/package-lock.json" || [ ! -d "$work/node_modules/playwright-core" ]; then
  cp "$here/package.json" "$here/package-lock.json" "$work/"
  (cd "$work" && npm ci --no-audit --no-fund --prefer-offline --loglevel=error)
fi
cp "$here/demo.test.mjs" "$work/"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The npm package of web/ as an integrator gets it: packed, then unpacked.
mkdir -p "$tmp/pack"
(cd "$src/web" && npm pack --silent --pack-destination "$tmp/pack" >/dev/null)
tar -xzf "$tmp/pack"/*.tgz -C "$tmp/pack"
export PKG_DIR="$tmp/pack/package"
# A file the scripted pinentry reads at each dialog: the test makes the
# citizen cancel (PINENTRY_SCRIPT_CANCEL=1) and then answer again.
export PINENTRY_SCRIPT_ENV="$tmp/pinentry.env"
: > "$PINENTRY_SCRIPT_ENV"
export HOME="$tmp/home"
mkdir -p "$HOME"
cat > "$tmp/browse.sh" <<EOS
#!/usr/bin/env bash
set -euo pipefail
# Trust the two local CAs in the browser's NSS database (Chromium on Linux
# reads \$HOME/.pki/nssdb).
# (The no-reader variant runs this twice: the database is made once.)
if command -v certutil >/dev/null 2>&1; then
  mkdir -p "\$HOME/.pki/nssdb"
  [ -f "\$HOME/.pki/nssdb/cert9.db" ] || certutil -N -d "sql:\$HOME/.pki/nssdb" --empty-password </dev/null
  certutil -A -d "sql:\$HOME/.pki/nssdb" -t C,, -n cnie-demo-portal -i "\$PORTAL_CA" </dev/null
  certutil -A -d "sql:\$HOME/.pki/nssdb" -t C,, -n cnied-local -i "\$BRIDGE_CA" </dev/null
else
  echo "certutil missing (libnss3-tools): ignoring certificate errors"
  export IGNORE_TLS=1
fi
export ARTIFACTS="$artifacts" CHROMIUM="$chromium" USER_DATA_DIR="$tmp/profile" VARIANT="$variant"
export CNIE_TOOL="$build/tools/cnie-tool/cnie-tool" CARD_CA="$build/cards/pki/citizen-ca.pem"
# PC/SC: the test removes and re-inserts the card of virtual reader 0
# (CNIE_SIM_BASE comes from with-pcscd).
if [ "\$DEMO_TRANSPORT" = pcsc ]; then
  export CARD_REMOVE_CMD="$build/drivers/ifd/cnie-sim --reader 0 remove"
  export CARD_INSERT_CMD="$build/drivers/ifd/cnie-sim --reader 0 insert $build/cards/ec"
  # A second card, in the contactless reader: the page offers a choice.
  # It is the test card whose PIN is blocked: chosen, it fails as such.
  export CARD2_INSERT_CMD="$build/drivers/ifd/cnie-sim --reader 1 insert $build/cards/blocked"
  export CARD2_REMOVE_CMD="$build/drivers/ifd/cnie-sim --reader 1 remove"
fi
cd "$work"
# The test fetches the portal page itself too (to widen its CSP for a dead
# bridge port): node trusts the portal CA.
NODE_EXTRA_CA_CERTS="\$PORTAL_CA" node demo.test.mjs
EOS
chmod +x "$tmp/browse.sh"
export PINENTRY_SCRIPT_PIN=1234 PINENTRY_SCRIPT_CAN=123456 PINENTRY_SCRIPT_LOG="$tmp/pinentry.log" CNIE_NO_CACHE=1
demo=("$src/scripts/demo" --no-install --no-build --build-dir "$build" --state-dir "$tmp/cnied"
  --pinentry "$src/tests/harness/pinentry-script")
set +e
if [ "$variant" = pcsc ]; then
  export CNIE_BUILD_DIR="$build" CNIE_VIRTUAL_CARDS="ec - -"
  "$src/tests/harness/with-pcscd" --virtual --hide-usb --keep-log "$artifacts/pcscd.log" -- \
    "${demo[@]}" --pcsc --run "$tmp/browse.sh"
elif [ "$variant" = no-reader ]; then
  export CNIE_BUILD_DIR="$build"
  STATE=no-reader "$src/tests/harness/with-pcscd" --hide-usb -- "${demo[@]}" --pcsc --run "$tmp/browse.sh" &&
    STATE=no-service "$src/tests/harness/with-pcscd" --no-pcscd -- "${demo[@]}" --pcsc --run "$tmp/browse.sh"
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
