#!/usr/bin/env bash
# browser.l10n: the demo portal in Arabic, French and English (headless
# Debian chromium through playwright-core, as tests/browser/run.sh).  The
# portal (web/demo/server.py) serves the build's JSON catalogues
# (BUILD/po/json, made from po/*.po); no bridge runs, so the page shows the
# "software not installed" state with its help list.  tests/browser/
# l10n.test.mjs asserts the texts, lang and dir, the mirrored layout and the
# language chooser.  Screenshots: BUILD/browser-artifacts/l10n/.  The
# Arabic glyphs need a font with Arabic (fonts-noto-core: a page of empty
# boxes must not pass unseen, so the test fails without it).
# Usage: l10n.sh BUILD_DIR
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
fc-list ':lang=ar' family | grep -q . ||
  { echo "FAIL: no font with Arabic glyphs (apt-get install fonts-noto-core)"; exit 1; }
for l in ar fr; do
  [ -f "$build/po/json/$l.json" ] || { echo "FAIL: $build/po/json/$l.json not built"; exit 1; }
done

work="$build/browser"
artifacts="$build/browser-artifacts/l10n"
mkdir -p "$work" "$artifacts"
rm -f "$artifacts"/*.png
if ! cmp -s "$here/package-lock.json" "$work/package-lock.json" || [ ! -d "$work/node_modules/playwright-core" ]; then
  cp "$here/package.json" "$here/package-lock.json" "$work/"
  (cd "$work" && npm ci --no-audit --no-fund --prefer-offline --loglevel=error)
fi
cp "$here/l10n.test.mjs" "$work/"

tmp=$(mktemp -d)
portal_pid=
cleanup() {
  if [ -n "$portal_pid" ]; then
    kill "$portal_pid" 2>/dev/null || true
    wait "$portal_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
# The bridge URL points at a port where nothing listens (port 9: discard).
python3 "$src/web/demo/server.py" --listen 127.0.0.1:0 --bridge https://127.0.0.1:9 \
  --card-ca "$build/cards/pki/citizen-ca.pem" --tls-dir "$tmp/tls" --port-file "$tmp/portal.url" \
  --i18n-dir "$build/po/json" >"$tmp/portal.log" 2>&1 &
portal_pid=$!
for _ in $(seq 100); do
  [ -s "$tmp/portal.url" ] && break
  kill -0 "$portal_pid" 2>/dev/null || { cat "$tmp/portal.log"; echo "FAIL: the portal did not start"; exit 1; }
  sleep 0.1
done
[ -s "$tmp/portal.url" ] || { cat "$tmp/portal.log"; echo "FAIL: the portal did not start"; exit 1; }
export PORTAL_URL
PORTAL_URL=$(head -n1 "$tmp/portal.url")
export ARTIFACTS="$artifacts" CHROMIUM="$chromium" CATALOGUES="$build/po/json" HOME="$tmp/home"
mkdir -p "$HOME"
cd "$work"
node l10n.test.mjs
echo "screenshots: $artifacts"
