#!/usr/bin/env bash
# Debian's firefox-esr on a fresh profile, after `cnie-tool register`:
#  1. Firefox itself (headless) loads the module from its profile and reads
#     the token: the virtual reader counts the APDUs Firefox's process sent;
#  2. TLS client authentication with the card's authentication key through
#     that same profile database (NSS tstclnt, the PIN from a file, against
#     `openssl s_server` on loopback requiring a certificate of the test
#     citizen CA);
#  3. after `cnie-tool bridge trust`, the same database trusts the bridge
#     (tstclnt to a running cnied verifies its certificate; before: refused).
#
# usage: firefox_nss.sh BUILD_DIR CNIE_TOOL MODULE CNIED CNIE_SIM
#        (under tests/harness/with-pcscd --virtual; CNIE_SIM_BASE set by it)
# A missing firefox-esr or NSS tool is a skip, and a failure under CI=true
# (tests/harness/skip.sh).  Not registered in sanitizer builds
# (tests/suites/firefox.cmake): Firefox cannot load an instrumented module.
set -euo pipefail
# shellcheck source=tests/harness/skip.sh
. "$(dirname "$0")/../harness/skip.sh"
build=$1 tool=$2 module=$(realpath "$3") cnied=$4 sim=$5
for t in firefox-esr certutil tstclnt openssl; do
  command -v "$t" >/dev/null || cnie_skip "$t not installed (scripts/deps.d/package.sh)"
done
T=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$T"; }
trap cleanup EXIT
[ -n "${CNIE_KEEP_TMP:-}" ] && trap - EXIT && echo "kept $T"
export HOME=$T/home XDG_STATE_HOME=$T/state XDG_CACHE_HOME=$T/cache
mkdir -p "$HOME"
fail=0
ok() { echo "ok   - $*"; }
bad() { echo "FAIL - $*"; fail=1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
apdus() { "$sim" --reader 0 status | python3 -c 'import json,sys; print(json.load(sys.stdin)["apdus"])'; }

# A fresh Firefox ESR profile where Firefox ESR puts it (XDG layout).
prof=$HOME/.config/mozilla/firefox/t1.cnie
timeout 60 firefox-esr --headless -CreateProfile "cnie $prof" >/dev/null 2>&1 || true
[ -d "$prof" ] && ok "firefox-esr -CreateProfile: ${prof#"$HOME"/}" || { bad "no profile"; exit 1; }
# A profile that never ran: register makes its database (as Firefox's
# first start would) and adds the module.
o=$("$tool" register --module "$module" 2>&1) || true
grep -q "^registered .*t1.cnie" <<<"$o" && ok "cnie-tool register: $(grep t1.cnie <<<"$o")" || { echo "$o"; bad "register"; }

# 1. Firefox loads it and reads the card.
before=$(apdus)
timeout 120 firefox-esr --headless --profile "$prof" --screenshot "$T/shot.png" about:blank >"$T/ff.log" 2>&1 || true
after=$(apdus)
[ "$after" -gt "$before" ] && ok "Firefox's process read the card through the module ($((after - before)) APDUs)" ||
  { tail -n 20 "$T/ff.log"; bad "Firefox sent no APDU ($before -> $after)"; }
grep -q "^library=$module\$" "$prof/pkcs11.txt" && ok "the profile still lists the module after Firefox ran" ||
  bad "Firefox dropped the module from pkcs11.txt"
nick=$(certutil -L -d "sql:$prof" -h all 2>/dev/null | sed -n 's/^\(CNIE [0-9A-Fa-f]*:[^ ].*[^ ]\)  *[a-zA-Z,]*,[a-zA-Z,]*$/\1/p' | head -n1 || true)
certutil -L -d "sql:$prof" -h all >"$T/certs.txt" 2>&1 || true
[ -n "$nick" ] && ok "the profile's database sees the card's certificates: $(grep -c '^CNIE ' "$T/certs.txt") (e.g. $nick)" ||
  { cat "$T/certs.txt"; bad "no card certificate through the profile"; }

# 2. TLS client authentication with the card, through the profile
# (tests/browser/tls_client_auth.sh, shared with the contactless NSS test).
# shellcheck source=tests/browser/tls_client_auth.sh
. "$(dirname "$0")/tls_client_auth.sh"
pki=$build/cards/pki
# The card's authentication certificate (the module labels it so).
auth=$(sed -n 's/^\(CNIE [0-9A-Fa-f]*:Authentication[^,]*[^ ,]\)  *[a-zA-Z]*,[a-zA-Z]*,[a-zA-Z]*$/\1/p' "$T/certs.txt" | head -n1)
umask 077; printf '1234' >"$T/pin"   # the test card's PIN (docs/card-profile.md)
mkdir -p "$T/tls"
# Without the card's certificate the server refuses (the check can fail).
mkdir -p "$T/plain" && certutil -N --empty-password -d "sql:$T/plain"
tls_client_auth "sql:$T/plain" "" "" "$pki/citizen-ca.pem" "$T/tls" &&
  bad "the server accepted a client without the card" ||
  ok "from a database without the module the server refuses the client"
before=$(apdus)
if [ -n "$auth" ] && tls_client_auth "sql:$prof" "$auth" "$T/pin" "$pki/citizen-ca.pem" "$T/tls" &&
    after=$(apdus) && [ "$after" -gt "$before" ]; then
  ok "TLS client authentication with the card's key ($auth) through the profile ($((after - before)) APDUs)"
else
  bad "TLS client authentication (nickname '${auth:-none}')"
fi

# 3. The bridge: refused before `bridge trust`, trusted after.
bport=$(free_port)
"$cnied" --foreground --listen "127.0.0.1:$bport" --state-dir "$T/cnied" \
  --reference-card="$build/cards/ec" >"$T/cnied.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -f "$T/cnied/ca.pem" ] && (exec 3<>"/dev/tcp/127.0.0.1/$bport") 2>/dev/null && break; sleep 0.1; done
if timeout 20 tstclnt -h 127.0.0.1 -p "$bport" -d "sql:$prof" -Q </dev/null >"$T/b0.log" 2>&1; then
  bad "the bridge was trusted before bridge trust"
else
  ok "before bridge trust the profile refuses the bridge ($(grep -o 'SEC_ERROR_[A-Z_]*\|SSL_ERROR_[A-Z_]*' "$T/b0.log" | head -n1))"
fi
"$tool" bridge trust --state-dir "$T/cnied" >"$T/trust.log" 2>&1 || { cat "$T/trust.log"; bad "bridge trust"; }
if timeout 20 tstclnt -h 127.0.0.1 -p "$bport" -d "sql:$prof" -Q </dev/null >"$T/b1.log" 2>&1; then
  ok "after bridge trust the profile verifies the bridge's certificate"
else
  tail -n 5 "$T/b1.log"; bad "the profile does not trust the bridge after bridge trust"
fi
# 4. register --system: the Firefox policy file at /etc/firefox/policies
# (bind-mounted from a scratch directory in a private mount namespace, so
# the machine's own policies stay untouched) makes a fresh profile that
# was never registered load the module.  Root only (mount).
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
  mkdir -p "$T/etcff/policies" "$T/home2/p"
  "$tool" register --system --policies "$T/etcff/policies/policies.json" --module "$module" >"$T/sys.log" 2>&1 ||
    { cat "$T/sys.log"; bad "register --system"; }
  made=""
  [ -e /etc/firefox ] || { mkdir /etc/firefox && made=1; }
  unshare --mount bash -c 'mount --bind "$1" /etc/firefox && HOME=$2 exec timeout 120 firefox-esr --headless \
    --profile "$2/p" --screenshot "$2/s.png" about:blank' sh "$T/etcff" "$T/home2" >"$T/ff2.log" 2>&1 || true
  [ -n "$made" ] && rmdir /etc/firefox
  grep -q "^library=$module\$" "$T/home2/p/pkcs11.txt" 2>/dev/null &&
    ok "register --system: Firefox ESR loads the module from /etc/firefox/policies/policies.json into a fresh profile" ||
    { tail -n 5 "$T/ff2.log"; bad "the policy did not make Firefox load the module"; }
fi
exit "$fail"
