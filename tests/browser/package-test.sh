#!/usr/bin/env bash
# The npm package of web/ as an integrator gets it: `npm pack` in web/ must
# hold exactly the two modules, their hand-written declarations, README.md
# and package.json; installed from the tarball into an empty project, both
# entry points resolve by name ("@cnie/bridge", "@cnie/bridge/web-eid") and
# export Web eID's API; a portal's TypeScript written against Web eID's
# library (consumer/portal.ts, import changed) type-checks with tsc --strict,
# and a wrong call (sign without its hash function) does not.  The browser
# test (run.sh) runs the same tarball against cnied.
# Exit 77 (skip) only when node is missing (tests/harness/skip.sh: a
# failure under CI=true).
# Usage: package-test.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "$1" && pwd)
# shellcheck source=tests/harness/skip.sh
. "$src/tests/harness/skip.sh"
command -v node >/dev/null 2>&1 || cnie_skip "node not installed (apt-get install nodejs npm)"
command -v npm >/dev/null 2>&1 || { echo "FAIL: node without npm (apt-get install npm)"; exit 1; }

# typescript comes from tests/browser's lock (shared with run.sh).
work="$build/browser"
mkdir -p "$work"
if ! cmp -s "$here/package-lock.json" "$work/package-lock.json" || [ ! -x "$work/node_modules/.bin/tsc" ]; then
  cp "$here/package.json" "$here/package-lock.json" "$work/"
  (cd "$work" && npm ci --no-audit --no-fund --prefer-offline --loglevel=error)
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
(cd "$src/web" && npm pack --json --pack-destination "$tmp" 2>/dev/null) > "$tmp/pack.json"
tarball=$(node -e 'const p=require(process.argv[1]); console.log(p[0].filename)' "$tmp/pack.json")
files=$(node -e 'const p=require(process.argv[1]); console.log(p[0].files.map(f=>f.path).sort().join(" "))' "$tmp/pack.json")
want="README.md cnie-bridge.d.ts cnie-bridge.js package.json web-eid.d.ts web-eid.js"
if [ "$files" = "$want" ]; then echo "PASS npm pack: $tarball holds $files"; else
  echo "FAIL npm pack: $tarball holds '$files', want '$want'"; fail=1; fi

mkdir -p "$tmp/consumer"
cp "$here/consumer/portal.ts" "$here/consumer/tsconfig.json" "$tmp/consumer/"
echo '{"name": "portal", "private": true, "type": "module"}' > "$tmp/consumer/package.json"
(cd "$tmp/consumer" && npm install --no-save --offline --no-audit --no-fund --loglevel=error "$tmp/$tarball")

if (cd "$tmp/consumer" && node --input-type=module -e '
import assert from "node:assert/strict";
const w = await import("@cnie/bridge/web-eid");
const b = await import("@cnie/bridge");
for (const k of ["authenticate", "getSigningCertificate", "sign", "status"]) assert.equal(typeof w[k], "function", k);
assert.equal(w.ErrorCode.ERR_WEBEID_USER_CANCELLED, "ERR_WEBEID_USER_CANCELLED");
assert.equal(new w.UserCancelledError().code, "ERR_WEBEID_USER_CANCELLED");
assert.equal(typeof b.CnieBridge, "function");
assert.equal(b.ErrorCode.NO_CARD, "no-card");
'); then echo "PASS both entry points resolve by name from the installed tarball"; else
  echo "FAIL the installed package does not resolve or export the API"; fail=1; fi

tsc="$work/node_modules/.bin/tsc"
if (cd "$tmp/consumer" && "$tsc" -p tsconfig.json); then
  echo "PASS a Web eID portal's TypeScript type-checks against the package (tsc --strict)"
else
  echo "FAIL tsc on consumer/portal.ts"; fail=1
fi
# The declarations must catch a wrong call: sign() without its hash function.
cat > "$tmp/consumer/bad.ts" <<'TS'
import * as webeid from "@cnie/bridge/web-eid";
export const p = webeid.sign("MII=", "AAAA");
TS
sed 's/"portal.ts"/"bad.ts"/' "$tmp/consumer/tsconfig.json" > "$tmp/consumer/tsconfig.bad.json"
if (cd "$tmp/consumer" && "$tsc" -p tsconfig.bad.json >"$tmp/bad.log" 2>&1); then
  echo "FAIL tsc accepted sign() without a hash function"; fail=1
elif grep -q "TS2554" "$tmp/bad.log"; then
  echo "PASS tsc refuses sign() without a hash function (TS2554)"
else
  echo "FAIL tsc failed for another reason:"; cat "$tmp/bad.log"; fail=1
fi
exit "$fail"
